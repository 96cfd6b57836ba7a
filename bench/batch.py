"""Benchmark: many department × month partitions loaded one run after another (in process, as `bs-credit run`
does) against one intake_batch_job run (multiprocess executor: intakes 2 at a time, loads one at a time).

    python -m bench.batch [--partitions 4] [--rows 50000]

Each partition holds one penalty workbook of ROWS rows (bench/intake.py's rows, decision numbers made distinct per
partition). Each way runs in a child process on its own fresh home; its whole process tree is sampled (wall,
CPU seconds, peak RSS). Both ways end with the same warehouse (checked: current records per partition).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bench.intake import OUT, rows, write_xlsx
from bench.scale import measured

MONTHS = ["2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
KEY = "bench-key-not-secret-0123456789"


def inputs(partitions: int, n: int) -> list[Path]:
    """One workbook per partition, cached in bench/out/."""
    OUT.mkdir(exist_ok=True)
    paths = []
    for p in range(partitions):
        path = OUT / f"batch_{n}_{p}.xlsx"
        if not path.exists():
            def distinct(p=p):
                for i, row in enumerate(rows(n)):
                    row[5] = f"保市监罚〔2026〕{p}-{i}号"
                    yield row
            write_xlsx(path, distinct())
        paths.append(path)
    return paths


def _home(root: Path, files: list[Path]):
    from bs_credit_pipeline.paths import Home

    home = Home(root).ensure()
    for path, month in zip(files, MONTHS):
        folder = home.inbox / "scjgj" / month
        folder.mkdir(parents=True)
        shutil.copy(path, folder / "行政处罚信息.xlsx")
    return home


def _current(home) -> dict[str, int]:
    import duckdb

    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        return dict(conn.execute("SELECT month, count(*) FROM core.credit_record WHERE valid_to IS NULL "
                                 "GROUP BY ALL ORDER BY ALL").fetchall())


def child(way: str, root: Path, files: list[Path]) -> dict:
    from bs_credit_pipeline.defs.partitions import partition_key
    from bs_credit_pipeline.defs.run import QUIET, prepare_instance, run_batch

    home = _home(root, files)
    partitions = [("scjgj", m) for m in MONTHS[:len(files)]]
    if way == "batch":
        ok = run_batch(home, partitions).success
    else:
        from bs_credit_pipeline.definitions import defs

        instance, job = prepare_instance(home), defs.resolve_job_def("intake_job")
        ok = all(job.execute_in_process(instance=instance, partition_key=partition_key(d, m), run_config=QUIET).success
                 for d, m in partitions)
    return {"success": ok, "current_records": _current(home)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partitions", type=int, default=4, choices=range(2, len(MONTHS) + 1))
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--child", choices=["sequential", "batch"], help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ["BS_CREDIT_PSEUDONYM_KEY"] = KEY
    files = inputs(args.partitions, args.rows)
    if args.child:
        print(json.dumps(child(args.child, args.root, files)))
        return
    work = Path(tempfile.mkdtemp(prefix="bench_batch_"))
    try:
        results = {}
        for way in ("sequential", "batch"):
            results[way] = measured([sys.executable, "-m", "bench.batch", "--partitions", str(args.partitions),
                                     "--rows", str(args.rows), "--child", way, "--root", str(work / way)], way)
            print(json.dumps(results[way], ensure_ascii=False), flush=True)
        same = results["sequential"]["current_records"] == results["batch"]["current_records"]
        print(json.dumps({"same_warehouse": same,
                          "wall_ratio_sequential_over_batch": round(results["sequential"]["wall_s"]
                                                                    / results["batch"]["wall_s"], 2),
                          "cpu_ratio_batch_over_sequential": round(results["batch"]["cpu_s"]
                                                                   / results["sequential"]["cpu_s"], 2)}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
