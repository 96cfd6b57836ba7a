"""Problems: each error and warning of a validated run as a row of the rejection store, with its Chinese message
and fix hint (messages.yaml), the sheet, Excel row and column, and the cell as written."""

from __future__ import annotations

import pyarrow as pa

from ..contracts import Contract, Registry, enums
from .report import excel_column
from .validate import SheetRun

PROBLEM_SCHEMA = pa.schema([
    ("sheet", pa.string()), ("excel_row", pa.int64()), ("excel_column", pa.string()), ("column", pa.string()),
    ("header", pa.string()), ("raw_value", pa.string()), ("code", pa.string()), ("severity", pa.string()),
    ("message", pa.string()), ("hint", pa.string()),
])


def describe(registry: Registry, run: SheetRun, contract: Contract, out: list[dict], month: str = "") -> None:
    """Append one problem row per error and warning of `run` to `out` (`month`: the submission month)."""
    sheet = run.match.sheet
    by_name = {v: k for k, v in run.match.columns.items()}
    cache: dict[tuple, tuple] = {}
    variants: dict[str | None, Contract] = {}
    for severity, table in (("error", run.errors), ("warning", run.warnings)):
        for i in sorted(table):
            for column, code in table[i]:
                fields = {}
                if code.startswith("E_DUPLICATE_KEY|"):
                    code, first_sheet, first_row = code.split("|")
                    fields = {"first_sheet": first_sheet, "first_row": first_row}
                idx = by_name.get(column)
                header = run.match.headers.get(idx) if idx is not None else None
                raw = run.raw[column][i].as_py() if column in run.raw else None
                domain = run.domain[i]
                if domain not in variants:
                    variants[domain] = contract.for_domain(domain)
                spec = variants[domain].column(column) if column else None
                fields.update(_detail_fields(code, spec, run, i, by_name, contract, raw))
                key = (code, column, raw, tuple(fields.items()))
                if key not in cache:
                    cache[key] = registry.message(
                        code, header=header or (spec.header if spec else ""), value=raw or "",
                        expected=_expected(spec), month=month, **fields)
                zh, hint, _, _ = cache[key]
                out.append({
                    "sheet": sheet.name, "excel_row": int(run.row_numbers[i]),
                    "excel_column": excel_column(idx + sheet.col_offset) if idx is not None else None,
                    "column": column, "header": header, "raw_value": raw, "code": code,
                    "severity": severity, "message": zh, "hint": hint,
                })


def _detail_fields(code: str, spec, run: SheetRun, i: int, by_name: dict[str, int], contract: Contract,
                   raw: str | None) -> dict:
    """What a message needs besides the cell: the condition behind E_REQUIRED_IF, the length behind E_TOO_LONG,
    the unknown part of an enum cell and the allowed value closest to it, the standard value a synonym stands for."""
    if code == "E_ENUM" and spec is not None and spec.values:
        vocabulary = enums.of_column(spec)
        parsed = vocabulary.parse(raw or "")
        unknown = "、".join(parsed.unknown)
        close = [s for s in (vocabulary.suggest(p) for p in parsed.unknown) if s]
        return {"unknown_part": f"（其中“{unknown}”不是可选值）" if parsed.values else "",
                "suggestion": f"您是否要填写“{'、'.join(close)}”？" if close else ""}
    if code == "W_ENUM_SYNONYM" and spec is not None:
        value = run.frame[spec.name][i].as_py() if spec.name in run.frame else None
        return {"canonical": "" if value is None else value}
    if code == "E_REQUIRED_IF" and spec is not None and spec.required_if:
        when = spec.required_if["column"]
        idx = by_name.get(when)
        value = run.frame[when][i].as_py() if when in run.frame else None
        header = run.match.headers.get(idx) if idx is not None else None
        return {"when_header": header or contract.column(when).header,
                "when_value": "" if value is None else value}
    if code == "E_TOO_LONG" and spec is not None and spec.name in run.frame:
        return {"length": len(run.frame[spec.name][i].as_py())}
    return {}


def _expected(spec) -> str:
    if spec is None:
        return ""
    if spec.values:  # values that contain 、 themselves are listed with ；
        sep = "；" if any("、" in v for v in spec.values) else "、"
        return sep.join(spec.values[:20]) + ("……" if len(spec.values) > 20 else "")
    return {"date": "日期，如 2026-10-03", "decimal": "非负数字", "integer": "非负整数",
            "uscc": "18位统一社会信用代码", "citizen_id": "18位公民身份号码", "org_code": "9位组织机构代码"}.get(
        spec.type, f"不超过{spec.max_length}个字符" if spec.max_length else "")

