"""Benchmark: the nightly lists at province-like scale, on DuckDB and on Spark local mode, side by side.

    python -m bench.scale [--records 10000000 50000000] [--engines duckdb spark] [--work DIR]

For each size: the synthetic warehouse of bench/lists.py (same generator, same mix of kinds) is generated into
DuckDB, exported to the Parquet lake (lake/export.py), and the full list build as of AS_OF (lists.build_all with
the points, government-integrity and scorecard steps: every mart table computed from scratch, which is what the
Spark engine does every night) runs once per engine, each in a child process. The parent samples the child's
whole process tree (the JVM and Python workers of Spark included) every 0.5 s: wall time, CPU seconds, peak
RSS of the tree; disk is the size of the warehouse file, the lake and the engine's scratch space. The load
average is printed with every figure (the machine is shared). Results as JSON lines on stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.lists import AS_OF, MEMORY_LIMIT
from bs_credit_pipeline.engines import ENGINES

SPARK_MASTER = "local[2]"
# Spark local mode's sizing for this machine (24 GiB, 2 cores): the driver is the executor; 16 shuffle partitions
# keep each task's share of a 50 M-row join in memory, adaptive execution merges the small ones.
SPARK_SIZING = {"spark.driver.memory": "8g", "spark.sql.shuffle.partitions": "16"}


def disk_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def _stat(pid: int) -> tuple[int, int, str] | None:
    """(parent pid, utime + stime ticks, start time) of a process, None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), int(fields[11]) + int(fields[12]), fields[19]


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeSampler(threading.Thread):
    """Peak RSS (sum over the tree) and CPU ticks of a process and all its descendants, every 0.5 s."""

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root, self.stop, self.peak_kib, self.ticks = root, threading.Event(), 0, {}

    def tree(self) -> list[int]:
        parents = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and (stat := _stat(int(entry.name))):
                parents[int(entry.name)] = stat[0]
        found, frontier = [self.root], [self.root]
        while frontier:
            children = [pid for pid, parent in parents.items() if parent in frontier]
            found += children
            frontier = children
        return found

    def run(self) -> None:
        while not self.stop.is_set():
            pids = self.tree()
            self.peak_kib = max(self.peak_kib, sum(_rss_kib(pid) for pid in pids))
            for pid in pids:
                if stat := _stat(pid):
                    self.ticks[(pid, stat[2])] = stat[1]
            time.sleep(0.5)

    def cpu_seconds(self) -> float:
        return sum(self.ticks.values()) / os.sysconf("SC_CLK_TCK")


def measured(cmd: list[str], label: str) -> dict:
    """Run a child command; its wall time, CPU seconds and peak RSS of its process tree, and its JSON output."""
    load = os.getloadavg()
    before = os.times()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    out, _ = proc.communicate()
    wall = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    after = os.times()
    children_cpu = after.children_user + after.children_system - before.children_user - before.children_system
    if proc.returncode != 0:
        raise SystemExit(f"{label} failed (exit {proc.returncode})")
    result = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    return {"step": label, "wall_s": round(wall, 1),
            "cpu_s": round(max(children_cpu, sampler.cpu_seconds()), 1),  # the JVM is not always waited for
            "peak_rss_gib": round(sampler.peak_kib / 2**20, 2),
            "load_average_start": [round(x, 1) for x in load],
            "load_average_end": [round(x, 1) for x in os.getloadavg()], **result}


