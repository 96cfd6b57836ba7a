"""`bs-credit`: the command data officers and the credit office run."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .paths import MONTH_RE, Home

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


def cmd_check(args: argparse.Namespace) -> int:
    from .intake import Intake

    path = Path(args.file)
    if not path.is_file():
        print(f"找不到文件：{path}", file=sys.stderr)
        return 2
    registry = _registry()
    department, month = _infer_partition(path, args.department, args.month)
    home = Home.from_env(args.home).ensure()
    result = Intake(registry, home).run(path, department=department, month=month)
    m = result.manifest
    print(f"文件：{m['file_name']}  报送单位：{m['department']}  月份：{m['month']}  数据类别：{m['kind'] or '未识别'}")
    print(f"结果：{STATUS_ZH[m['status']]}  读取 {m['rows_read']} 行 = 入库 {m['rows_loaded']} 行 + 退回 {m['rows_rejected']} 行"
          f"（跳过空行及表尾 {m['rows_skipped']} 行）")
    if m["file_error"]:
        print(f"整体退回原因：{m['file_error']['message']}\n修改建议：{m['file_error']['hint']}")
    for code, count in sorted(m["error_counts"].items(), key=lambda kv: -kv[1]):
        print(f"  错误 {code}: {count}")
    for code, count in sorted(m["warning_counts"].items(), key=lambda kv: -kv[1]):
        print(f"  提示 {code}: {count}")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bs-credit", description="保山市公共信用信息归集处理流水线")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress (English)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="dry run for a data officer: validate one file and write the report")
    p.add_argument("file")
    p.add_argument("--department", help="department code, name or alias (default: the inbox folder)")
    p.add_argument("--month", help="YYYY-MM (default: the inbox folder, else this month)")
    p.add_argument("--home", help="BS_CREDIT_HOME (default ./var)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("template", help="write the blank Excel template of a record kind")
    p.add_argument("kind", help="kind id (admin_penalty) or Chinese title (行政处罚)")
    p.add_argument("-o", "--output")
    p.add_argument("--domain", help="key domain specialisation, e.g. 食品药品")
    p.set_defaults(func=cmd_template)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
