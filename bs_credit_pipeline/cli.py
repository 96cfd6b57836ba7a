"""`bs-credit`: the command data officers and the credit office run."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from .imports import Refused
from .paths import MONTH_RE, Home, owner_only_files

STATUS_ZH = {"accepted": "全部通过", "partial": "部分通过", "rejected": "整体退回"}


def _registry():
    from .contracts import Registry

    return Registry.load()


def _infer_partition(path: Path, department: str | None, month: str | None) -> tuple[str, str]:
    """inbox/<department>/<YYYY-MM>/<file>: take what the options do not say from the folders."""
    from .parsing import today_in_shanghai

    parent = path.resolve().parent
    if month is None:
        month = parent.name if MONTH_RE.match(parent.name) else today_in_shanghai().strftime("%Y-%m")
    if department is None:
        department = parent.parent.name if MONTH_RE.match(parent.name) else parent.name
    return department, month


@contextlib.contextmanager
def _dry_run_imports(args: argparse.Namespace) -> Iterator[None]:
    """`check` runs without pandas and pyspark from its first import on (`imports.Refused`: pandera's package imports
    pandas and its pandas engine, typeguard and pydantic models, 0.4 s CPU, wherever pandas is installed, and
    pyspark.pandas wherever pyspark is; intake validates with pandera's polars backend and needs neither), and with one
    OpenBLAS thread unless told otherwise: OpenBLAS starts a busy-waiting thread per core when numpy loads (~0.1 CPU
    s of a 1 k-row check on an idle machine, again in the Excel reader's process); intake multiplies no matrices.
    The cyclic garbage collector is off until `_collect_from_here` (and back as it was after): importing numpy,
    pyarrow, polars and pandera makes ~0.1 M container objects and no garbage worth a pass, yet ~170 collections
    that walk them again and again."""
    if getattr(args, "func", None) is not cmd_check:
        yield
        return
    refusal = Refused("pandas", "pyspark")
    sys.meta_path.insert(0, refusal)
    blas = "OPENBLAS_NUM_THREADS" not in os.environ
    if blas:
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
        else:
            gc.disable()
        sys.meta_path.remove(refusal)
        if blas:
            del os.environ["OPENBLAS_NUM_THREADS"]


def _collect_from_here() -> None:
    """The garbage collector back on for the rows (a 1 M-row check makes cycles worth collecting), with what
    imports and set-up made moved to its permanent generation (`gc.freeze`): no pass walks those again, and they
    stay there, so the interpreter's exit leaves them to the OS instead of tearing down every module's cycles one by
    one (its last collection skips that generation: ~0.1 CPU s of a 1 k-row check). A caller of `main` in process
    (the tests) keeps them frozen too: what was garbage at this point is never collected."""
    gc.freeze()
    gc.enable()


def cmd_check(args: argparse.Namespace) -> int:
    """A data officer's dry run: the report goes next to the file (or to --out); nothing enters the pipeline."""
    import tempfile

    from .intake import Intake

    path = Path(args.file)
    if path.is_dir():
        print(f"“{path}”是一个文件夹，不是文件：请指定要检查的表格文件 | {path} is a directory, not a file", file=sys.stderr)
        return 2
    if not path.is_file():
        print(f"找不到文件：{path}", file=sys.stderr)
        return 2
    registry = _registry()
    department, month = _infer_partition(path, args.department, args.month)
    if not MONTH_RE.match(month):
        print(f"月份“{month}”无效：请用 --month 指定，格式为 YYYY-MM，如 2026-10 | invalid month {month!r}", file=sys.stderr)
        return 2
    if registry.department_for_folder(department) is None:
        print(f"无法确定报送单位“{department}”：请用 --department 指定部门代码或名称，如 scjgj 或 保山市市场监督管理局 "
              f"| unknown department {department!r}", file=sys.stderr)
        return 2
    out_dir = Path(args.out) if args.out else path.resolve().parent
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out_dir, prefix=".bs-credit-check-")
        probe.close()
    except OSError:
        print(f"无法在“{out_dir}”写入校验报告：请用 --out 指定一个可写的文件夹 | cannot write to {out_dir}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bs-credit-check-") as scratch:  # staging of a dry run: thrown away
        intake = Intake(registry, Home(Path(scratch)).ensure())
        _collect_from_here()
        result = intake.run(path, department=department, month=month, out_dir=out_dir, stage_rows=False)
    m = result.manifest
    dept = registry.departments.get(m["department"])
    kind = registry.contracts[m["kind"]].title if m["kind"] else "未识别"
    print(f"文件：{m['file_name']}  报送单位：{dept.name if dept else m['department']}  月份：{m['month']}  数据类别：{kind}")
    print(f"结果：{STATUS_ZH[m['status']]}  读取 {m['rows_read']} 行 = 入库 {m['rows_loaded']} 行 + 退回 {m['rows_rejected']} 行"
          f"（跳过空行及表尾 {m['rows_skipped']} 行）")
    if m["file_error"]:
        print(f"整体退回原因：{m['file_error']['message']}\n修改建议：{m['file_error']['hint']}")
    for label, counts in (("错误", m["error_counts"]), ("提示", m["warning_counts"])):
        for code, count in sorted(counts.items(), key=lambda kv: -kv[1]):
            print(f"  {label}：{registry.message_title(code)}（{code}）{count} 处")
    if m["dropped_columns"]:
        print("已删除未收集的列：" + "、".join(d["header"] for d in m["dropped_columns"]))
    if result.report_path:
        print(f"校验报告：{result.report_path}")
    return 0 if m["status"] == "accepted" else 1


def cmd_template(args: argparse.Namespace) -> int:
    from .templates import write_template

    registry = _registry()
    contract = registry.contracts.get(args.kind) or next(
        (c for c in registry.contracts.values() if c.title == args.kind), None)
    if contract is None:
        known = "、".join(f"{k}（{c.title}）" for k, c in registry.contracts.items())
        print(f"未知的数据类别：{args.kind}。可选：{known}", file=sys.stderr)
        return 2
    out = Path(args.output or f"{contract.title}_模板_v{contract.version}.xlsx")
    write_template(contract, out, domain=args.domain)
    print(f"模板已生成：{out}")
    return 0


def _as_of(text: str | None):
    from .config import parse_date
    from .parsing import today_in_shanghai

    return parse_date(text) if text else today_in_shanghai()


def cmd_run(args: argparse.Namespace) -> int:
    from .defs.run import run_pipeline

    home = Home.from_env(args.home)
    summary = run_pipeline(home, _as_of(args.as_of))
    print(f"处理分区 {len(summary.partitions_run)} 个；名单计算日期 {summary.as_of}；"
          f"夜间任务{'成功' if summary.nightly_success else '失败'}")
    for folder in summary.skipped_folders:
        print(f"  文件夹 {folder} 不是登记的部门或 YYYY-MM 月份：只生成了校验报告，未入库")
    _print_lists(home, summary.as_of)
    return 0 if summary.nightly_success else 1


def _print_lists(home: Home, as_of) -> None:
    from .warehouse import schema

    conn = schema.connect(home.warehouse, read_only=True)
    try:
        rows = conn.execute("""
            SELECT table_name FROM duckdb_tables() WHERE schema_name = 'mart'
              AND table_name <> 'build_basis'  -- bookkeeping of the nightly update, not a list
            ORDER BY table_name""").fetchall()
        print("名单（截至 %s）：" % as_of)
        for (table,) in rows:
            has_as_of = conn.execute("SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'mart' "
                                     "AND table_name = ? AND column_name = 'as_of'", [table]).fetchone()[0]
            if has_as_of:
                n = conn.execute(f'SELECT count(*) FROM mart."{table}" WHERE as_of = ?', [as_of]).fetchone()[0]
                print(f"  mart.{table}: {n}")
    finally:
        conn.close()


def _print_highlights(home: Home, as_of) -> None:
    """Repair decisions, withheld records and warnings: what the credit office acts on."""
    from .warehouse import schema

    conn = schema.connect(home.warehouse, read_only=True)
    try:
        for target_ref, status, reason in conn.execute(
                "SELECT target_ref, status, status_reason FROM mart.repair_decision WHERE as_of = ? ORDER BY 1",
                [as_of]).fetchall():
            print(f"  信用修复 {target_ref}：{ {'granted': '准予', 'refused': '不予', 'pending': '待生效', 'unmatched': '未匹配'}.get(status, status)}修复。{reason}")
        for subject, reason in conn.execute(
                "SELECT subject_name, status_reason FROM mart.record_status WHERE as_of = ? AND status = 'withheld'",
                [as_of]).fetchall():
            print(f"  异议处理中，暂停公示：{subject}（{reason}）")
        for level, message in conn.execute(
                "SELECT level, message FROM mart.gov_warning WHERE as_of = ? ORDER BY level", [as_of]).fetchall():
            print(f"  政务诚信预警（{level}）：{message}")
    finally:
        conn.close()


def cmd_demo(args: argparse.Namespace) -> int:
    from .analyst.report import write_report
    from .demo import nightly_dates, write_demo_inbox
    from .defs.run import run_pipeline
    from .pipeline import build_lists, pseudonym_key
    from .warehouse import schema

    home = Home.from_env(args.home).ensure()
    registry = _registry()
    as_of = _as_of(args.as_of)
    files = write_demo_inbox(home.inbox, registry, as_of)
    key_path = home.root / "secrets" / "pseudonym.key"
    pseudonym_key(home, create=True)
    print(f"已在 {home.inbox} 写入 {len(files)} 个示例报送文件（部分含典型错误）。")
    print(f"分析快照的假名化密钥保存在 {key_path}（不在任何数据库文件中；生产环境请用环境变量 BS_CREDIT_PSEUDONYM_KEY）。")
    history = nightly_dates(as_of)
    # The first run loads the inbox and runs the nightly job as of a year back; the dates between get the
    # nightly job's list build alone (its credit_lists step: what the list history records), then today's run.
    if not run_pipeline(home, history[0]).nightly_success:
        print(f"夜间任务（{history[0]}）失败")
        return 1
    for day in history[1:-1]:
        build_lists(home, day)
    summary = run_pipeline(home, as_of)
    print(f"夜间任务已按 {'、'.join(d.isoformat() for d in history)} 依次运行（名单历史见分析快照的 analyst.list_history）。")
    print()
    conn = schema.connect(home.warehouse, read_only=True)
    try:
        subs = {r[0]: r[1:] for r in conn.execute(
            "SELECT file_name, status, rows_read, rows_loaded, rows_rejected, file_error_code, submission_id "
            "FROM ops.submission").fetchall()}
        print("各文件处理结果：")
        for f in files:
            got = subs.get(f.path.name)
            outcome = (f"{STATUS_ZH.get(got[0], got[0])} 读取{got[1]} 入库{got[2]} 退回{got[3]}"
                       + (f" {got[4]}" if got[4] else "")) if got else "未入库（见 outbox 中的报告）"
            print(f"  {f.path.parent.parent.name}/{f.path.parent.name}/{f.path.name}: {outcome}\n      预期：{f.expectation}")
            found = conn.execute("SELECT severity, code, count(*) FROM ops.rejected_row WHERE submission_id = ? "
                                 "GROUP BY ALL ORDER BY 1, 3 DESC", [got[5]]).fetchall() if got else []
            if found:
                print("      发现：" + "；".join(f"{'错误' if sev == 'error' else '提示'} {registry.message_title(code)} {n} 处"
                                          for sev, code, n in found))
        counts = conn.execute("SELECT (SELECT count(*) FROM core.subject), "
                              "(SELECT count(*) FROM core.credit_record WHERE valid_to IS NULL)").fetchone()
        print(f"仓库：{counts[0]} 个信用主体，{counts[1]} 条当前记录")
    finally:
        conn.close()
    _print_lists(home, as_of)
    _print_highlights(home, as_of)
    print()
    print("去哪里看：")
    print(f"  给各部门的校验报告：{home.outbox}")
    print(f"  数据仓库（DuckDB）：{home.warehouse}")
    print(f"  分析快照（假名化，可在流水线运行时打开）：{home.analytics}（说明见 docs/WAREHOUSE.md）")
    print(f"  信用办月度概览（HTML，可打印）：{write_report(home.analytics, None, None).path}")
    print(f"  公开名单：{home.publish / as_of.isoformat()}")
    print(f"  Dagster 界面：bs-credit ui --home {home.root}；报送情况：bs-credit status --home {home.root}")
    return 0 if summary.nightly_success else 1


def _audited(args: argparse.Namespace, query):
    """`query(conn, subject, home)` on the warehouse under the writer lock (the audit row is a write), for the
    subject given on the command line (a citizen ID in canonical form); operator and purpose were checked first."""
    from .identifiers import classify_code, normalise_code, to_canonical_citizen_id
    from .locking import writer_lock
    from .warehouse import schema

    home = Home.from_env(args.home)
    subject = normalise_code([args.subject])
    if classify_code(subject)[0].as_py() == "citizen_id":
        subject = to_canonical_citizen_id(subject)
    with writer_lock(home.root):
        conn = schema.connect(home.warehouse)
        try:
            schema.migrate(conn)
            return query(conn, subject[0].as_py(), home)
        finally:
            conn.close()


def cmd_lookup(args: argparse.Namespace) -> int:
    import datetime as dt

    from .pipeline import pseudonym_key
    from .warehouse.lookup import record_lookup

    rows = _audited(args, lambda conn, subject, home: record_lookup(
        conn, subject, operator=args.operator, purpose=args.purpose, now=dt.datetime.now(dt.timezone.utc),
        key=pseudonym_key(home)).to_pylist())
    print(f"已记录审计（操作人 {args.operator}，目的 {args.purpose}）。共 {len(rows)} 条记录：")
    contracts = _registry().contracts
    for row in rows:
        contract = contracts.get(row["kind"])
        payload = json.loads(row["payload"]) if row.get("payload") else {}
        key = contract.natural_key[0] if contract else None
        ref = f"{contract.column(key).header}：{payload.get(key)}" if contract and key else ""
        print(f"  {contract.title if contract else row['kind']}  {row['record_date']}  {row.get('category') or ''}  "
              f"{ref}  来源：{row['department']} {row['file_name']} {row['sheet']} 第{row['excel_row']}行"
              + _as_written(row.get("written"), contract))
    return 0


def _as_written(written, contract) -> str:
    """The values intake stored in their standard form, as the department wrote them (empty when none)."""
    if not written:
        return ""
    pairs = written.items() if isinstance(written, dict) else written
    named = {c.name: c.header for c in contract.columns} if contract else {}
    return "；报送原值：" + "，".join(f"{named.get(k, k)}“{v}”" for k, v in pairs)


def cmd_explain(args: argparse.Namespace) -> int:
    import datetime as dt

    from . import lists
    from .lists.explain import render
    from .pipeline import evaluation_steps, pseudonym_key
    from .warehouse.explain import explain_audited

    as_of = _as_of(args.as_of)  # checked by preflight
    explanation = _audited(args, lambda conn, subject, home: explain_audited(
        conn, subject, as_of, operator=args.operator, purpose=args.purpose, now=dt.datetime.now(dt.timezone.utc),
        key=pseudonym_key(home), rules=lists.load_rules(), registry=_registry(),
        extra_steps=evaluation_steps()))
    if args.json:
        print(json.dumps(explanation, ensure_ascii=False, indent=2, default=str))
    else:
        print(f"已记录审计（操作人 {args.operator}，目的 {args.purpose}）。")
        print(render(explanation))
        contracts = _registry().contracts
        for r in explanation["records"]:
            if r.get("written"):
                written = _as_written(r["written"], contracts.get(r["kind"]))
                print(f"  {r['kind_title']} {r['document_no'] or ''}{written}")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    """`dagster dev` with this interpreter's Dagster (no activated venv needed), an absolute DAGSTER_HOME, the
    project's dagster.yaml (pop-ups and telemetry off), and its whole process tree stopped on SIGTERM / Ctrl-C."""
    import os
    import subprocess

    from .defs.run import prepare_instance
    from .interrupts import GRACE_SECONDS
    from .proctree import stop_tree

    home = Home.from_env(args.home)
    prepare_instance(home)  # sets BS_CREDIT_HOME and DAGSTER_HOME (absolute) in os.environ for the children
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
           "DAGSTER_DISABLE_TELEMETRY": "1"}
    workspace = Path(__file__).resolve().parents[1] / "workspace.yaml"
    target = ["-w", str(workspace)] if workspace.exists() else ["-m", "bs_credit_pipeline.definitions"]
    print(f"Dagster 界面：http://{args.host}:{args.port}  （DAGSTER_HOME={home.dagster_home}；Ctrl-C 停止）", flush=True)
    child = subprocess.Popen([sys.executable, "-m", "dagster", "dev", *target, "--host", args.host,
                              "--port", str(args.port)], env=env, cwd=str(workspace.parent), start_new_session=True)
    try:
        return child.wait()
    except KeyboardInterrupt:  # interrupts.Stop on SIGTERM too
        stop_tree(child.pid, grace=GRACE_SECONDS - 2)
        child.wait()
        raise


