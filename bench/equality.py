"""Cross-engine equality at scale: the nightly lists on DuckDB and on Spark local[2] over the lake, compared table
by table (count and order-free hash), with wall and CPU times of each engine.

    python -m bench.equality [--records 1000000] [--dir DIR] [--as-of 2026-07-01 ...]

The warehouse is bench/lists.py's synthetic one. The Spark CPU time is the JVM's (its process tree's), read
from /proc; DuckDB's is this process's. Prints JSON; the result goes in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from . import lists as bench_lists


def _jvm_cpu(spark) -> float:
    """CPU seconds of the Spark JVM (the py4j gateway's child process)."""
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()  # noqa: SLF001 - the JVM's own pid
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(records: int, work: Path, days: list[dt.date]) -> dict:
    import duckdb

    from bs_credit_pipeline import lake, lists
    from bs_credit_pipeline.contracts import Registry
    from bs_credit_pipeline.engines import spark as engine
    from bs_credit_pipeline.engines.equality import compare
    from bs_credit_pipeline.pipeline import evaluation_steps

    db = work / "warehouse.duckdb"
    if not db.exists():
        bench_lists.generate(db, records)
    rules = lists.load_rules()
    extra = evaluation_steps()
    duck = duckdb.connect(str(db))
    root = work / "lake"
    started = time.perf_counter()
    lake.export(duck, root, Registry.load(), seed_marts=True)
    export_s = time.perf_counter() - started
    spark = engine.session("local[2]", work)
    engine.register_lake(spark, root)
    sconn = engine.SparkConnection(spark, root)
    out = {"records": records, "export_s": round(export_s, 1), "days": []}
    for day in days:
        c0, t0 = bench_lists.cpu(), time.perf_counter()
        lists.build_all(duck, day, rules, extra_steps=extra, transaction=False)
        duck_s, duck_cpu = time.perf_counter() - t0, bench_lists.cpu() - c0
        j0, t0 = _jvm_cpu(spark), time.perf_counter()
        lists.build_all(sconn, day, rules, extra_steps=extra, transaction=False)
        spark_s, spark_cpu = time.perf_counter() - t0, _jvm_cpu(spark) - j0
        unequal = []
        for table in (*lists.MART_TABLES, "integrity_score", "gov_integrity", "gov_warning", "department_scorecard"):
            cur = duck.execute(f"SELECT * FROM mart.{table}")
            columns = [d[0] for d in cur.description]
            frame = spark.table(f"mart.{table}")
            result = compare(f"mart.{table}", columns, cur.fetchall(), frame.columns, [tuple(r) for r in frame.collect()])
            if not result.equal:
                unequal.append(result.diff(3))
        out["days"].append({"as_of": day.isoformat(), "duckdb_s": round(duck_s, 1), "duckdb_cpu_s": round(duck_cpu, 1),
                            "spark_s": round(spark_s, 1), "spark_jvm_cpu_s": round(spark_cpu, 1),
                            "equal": not unequal, "unequal": unequal})
    out["load"] = os.getloadavg()
    spark.stop()
    duck.close()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--as-of", nargs="*", default=["2026-06-30", "2026-07-01", "2026-07-02"])
    args = parser.parse_args(argv)
    days = [dt.date.fromisoformat(d) for d in args.as_of]
    if args.dir:
        args.dir.mkdir(parents=True, exist_ok=True)
        result = run(args.records, args.dir, days)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            result = run(args.records, Path(tmp), days)
    json.dump(result, sys.stdout, indent=1, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
