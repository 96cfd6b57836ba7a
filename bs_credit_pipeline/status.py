"""`bs-credit status`: who has sent what, department × month, in Chinese (plain logic; the CLI adds run states).

A department is expected to submit every month from its `expected.from` month on (departments.yaml; the file's
`expected_default` otherwise; `none`: not expected). A month's data is due by the scorecard's deadline
(rules/scorecard.yaml `deadline`: day D of the month M months later): a first delivery — a file not rejected as
a whole — received after it is 逾期; nothing by then is 未报送; before it, 待报送. Times are Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from . import yamlfile
from .config import ConfigError
from .lists import scorecard
from .paths import MONTH_RE
from .warehouse import schema

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
DEPARTMENTS_FILE = Path(__file__).resolve().parents[1] / "data_contracts" / "departments.yaml"
RUN_STATE_ZH = {"SUCCESS": "成功", "FAILURE": "失败", "STARTED": "运行中", "STARTING": "启动中", "QUEUED": "排队中",
                "NOT_STARTED": "未开始", "CANCELING": "取消中", "CANCELED": "已取消"}


@dataclass
class Cell:
    department: str
    name: str
    month: str
    files: list[tuple[str, dt.datetime, str]] = field(default_factory=list)  # (file name, received, status)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    state: str = ""  # 按时 / 逾期 N 天 / 未报送 / 待报送 / 整体退回 / 不要求
    run: str = ""


def expectations(path: Path = DEPARTMENTS_FILE) -> dict[str, str | None]:
    """Department code -> first expected month (None: not expected monthly)."""
    data = yamlfile.read(path)

    def month_of(value, where: str) -> str | None:
        if value in (None, "none"):
            return None
        month = str(value.get("from", "")) if isinstance(value, dict) else ""
        if not MONTH_RE.match(month):
            raise ConfigError(f"{path.name} 中 {where} 的 expected 应写成 {{from: \"YYYY-MM\"}} 或 none，现为“{value}”。",
                              f"{path.name} {where}: expected must be {{from: YYYY-MM}} or none, got {value!r}")
        return month

    default = month_of(data.get("expected_default"), "expected_default")
    return {d["code"]: month_of(d["expected"], d["code"]) if "expected" in d else default
            for d in data["departments"]}


def deadline(month: str, rules: dict) -> dt.date:
    """The scorecard's deadline of a data month (same rule as lists/scorecard.py)."""
    year, mon = (int(x) for x in month.split("-"))
    due = year * 12 + mon - 1 + rules["deadline"]["months_after"]
    return dt.date(due // 12, due % 12 + 1, rules["deadline"]["day"])


def grid(conn, names: dict[str, str], months: list[str], expected: dict[str, str | None], today: dt.date,
         runs: dict[tuple[str, str], str] | None = None, rules: dict | None = None) -> list[Cell]:
    """One cell per department × month that was submitted or expected."""
    rules = rules or scorecard.load_rules()
    files: dict[tuple[str, str], list] = {}
    if schema.current_version(conn) >= 1:
        for row in conn.execute("""
                SELECT department, month, file_name, coalesce(received_at, processed_at), status, file_error_code,
                       rows_read, rows_loaded, rows_rejected
                FROM ops.submission WHERE list_contains($months, month)
                ORDER BY department, month, 4, file_name""", {"months": months}).fetchall():
            files.setdefault((row[0], row[1]), []).append(row[2:])
    cells = []
    for month in months:
        for code, name in names.items():
            got = files.get((code, month), [])
            first = expected.get(code)
            if not got and (first is None or month < first):
                continue
            cell = Cell(code, name, month, run=(runs or {}).get((code, month), ""))
            for file_name, received, status, error, read, loaded, rejected in got:
                received = received.astimezone(SHANGHAI)
                cell.files.append((file_name, received, status))
                if status != "superseded":
                    cell.rows_read += read
                    cell.rows_loaded += loaded
                    cell.rows_rejected += rejected
            due = deadline(month, rules)
            delivered = next((r for _, r, s, e, *_ in got if e is None and s != "rejected"), None)
            if delivered is not None:
                late = (delivered.astimezone(SHANGHAI).date() - due).days
                cell.state = f"逾期 {late} 天" if late > 0 else "按时"
            elif got:
                cell.state = "整体退回，待重报" if today <= due else "整体退回，未完成报送"
            elif first is None:
                cell.state = "不要求"
            else:
                cell.state = "未报送" if today > due else f"待报送（截止 {due}）"
            cells.append(cell)
    return cells


def render(cells: list[Cell]) -> str:
    """The grid as text lines in Chinese."""
    if not cells:
        return "所选月份没有报送记录，也没有应报送的部门。"
    lines, month = [], None
    for c in cells:
        if c.month != month:
            month = c.month
            lines.append(f"【{month}】")
        received = "；".join(f"{n}（{r:%m-%d %H:%M}{'，已替换' if s == 'superseded' else ''}）"
                            for n, r, s in c.files) or "无"
        lines.append(f"  {c.name}：{c.state}｜收到：{received}｜读取 {c.rows_read} 行，入库 {c.rows_loaded} 行，"
                     f"退回 {c.rows_rejected} 行｜最近运行：{c.run or '无'}")
    return "\n".join(lines)