def cmd_status(args: argparse.Namespace) -> int:
    """报送情况: department × month, from the warehouse's load records and the Dagster runs of this home."""
    import datetime as dt

    import dagster as dg

    from .config import check_month
    from .contracts import Registry
    from .defs.run import prepare_instance
    from .locking import writer_lock
    from .parsing import today_in_shanghai
    from .status import RUN_STATE_ZH, SHANGHAI, expectations, grid, render
    from .warehouse import schema

    today = today_in_shanghai()
    if args.month:
        months = [check_month(args.month)]
    else:
        previous = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
        months = [previous, today.strftime("%Y-%m")]
    home = Home.from_env(args.home)
    runs: dict[tuple[str, str], str] = {}
    instance = prepare_instance(home)
    for record in instance.get_run_records(dg.RunsFilter(job_name="intake_job"), limit=2000):  # newest first
        tags = record.dagster_run.tags
        key = (tags.get("dagster/partition/department"), tags.get("dagster/partition/month"))
        if key[1] in months and key not in runs:
            state = record.dagster_run.status.value
            runs[key] = f"{RUN_STATE_ZH.get(state, state)}（{record.create_timestamp.astimezone(SHANGHAI):%m-%d %H:%M}）"
    names = {code: d.name for code, d in Registry.load().departments.items()}
    if not home.warehouse.exists():
        print(f"数据仓库 {home.warehouse} 尚不存在：还没有任何报送入库。", file=sys.stderr)
        return 2
    with writer_lock(home.root):
        conn = schema.connect(home.warehouse, read_only=True)
        try:
            cells = grid(conn, names, months, expectations(), today, runs)
        finally:
            conn.close()
    print(f"报送情况（{'、'.join(months)}，截至 {today}）")
    print(render(cells))
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from .config import key_file
    from .pipeline import write_new_key

    from .defs.run import prepare_instance

    home = Home.from_env(args.home).ensure()
    path = key_file(home)
    created = write_new_key(path)
    prepare_instance(home)  # DAGSTER_HOME with the project's dagster.yaml, for a daemon started directly
    print(f"工作目录：{home.root}（inbox/ 放报送文件，outbox/ 取校验报告）")
    print(f"Dagster 实例目录：{home.dagster_home}（DAGSTER_HOME）")
    print(f"假名化密钥：{path}（{'新生成，权限 600' if created else '已存在，未改动'}）。请备份该文件：更换密钥后，"
          "分析快照中同一人的代号会改变。")
    return 0


