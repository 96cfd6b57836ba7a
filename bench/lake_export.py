"""Benchmark: the incremental lake export (lake/export.py) at 1 M records.

    python -m bench.lake_export [--records 1000000] [--dir DIR]

Three exports of bench/lists.py's synthetic warehouse to a lake beside it, in this process: the first (every table
whole, manifests written: what every Spark nightly did before the export was incremental), again with the
warehouse unchanged (fingerprints only), and after one department-month changed as a resubmission changes it
(CHANGED records corrected, WITHDRAWN withdrawn, NEW new). Wall and CPU seconds (this process: DuckDB's threads),
rows and partitions written, lake size. Prints JSON; the result goes in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import lists as bench_lists
from .scale import disk_bytes

CHANGED, WITHDRAWN, NEW = 200, 20, 50
# one department-month of the generated warehouse (scjgj: 75 % of its records, spread over ~100 months)
DEPARTMENT, MONTH = "scjgj", "2024-05"

RESUBMISSION = """
CREATE TEMP TABLE pick AS
SELECT version_id, row_number() OVER (ORDER BY hash(version_id)) AS n FROM core.credit_record
WHERE valid_to IS NULL AND department = '{department}' AND month = '{month}';
INSERT INTO core.credit_record
SELECT r.* REPLACE (r.record_id || '|2' AS version_id, 2 AS version, '罚款、警告' AS category,
                   now() AS valid_from, 'corrected' AS change_reason)
FROM core.credit_record r JOIN pick p USING (version_id) WHERE p.n <= {changed};
INSERT INTO core.credit_record
SELECT r.* REPLACE ('new' || r.record_id || '|1' AS version_id, 'new' || r.record_id AS record_id, now() AS valid_from)
FROM core.credit_record r JOIN pick p USING (version_id) WHERE p.n > {changed} + {withdrawn}
  AND p.n <= {changed} + {withdrawn} + {new};
UPDATE core.credit_record SET valid_to = now(), change_reason = 'withdrawn'
WHERE version_id IN (SELECT version_id FROM pick WHERE n <= {changed} + {withdrawn});
DROP TABLE pick;
"""


def _export(conn, root: Path, label: str) -> dict:
    from bs_credit_pipeline import lake
    from bs_credit_pipeline.contracts import Registry

    c0, t0 = bench_lists.cpu(), time.perf_counter()
    written = lake.export(conn, root, Registry.load())
    wall, cpu = time.perf_counter() - t0, bench_lists.cpu() - c0
    return {"step": label, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "rows_written": sum(written.values()),
            "tables_written": sum(1 for n in written.values() if n), "load_average_1m": round(os.getloadavg()[0], 1)}


def run(records: int, work: Path) -> dict:
    import duckdb

    generated = work / f"warehouse-{records}.duckdb"
    if not generated.exists():
        bench_lists.generate(generated, records)
    db, root = work / "warehouse.duckdb", work / "lake"
    shutil.copy(generated, db)
    shutil.rmtree(root, ignore_errors=True)
    conn = duckdb.connect(str(db))
    conn.execute(f"SET memory_limit = '{bench_lists.MEMORY_LIMIT}'")
    conn.execute("SET enable_progress_bar = false")
    partitions = conn.execute("SELECT count(DISTINCT (department, month)) FROM core.credit_record").fetchone()[0]
    steps = [_export(conn, root, "full export (empty lake)")]
    lake_gib = disk_bytes(root) / 2**30
    steps.append(_export(conn, root, "re-export, warehouse unchanged"))
    conn.execute(RESUBMISSION.format(department=DEPARTMENT, month=MONTH, changed=CHANGED, withdrawn=WITHDRAWN,
                                     new=NEW))
    steps.append(_export(conn, root, f"re-export after {DEPARTMENT} {MONTH} changed"))
    conn.close()
    return {"records": records, "credit_record_partitions": partitions, "lake_gib": round(lake_gib, 3),
            "steps": steps}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, help="work folder (kept; the generated warehouse is reused)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    work = args.dir or Path(tempfile.mkdtemp(prefix="bench_lake_export_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        print(json.dumps(run(args.records, work), ensure_ascii=False, indent=1))
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
