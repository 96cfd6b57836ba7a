"""Benchmark: build the analyst snapshot (analytics.duckdb) of an existing warehouse, e.g. the nightly one.

    python -m bench.snapshot --db PATH [--repeat 2]

Prints JSON: the build's wall time, the snapshot's size and its row counts. Run it after `python -m bench.lists
--db PATH` to time the snapshot of the 10 M-record warehouse with every mart table built.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

from bs_credit_pipeline.warehouse.snapshot import build_snapshot


def _cpu() -> float:
    """User + system CPU seconds of this process (the machine may be shared: wall time alone misleads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_snapshot_") as work:
        for _ in range(args.repeat):
            started, cpu = time.perf_counter(), _cpu()
            info = build_snapshot(args.db, Path(work) / "analytics.duckdb", os.urandom(32))
            print(json.dumps({"snapshot_s": round(time.perf_counter() - started, 1),
                              "cpu_s": round(_cpu() - cpu, 1), "records": info.records,
                              "subjects": info.subjects, "size_gb": round(info.size_bytes / 2**30, 2),
                              "load_average_1m": round(os.getloadavg()[0], 1),
                              "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)}))


if __name__ == "__main__":
    main()