class StepTimes(logging.Handler):
    """The per-step seconds build_all logs ("lists <step> as of <date>: <s> s"), collected for the result."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.seconds: dict[str, float] = {}
        logger = logging.getLogger("bs_credit_pipeline.lists")
        logger.setLevel(logging.INFO)
        logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg.startswith("lists %s as of"):
            self.seconds[record.args[0]] = round(record.args[2], 1)


def child_generate(db: Path, records: int) -> dict:
    from bench.lists import generate

    generate(db, records)
    return {}


def child_duckdb(db: Path) -> dict:
    """The full list build on DuckDB, as the first night builds it (every table from scratch)."""
    import duckdb

    from bs_credit_pipeline.lists import build_all, load_rules
    from bs_credit_pipeline.pipeline import evaluation_steps  # the nightly job's full set

    conn = duckdb.connect(str(db))
    conn.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    conn.execute("SET enable_progress_bar = false")
    steps = StepTimes()
    t = time.perf_counter()
    counts = build_all(conn, AS_OF, load_rules(), extra_steps=evaluation_steps())
    build = time.perf_counter() - t
    conn.close()
    return {"build_s": round(build, 1), "rows": counts, "step_s": steps.seconds}


def child_lake(db: Path) -> dict:
    """Export the warehouse to the Parquet lake beside it (lake/export.py, every table whole)."""
    import duckdb

    from bs_credit_pipeline import lake
    from bs_credit_pipeline.contracts import Registry

    conn = duckdb.connect(str(db), read_only=True)
    conn.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    conn.execute("SET enable_progress_bar = false")
    written = lake.export(conn, db.parent / "lake", Registry.load())
    conn.close()
    return {"lake_rows": written}


def child_spark(db: Path) -> dict:
    """The full list build on Spark SQL, local mode, over the lake beside the warehouse; marts written there."""
    from bs_credit_pipeline.engines.spark import SparkConnection, register_lake, session
    from bs_credit_pipeline.lists import build_all, load_rules
    from bs_credit_pipeline.pipeline import evaluation_steps  # the nightly job's full set

    root, scratch = db.parent / "lake", db.parent / "spark"
    spark = session(SPARK_MASTER, work_dir=scratch, conf=SPARK_SIZING)
    try:
        register_lake(spark, root)
        conn = SparkConnection(spark, root)
        steps = StepTimes()
        t = time.perf_counter()
        counts = build_all(conn, AS_OF, load_rules(), extra_steps=evaluation_steps(), transaction=False)
        return {"build_s": round(time.perf_counter() - t, 1), "rows": counts, "statements": conn.statements,
                "step_s": steps.seconds, "spark_conf": SPARK_SIZING}
    finally:
        spark.stop()


CHILDREN = {"generate": child_generate, "duckdb": child_duckdb, "lake": child_lake, "spark": child_spark}


def run_size(records: int, engines: list[str], work: Path):
    """Generate (unless the warehouse is there from an earlier run), then the lists on each engine; yields each
    measured step as it ends (a long run stopped half-way keeps what it measured)."""
    work.mkdir(parents=True, exist_ok=True)
    db = work / "warehouse.duckdb"
    me = [sys.executable, "-m", "bench.scale", "--child"]
    if not db.exists():
        row = measured([*me, "generate", "--db", str(db), "--records", str(records)], "generate")
        yield {**row, "records": records, "warehouse_gib": round(disk_bytes(db) / 2**30, 2)}
    if "spark" in engines and not (work / "lake").exists():
        yield {**measured([*me, "lake", "--db", str(db)], "export to the lake"), "records": records}
    for engine in engines:
        row = measured([*me, engine, "--db", str(db)], f"lists on {engine}")
        # DuckDB: core + ops + the mart tables it built; Spark: the lake (its marts under mart/) and its scratch
        yield {**row, "records": records, "warehouse_gib": round(disk_bytes(db) / 2**30, 2),
               "lake_gib": round(disk_bytes(work / "lake") / 2**30, 2),
               "spark_scratch_gib": round(disk_bytes(work / "spark") / 2**30, 2)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[10_000_000, 50_000_000])
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=list(ENGINES))
    parser.add_argument("--work", type=Path, help="keep the generated warehouses here (default: a temporary dir)")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kwargs = {"db": args.db} | ({"records": args.records[0]} if args.child == "generate" else {})
        print(json.dumps(CHILDREN[args.child](**kwargs), ensure_ascii=False))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_scale_"))
    try:
        for records in args.records:
            for row in run_size(records, args.engines, work / f"{records // 1_000_000}M"):
                print(json.dumps(row, ensure_ascii=False), flush=True)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
