"""Benchmark: the nightly lists.build_all + publish over a synthetic 10 M-record warehouse.

    python -m bench.lists [--records 10000000] [--db PATH] [--out DIR]

The warehouse is generated with SQL range() in a child process (so its memory does not count). In this
process, the previous night's build (as of AS_OF - 1 day) runs first: that is also the first build of the
warehouse (every table created), timed as `first_build_s`. Then a day's intake changes the warehouse (DAY_NEW
new records, DAY_CORRECTED corrected ones, DAY_WITHDRAWN withdrawn) and the nightly run as of AS_OF is timed:
build_all, then publish, then the repair feedback files of the departments. Wall and CPU times and peak RSS (ru_maxrss, all of it) are printed as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AS_OF = dt.date(2026, 7, 1)
MEMORY_LIMIT = "2GB"
DAY_NEW, DAY_CORRECTED, DAY_WITHDRAWN = 50_000, 10_000, 2_000  # a day's intake, per 10 M records

# kind, share of records (permille), department
KIND_MIX = [
    ("admin_penalty", 600, "scjgj"), ("admin_licence", 150, "scjgj"), ("dishonest_debtor", 20, "fy"),
    ("serious_dishonesty", 10, "swj"), ("good_record", 50, "swj"), ("volunteer_service", 120, "wmb"),
    ("civil_servant_record", 30, "rsj"), ("gov_integrity_record", 20, "czj"),
]


def _kind_case() -> str:
    whens, upto = [], 0
    for kind, share, dept in KIND_MIX:
        upto += share
        whens.append(f"WHEN i % 1000 < {upto} THEN struct_pack(kind := '{kind}', dept := '{dept}')")
    return "CASE " + " ".join(whens) + " END"


GENERATE = """
CREATE TABLE bench_person AS
SELECT i AS n, body || substr('10X98765432', (list_sum(list_transform(range(17),
          lambda k: CAST(substr(body, k + 1, 1) AS INTEGER) * [7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2][k + 1])) % 11)::BIGINT + 1, 1)
       AS sid