def _month(text: str) -> str:
    if not MONTH_RE.match(text):
        raise argparse.ArgumentTypeError(f"月份应写作 YYYY-MM，如 2026-11（收到 {text!r}）")
    return text


def cmd_report(args: argparse.Namespace) -> int:
    from .analyst.report import ReportError, write_report

    home = Home.from_env(args.home)
    try:
        report = write_report(home.analytics, Path(args.output) if args.output else None, args.month)
    except ReportError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"月度概览（{report.month}，{report.charts} 张图）：{report.path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bs-credit", description="保山市公共信用信息归集处理流水线")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress (English)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="dry run for a data officer: validate one file and write the report")
    p.add_argument("file")
    p.add_argument("--department", help="department code, name or alias (default: the inbox folder)")
    p.add_argument("--month", help="YYYY-MM (default: the inbox folder, else this month)")
    p.add_argument("--out", help="folder for the report (default: the folder of the checked file)")
    p.add_argument("--home", help="BS_CREDIT_HOME whose configuration is checked first (default ./var); the dry run "
                                  "writes only the report")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("template", help="write the blank Excel template of a record kind")
    p.add_argument("kind", help="kind id (admin_penalty) or Chinese title (行政处罚)")
    p.add_argument("-o", "--output")
    p.add_argument("--domain", help="key domain specialisation, e.g. 食品药品")
    p.set_defaults(func=cmd_template)

    p = sub.add_parser("run", help="the nightly job in process: intake changed inbox folders, load, lists, publish")
    p.add_argument("--home", help="BS_CREDIT_HOME (default ./var)")
    p.add_argument("--as-of", help="YYYY-MM-DD (default today in Asia/Shanghai)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("report", help="the credit office's monthly overview: one self-contained HTML file (Chinese)")
    p.add_argument("--month", type=_month, help="YYYY-MM (default: the month before the snapshot's as-of date)")
    p.add_argument("--output", help="HTML file to write (default: <home>/reports/信用信息月度概览-<month>.html)")
    p.add_argument("--home", help="BS_CREDIT_HOME (default ./var)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("demo", help="write realistic sample submissions, run everything, say where to look")
    p.add_argument("--home", help="BS_CREDIT_HOME (default ./var)")
    p.add_argument("--as-of", help="YYYY-MM-DD (default today in Asia/Shanghai)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("lookup", help="audited look-up of one subject's records (operator and purpose required)")
    p.add_argument("subject", help="USCC or citizen ID")
    p.add_argument("--operator")
    p.add_argument("--purpose")
    p.add_argument("--home", help="BS_CREDIT_HOME (default ./var)")
    p.set_defaults(func=cmd_lookup)

    p = sub.add_parser("explain", help="audited explanation of a subject's list decisions (operator and purpose required)")
    p.add_argument("subject", help="USCC or citizen ID")
    p.add_argument("--as-of", help="evaluation date YYYY-MM-DD (default today, Asia/Shanghai)")
    p.add_argument("--operator")
    p.add_argument("--purpose")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--home", help="BS_CREDIT_HOME (default ./var)")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("purge", help="remove raw copies (inbox originals, staged rows, reports) of loaded files "
                                     "processed before a date; the warehouse history stays")
    p.add_argument("--before", help="YYYY-MM-DD (default: today minus BS_CREDIT_RETENTION_DAYS)")
    p.add_argument("--home", help="BS_CREDIT_HOME (default ./var)")
    p.set_defaults(func=cmd_purge)

    p = sub.add_parser("ui", help="start the Dagster UI on this BS_CREDIT_HOME")
    p.add_argument("--home", help="BS_CREDIT_HOME (default ./var)")
    p.add_argument("--host", default="127.0.0.1", help="address the web server listens on (default 127.0.0.1; "
                                                       "0.0.0.0 for every interface)")
    p.add_argument("--port", type=int, default=3000, help="web server port (default 3000)")
    p.set_defaults(func=cmd_ui)

    p = sub.add_parser("status", help="报送情况: department × month grid in Chinese (files received, rows, late or "
                                      "missing, last run)")
    p.add_argument("--month", help="YYYY-MM (default: last month and this month, Asia/Shanghai)")
    p.add_argument("--home", help="BS_CREDIT_HOME (default ./var)")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("init", help="create BS_CREDIT_HOME and its pseudonym key file (mode 600) if missing")
    p.add_argument("--home", help="BS_CREDIT_HOME (default ./var)")
    p.set_defaults(func=cmd_init)
    return parser


def cmd_purge(args: argparse.Namespace) -> int:
    import datetime as dt

    from .locking import writer_lock
    from .parsing import today_in_shanghai
    from .retention import cutoff, purge

    try:
        before = cutoff(dt.date.fromisoformat(args.before) if args.before else None, today_in_shanghai())
    except ValueError as exc:
        print(f"清理日期无效：{args.before or ''}；请用 --before YYYY-MM-DD 或设置 BS_CREDIT_RETENTION_DAYS（天数）。"
              f" / {exc}", file=sys.stderr)
        return 2
    home = Home.from_env(args.home)
    if not home.staging.is_dir():
        print(f"数据目录 {home.root} 下没有 staging/：没有可清理的内容。", file=sys.stderr)
        return 2
    with writer_lock(home.root):  # no load reads the staged files meanwhile
        result = purge(home.ensure(), before)
    print(f"已清理 {before} 之前处理并已入库的 {result.files} 个报送文件的原始副本（原件、暂存数据、校验报告）："
          f"删除 {result.removed} 个文件，释放 {result.bytes_freed / 2**20:.1f} MB；"
          f"{result.kept_unloaded} 个尚未入库的文件保留。数据仓库的历史记录不受影响。")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run a command. Its configuration is checked first; a user or environment error is one line, no traceback:
    exit 2 configuration or usage, 3 warehouse held by another process, 4 disk full, 130/143 interrupted."""
    from . import interrupts

    owner_only_files()
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with _dry_run_imports(args), interrupts.handled():
        from .preflight import preflight, user_error

        try:
            preflight(args)
            return args.func(args)
        except BaseException as exc:  # noqa: BLE001 - user errors become one line; anything else propagates
            known = user_error(exc)
            if known is None:
                raise
            code, line = known
            print(line, file=sys.stderr)
            return code


if __name__ == "__main__":
    sys.exit(main())
