"""Warehouse benchmark: ten monthly batches of 1 M records (~20 % corrections of earlier records) loaded one
after another, then the analyst snapshot. Writes the "Warehouse" section of bench/RESULTS.md.

    python -m bench.warehouse [--batches 10] [--rows 1000000] [--workdir DIR] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from bs_credit_pipeline.warehouse import schema
from bs_credit_pipeline.warehouse.load import load_partition
from bs_credit_pipeline.warehouse.snapshot import build_snapshot
from bs_credit_pipeline.warehouse.staged import staged_files
from bs_credit_pipeline_tests.synthetic import citizen_id, uscc, write_staged

DEPARTMENT = "scjgj"
ORGS, PERSONS = 200_000, 500_000
PROMOTE = {"admin_penalty": {"category": "penalty_types", "end_date": "publicity_end_date",
                             "severity": "severity", "legal_rep_name": "legal_rep_name",
                             "legal_rep_id": "legal_rep_id_number"}}
RESULTS = Path(__file__).parent / "RESULTS.md"


def month_of(batch: int) -> str:
    return f"2025-{batch + 1:02d}"


def generate(workdir: Path, batches: int, rows: int) -> None:
    """Write the staging Parquet of every batch (run in a child process so its memory is not counted)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE orgs AS SELECT unnest($v) AS uscc, generate_subscripts($v, 1) - 1 AS i",
                {"v": [uscc(i, division=("530502", "530521", "530581")[i % 3]) for i in range(ORGS)]})
    con.execute("CREATE TABLE persons AS SELECT unnest($v) AS pid, generate_subscripts($v, 1) - 1 AS i",
                {"v": [citizen_id(i, birth=f"19{60 + i % 40}{1 + i % 12:02d}{1 + i % 28:02d}")
                       for i in range(PERSONS)]})
    updates = rows // 5
    for b in range(batches):
        if b == 0:
            ids = f"SELECT i AS n, 0 AS rev FROM range({rows}) r(i)"
        else:
            first_new = rows + (b - 1) * (rows - updates)
            ids = (f"SELECT i AS n, 0 AS rev FROM range({first_new}, {first_new + rows - updates}) r(i) UNION ALL "
                   f"SELECT hash(i * 7919 + {b}) % {first_new} AS n, {b} AS rev FROM range({updates}) r(i)")
        table = con.sql(
            f"""WITH ids AS (SELECT DISTINCT ON (n) n, rev FROM ({ids}))
                SELECT CASE WHEN n % 10 < 7 THEN '保山市' || (n % {ORGS}) || '商贸有限公司'
                            ELSE '测试人' || (n % {PERSONS}) END AS subject_name,
                       CASE WHEN n % 10 < 7 THEN '法人及非法人组织' ELSE '自然人' END AS subject_category,
                       CASE WHEN n % 10 < 7 THEN o.uscc END AS uscc,
                       CASE WHEN n % 10 >= 7 THEN p.pid END AS id_number,
                       CASE WHEN n % 10 < 7 THEN '法人' || (n % 997) END AS legal_rep_name,
                       CASE WHEN n % 10 < 7 THEN lp.pid END AS legal_rep_id_number,
                       '保市监罚〔2025〕' || n || '号' AS decision_no,
                       '违反《中华人民共和国食品安全法》第三十四条' AS violation_type,
                       '经查，当事人于检查中被发现经营超过保质期的食品，货值金额' || (n % 5000) || '元，违法所得'
                           || (n % 300) || '元。' AS violation_facts,
                       '《中华人民共和国食品安全法》第一百二十四条' AS penalty_basis,
                       CASE n % 3 WHEN 0 THEN '罚款' WHEN 1 THEN '警告' ELSE '罚款、没收违法所得' END AS penalty_types,
                       '罚款人民币' || (n % 50 + rev) || '千元' AS penalty_content,
                       round((n % 50 + rev) / 10.0, 2)::DOUBLE AS fine_amount,
                       CASE n % 3 WHEN 1 THEN '轻微' ELSE '一般' END AS severity,
                       DATE '2024-01-01' + (n % 600)::INTEGER AS decision_date,
                       DATE '2025-01-01' + (n % 600)::INTEGER AS publicity_end_date,
                       '保山市市场监督管理局' AS authority, '11530500MB0000000X' AS authority_uscc,
                       CASE WHEN rev > 0 THEN '第' || rev || '次更正' END AS remarks
                FROM ids
                JOIN orgs AS o ON o.i = n % {ORGS}
                JOIN persons AS p ON p.i = n % {PERSONS}
                JOIN persons AS lp ON lp.i = (n * 31) % {PERSONS}"""
        ).to_arrow_table()
        write_staged(workdir / "staging", DEPARTMENT, month_of(b), table, kind="admin_penalty",
                     key_columns=["decision_no"], date_column="decision_date", file_name=f"处罚{b}.xlsx",
                     received_at=datetime(2025, b + 2, 3, tzinfo=timezone.utc), sha256=f"{b:064x}")


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def run(workdir: Path, batches: int, rows: int) -> str:
    started = time.perf_counter()
    if not all((workdir / "staging" / DEPARTMENT / month_of(b)).is_dir() for b in range(batches)):
        subprocess.run([sys.executable, "-m", "bench.warehouse", "--generate-only", "--workdir", str(workdir),
                        "--batches", str(batches), "--rows", str(rows)], check=True)
    generated = time.perf_counter() - started
    db = workdir / "warehouse.duckdb"
    db.unlink(missing_ok=True)
    conn = schema.connect(db)
    schema.migrate(conn)
    lines = ["| batch | rows staged | new | corrected | unchanged | closed | new subjects | seconds | versions in table |",
             "|---|---|---|---|---|---|---|---|---|"]
    times = []
    for b in range(batches):
        month = month_of(b)
        result = load_partition(conn, department=DEPARTMENT, month=month,
                                staged=staged_files(workdir / "staging", DEPARTMENT, month),
                                now=datetime(2025, b + 2, 5, tzinfo=timezone.utc), promote=PROMOTE)
        total = conn.execute("SELECT count(*) FROM core.credit_record").fetchone()[0]
        times.append(result.duration_s)
        lines.append(f"| {b + 1} | {result.rows_staged:,} | {result.inserted_new:,} | {result.inserted_corrected:,} | "
                     f"{result.unchanged:,} | {result.versions_closed:,} | {result.subjects_new:,} | "
                     f"{result.duration_s:.1f} | {total:,} |")
        print(lines[-1], flush=True)
    reload_start = time.perf_counter()
    month = month_of(batches - 1)
    again = load_partition(conn, department=DEPARTMENT, month=month,
                           staged=staged_files(workdir / "staging", DEPARTMENT, month),
                           now=datetime(2026, 1, 1, tzinfo=timezone.utc), promote=PROMOTE)
    reload_s = time.perf_counter() - reload_start
    current, subjects = conn.execute(
        "SELECT (SELECT count(*) FROM core.current_record), (SELECT count(*) FROM core.subject)").fetchone()
    conn.close()
    db_size = db.stat().st_size
    rss_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    snap = build_snapshot(db, workdir / "analytics.duckdb", os.urandom(32))
    rss_all = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    second = build_snapshot(db, workdir / "analytics.duckdb", os.urandom(32))
    summary = [
        f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs ({cpu_model()}), "
        f"DuckDB {duckdb.__version__}, memory_limit {schema.MEMORY_LIMIT}; `python -m bench.warehouse "
        f"--batches {batches} --rows {rows}`. Staging generation (child process, not timed below; reused when "
        f"--workdir already holds it): {generated:.0f} s.",
        "",
        *lines,
        "",
        "- each batch is a new month of one department; after the first, ~20 % of its rows are changed copies of "
        "earlier months' records (the cross-partition correction path), the rest new; 70 % organisations with a "
        "legal representative, 30 % persons; every row's payload has 19 contract columns",
        f"- load time per batch: min {min(times):.1f} s, max {max(times):.1f} s, total {sum(times):.0f} s "
        f"(target <= 30 s each)",
        f"- reloading the last partition unchanged: {reload_s:.1f} s, {again.inserted_new + again.inserted_corrected} "
        f"rows inserted, {again.versions_closed} closed",
        f"- final: {current:,} current records, {subjects:,} subjects; warehouse file {db_size / 2**30:.2f} GiB",
        f"- peak RSS of the loading process: {rss_load:,.0f} MiB after the loads, {rss_all:,.0f} MiB after the "
        f"snapshot (target <= 3 GB)",
        f"- snapshot build: {snap.duration_s:.1f} s (second build {second.duration_s:.1f} s), "
        f"file {snap.size_bytes / 2**30:.2f} GiB",
    ]
    return "\n".join(summary)


def write_section(body: str) -> None:
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    section = f"## Warehouse\n\n{body}\n"
    pattern = re.compile(r"^## Warehouse\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true", help="print, do not update bench/RESULTS.md")
    args = parser.parse_args()
    if args.generate_only:
        generate(args.workdir, args.batches, args.rows)
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-warehouse-"))
    try:
        body = run(workdir, args.batches, args.rows)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(body)
    if not args.no_write:
        write_section(body)


if __name__ == "__main__":
    main()