FROM (SELECT i, '530502' || strftime(DATE '1950-01-01' + CAST(i % 18000 AS INTEGER), '%Y%m%d')
             || lpad(CAST(i // 18000 % 1000 AS VARCHAR), 3, '0') AS body FROM range({persons}) t(i));
CREATE TABLE bench_rec AS
SELECT i, {kind_case} AS kd,
       CASE WHEN i % 10 < 6 THEN 'person' ELSE 'org' END AS stype,
       hash(i * 7919) % {persons} AS pn, hash(i * 104729) % {orgs} AS onum,
       DATE '2018-01-01' + CAST(hash(i) % 3100 AS INTEGER) AS rdate
FROM range({records}) t(i);
INSERT INTO core.credit_record
SELECT 'r' || i || '|1', 'r' || i, 1, kd.kind,
       ['食品药品','安全生产','交通安全','环境保护','税收缴纳','产品质量','金融服务','工程建设'][1 + i % 8],
       CASE WHEN stype = 'person' THEN p.sid ELSE '91530500' || lpad(CAST(onum AS VARCHAR), 10, '0') END,
       stype, CASE WHEN stype = 'person' THEN '张' || (pn % 1000) ELSE '保山市企业' || onum || '有限公司' END,
       rdate,
       CASE WHEN kd.kind = 'dishonest_debtor' AND i % 3 = 0 THEN rdate + 400
            WHEN kd.kind IN ('good_record', 'admin_licence') THEN rdate + 365 END,
       CASE kd.kind WHEN 'admin_penalty' THEN ['罚款','警告','罚款、没收违法所得','吊销许可证件','责令停产停业'][1 + i % 5]
                    WHEN 'civil_servant_record' THEN ['表彰','纪律处分','年度考核'][1 + i % 3]
                    WHEN 'gov_integrity_record' THEN ['上级表彰','失信违约','拖欠账款'][1 + i % 3]
                    WHEN 'serious_dishonesty' THEN '重大税收违法失信主体'
                    WHEN 'good_record' THEN 'A级纳税人' END,
       CASE WHEN kd.kind = 'admin_penalty' AND i % 7 = 0 THEN '严重' END,
       CASE WHEN stype = 'org' THEN '李' || (onum % 500) END,
       CASE WHEN stype = 'org' THEN p.sid END,
       CASE kd.kind
         WHEN 'admin_penalty' THEN '{{"decision_no":"保市监罚〔' || year(rdate) || '〕' || i || '号","penalty_types":"罚款",'
              || '"violation_type":"' || CASE WHEN i % 97 = 0 THEN '非法集资' WHEN i % 89 = 0 THEN '偷税'
                                          ELSE ['生产经营不合格产品','无证经营','超范围经营','虚假宣传'][1 + i % 4] END
              || '","decision_date":"' || rdate || '","authority":"保山市市场监督管理局","fine_amount":'
              || (i % 50) || ',"procedure":"' || CASE WHEN i % 11 = 0 THEN '简易程序' ELSE '普通程序' END || '"}}'
         WHEN 'volunteer_service' THEN '{{"hours":' || (i % 40) || '}}'
         ELSE '{{"case_no":"(' || year(rdate) || ')云05执' || i || '号"}}' END,
       md5(CAST(i AS VARCHAR)), kd.dept, strftime(rdate, '%Y-%m'), 'sub' || (i // 100000), 'sha',
       kd.dept || '_' || strftime(rdate, '%Y%m') || '.xlsx', 'Sheet1', CAST(2 + i % 50000 AS INTEGER),
       TIMESTAMPTZ '2026-01-01 00:00:00+08', NULL, 'new', NULL  -- 004: values as written
FROM bench_rec JOIN bench_person p ON p.n = bench_rec.pn;
INSERT INTO core.repair
SELECT 'rp' || i, 'r' || (i * 97 % {records}), NULL, '行政处罚', NULL, DATE '2026-01-01' + CAST(i % 180 AS INTEGER),
       DATE '2026-02-01' + CAST(i % 150 AS INTEGER), CASE WHEN i % 5 = 0 THEN '不予修复' ELSE '修复' END,
       NULL, NULL, NULL, 'sub', 'Sheet1', 2,
       'fgw', CASE WHEN i % 7 = 0 THEN '否' ELSE '是' END, '是', NULL, '保山市发展和改革委员会',  -- 003: preconditions
       NULL  -- 004: values as written
FROM range({records} // 200) t(i);
INSERT INTO core.objection
SELECT 'ob' || i, 'r' || (i * 89 % {records}), NULL, '行政处罚', NULL, DATE '2026-03-01' + CAST(i % 120 AS INTEGER),
       CASE WHEN i % 3 = 0 THEN NULL ELSE DATE '2026-05-01' + CAST(i % 90 AS INTEGER) END,
       CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN '维持' ELSE '删除' END, NULL, 'sub', 'Sheet1', 2, 'fgw', NULL
FROM range({records} // 500) t(i);
DROP TABLE bench_rec; DROP TABLE bench_person;
"""


def generate(db: Path, records: int) -> None:
    """Create the synthetic warehouse file (schema from the numbered migrations)."""
    import duckdb

    migrations = Path(__file__).resolve().parents[1] / "bs_credit_pipeline" / "warehouse" / "migrations"
    conn = duckdb.connect(str(db))
    conn.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    conn.execute("SET enable_progress_bar = false")
    for sql in sorted(migrations.glob("[0-9][0-9][0-9]_*.sql")):
        conn.execute(sql.read_text(encoding="utf-8"))
    conn.execute(GENERATE.format(records=records, persons=max(records // 6, 10), orgs=max(records // 40, 10),
                                 kind_case=_kind_case()))
    conn.close()


# The day's intake, as warehouse.load leaves it: new current versions, corrected records (old version closed, a
# version 2 with a changed category), withdrawn records (closed).
DAY_INTAKE = """
CREATE TEMP TABLE day_pick AS
SELECT version_id, row_number() OVER (ORDER BY hash(version_id)) AS n
FROM core.credit_record WHERE valid_to IS NULL;
INSERT INTO core.credit_record
SELECT r.* REPLACE ('day' || r.record_id || '|1' AS version_id, 'day' || r.record_id AS record_id,
                  DATE '{day}' - CAST(p.n % 20 AS INTEGER) AS record_date, 'day' AS submission_id,
                  TIMESTAMPTZ '{day} 12:00:00+08' AS valid_from)
FROM core.credit_record r JOIN day_pick p USING (version_id) WHERE p.n <= {new};
INSERT INTO core.credit_record
SELECT r.* REPLACE (r.record_id || '|2' AS version_id, 2 AS version, '罚款、警告' AS category, 'day' AS submission_id,
                  TIMESTAMPTZ '{day} 12:00:00+08' AS valid_from, 'corrected' AS change_reason)
FROM core.credit_record r JOIN day_pick p USING (version_id) WHERE p.n > {new} AND p.n <= {new} + {corrected};
UPDATE core.credit_record SET valid_to = TIMESTAMPTZ '{day} 12:00:00+08'
WHERE version_id IN (SELECT version_id FROM day_pick WHERE n > {new} AND n <= {new} + {corrected} + {withdrawn});
DROP TABLE day_pick;
"""


def day_intake(conn, records: int) -> None:
    scale = records / 10_000_000
    conn.execute(DAY_INTAKE.format(day=AS_OF - dt.timedelta(days=1), new=int(DAY_NEW * scale),
                                   corrected=int(DAY_CORRECTED * scale), withdrawn=int(DAY_WITHDRAWN * scale)))


def cpu() -> float:
    """User + system CPU seconds of this process (the machine may be shared: wall time alone misleads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(db: Path, out: Path) -> dict:
    import duckdb

    from bs_credit_pipeline.lists import build_all, load_rules
    from bs_credit_pipeline.lists.feedback import write_feedback
    from bs_credit_pipeline.pipeline import evaluation_steps
    from bs_credit_pipeline.publish import publish

    rules = load_rules()
    conn = duckdb.connect(str(db))
    conn.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    conn.execute("SET enable_progress_bar = false")
    steps = evaluation_steps()  # the nightly job's full set: points, gov integrity, scorecard
    records = conn.execute("SELECT count(*) FROM core.credit_record").fetchone()[0]
    t = time.perf_counter()
    build_all(conn, AS_OF - dt.timedelta(days=1), rules, extra_steps=steps)  # the previous night (first build)
    first_build = time.perf_counter() - t
    day_intake(conn, records)
    conn.execute("CHECKPOINT")
    c0, t0 = cpu(), time.perf_counter()
    counts = build_all(conn, AS_OF, rules, extra_steps=steps)
    c1, t1 = cpu(), time.perf_counter()
    manifest = publish(conn, AS_OF, out, rules["masking"])
    c2, t2 = cpu(), time.perf_counter()
    feedback_files = write_feedback(conn, out / "outbox", rules["repairs"])  # pipeline.build_lists writes it too
    feedback_s = time.perf_counter() - t2
    t2 = time.perf_counter()
    again = build_all(conn, AS_OF, rules, extra_steps=steps)
    t3 = time.perf_counter()
    return {
        "records": records, "current_records": counts["record_status"], "first_build_s": round(first_build, 1),
        "build_all_s": round(t1 - t0, 1), "publish_s": round(t2 - t1, 1), "total_s": round(t2 - t0, 1),
        "build_all_cpu_s": round(c1 - c0, 1), "publish_cpu_s": round(c2 - c1, 1),
        "repair_feedback_s": round(feedback_s, 1), "repair_feedback_files": len(feedback_files),
        "load_average_1m": round(__import__("os").getloadavg()[0], 1),
        "rebuild_same_as_of_s": round(t3 - t2, 1), "rebuild_identical_counts": again == counts,
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "rows": counts, "published_rows": {f["name"]: f["rows"] for f in manifest["files"]},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix="bench_lists_")) if not (args.db and args.out) else None
    db = args.db or work / "warehouse.duckdb"
    if args.generate_only:
        generate(db, args.records)
        return
    if not db.exists():
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bench.lists", "--generate-only", "--db", str(db),
                        "--records", str(args.records)], check=True)
        print(f"generated {args.records} records in {time.perf_counter() - t:.0f} s: {db}", file=sys.stderr)
    print(json.dumps(run(db, args.out or work / "publish"), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
