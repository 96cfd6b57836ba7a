"""The credit office's monthly overview (`bs-credit report`): one self-contained, printable HTML file in Chinese
from the analyst snapshot: submissions and reject rates per department, top errors, late and missing
departments, list sizes and changes over time, government-integrity ranking and warnings. Charts are inline SVG
(charts.py); nothing is fetched when the file is opened. The snapshot is pseudonymised; the report shows no
person at all (counts, departments, government bodies)."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..atomic import atomic_write_text
from . import charts

CSS = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei", sans-serif;
       margin: 2em auto; max-width: 60em; color: #1a202c; line-height: 1.5; }
h1 { font-size: 1.6em; border-bottom: 2px solid #2b6cb0; padding-bottom: .3em; }
h2 { font-size: 1.25em; margin-top: 1.6em; color: #2b6cb0; }
table { border-collapse: collapse; width: 100%; margin: .6em 0; font-size: .9em; }
th, td { border: 1px solid #cbd5e0; padding: .25em .5em; text-align: left; }
th { background: #edf2f7; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: .8em 0; } figure svg { max-width: 100%; height: auto; }
figcaption { font-size: .85em; color: #4a5568; }
.meta { color: #4a5568; font-size: .9em; } .warn { color: #c53030; font-weight: bold; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } figure, table { break-inside: avoid; } }
"""


class ReportError(ValueError):
    """The report cannot be written (no snapshot, no nightly run yet); the message is Chinese."""


@dataclass(frozen=True)
class Report:
    path: Path
    month: str
    charts: int


def default_month(as_of: dt.date) -> str:
    """The month before the snapshot's as-of month: the latest month whose submissions are due."""
    first = as_of.replace(day=1) - dt.timedelta(days=1)
    return f"{first:%Y-%m}"


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _table(headers: list[str], rows: list[tuple], numeric: set[int] = frozenset()) -> str:
    if not rows:
        return "<p>（无）</p>"
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f'<td class="n">{_e(v)}</td>' if i in numeric else f"<td>{_e(v)}</td>"
                                    for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


CHART_TEXT_EN = {"退回率": "reject rate", "退回率（%）": "reject rate (%)", "入库行数": "rows loaded",
                 "退回行数": "rows rejected", "行数": "rows", "出现次数": "occurrences", "条目数": "entries"}


def _chart_text(zh: str) -> str:
    """A chart's axis or legend text: Chinese where a CJK font can draw it, else English (never empty boxes)."""
    return charts.label_or_code(zh, CHART_TEXT_EN[zh])


def _figure(svg: str, caption: str) -> str:
    return f'<figure class="chart">{svg}<figcaption>{_e(caption)}</figcaption></figure>'


def write_report(snapshot: Path, output: Path | None, month: str | None) -> Report:
    """Write the report of `month` (default: default_month of the snapshot's as-of) to `output`."""
    if not Path(snapshot).exists():
        raise ReportError(f"找不到分析快照 {snapshot}：请先运行 bs-credit run（夜间任务会生成快照）")
    conn = duckdb.connect(str(snapshot), read_only=True)
    try:
        as_of = conn.execute("SELECT max(as_of) FROM mart.record_status").fetchone()[0] if conn.execute(
            "SELECT count(*) FROM duckdb_views() WHERE schema_name = 'analyst'").fetchone()[0] else None
        if as_of is None:
            raise ReportError(f"分析快照 {snapshot} 中没有夜间任务的结果（或快照版本过旧）：请先运行 bs-credit run")
        month = month or default_month(as_of)
        output = Path(output) if output else Path(snapshot).parent / "reports" / f"信用信息月度概览-{month}.html"
        body, n_charts = _body(conn, month, as_of)
        build_id = conn.execute("SELECT build_id FROM snapshot_info").fetchone()[0]
    finally:
        conn.close()
    year, mon = month.split("-")
    title = f"保山市公共信用信息月度概览（{year}年{int(mon)}月）"
    page = (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f"<style>{CSS}</style></head><body><h1>{_e(title)}</h1>"
            f'<p class="meta">数据截至 {as_of}（夜间任务评估日期）；快照 {_e(build_id[:12])}；'
            f"生成于 {dt.datetime.now().astimezone():%Y-%m-%d %H:%M}。本报告不含任何自然人信息。</p>"
            f"{body}</body></html>\n")
    output.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(output, page)
    return Report(output, month, n_charts)


def _body(conn, month: str, as_of: dt.date) -> tuple[str, int]:
    q = lambda sql, *p: conn.execute(sql, list(p)).fetchall()  # noqa: E731
    parts, n = [], 0

    quality = q("""SELECT d.department, d.department_name, coalesce(q.files, 0), coalesce(q.files_rejected, 0),
                          coalesce(q.rows_read, 0), coalesce(q.rows_loaded, 0), coalesce(q.rows_rejected, 0),
                          q.reject_rate_pct
                   FROM analyst.department d LEFT JOIN analyst.data_quality q
                     ON q.department = d.department AND q.month = ?
                   WHERE q.files IS NOT NULL ORDER BY q.reject_rate_pct DESC NULLS LAST, d.department""", month)
    parts.append(f"<h2>一、各部门报送情况（{_e(month)}）</h2>")
    if quality:
        labels = [charts.label_or_code(r[1], r[0]) for r in quality]
        rate, loaded, rejected = (_chart_text(t) for t in ("退回率", "入库行数", "退回行数"))
        parts.append(_figure(charts.hbar(labels, {rate: [float(r[7] or 0) for r in quality]}, _chart_text("退回率（%）"),
                                         percent=True), "图1 各部门退回率（整体退回的文件按100%计）"))
        parts.append(_figure(charts.hbar(labels, {loaded: [r[5] for r in quality], rejected: [r[6] for r in quality]},
                                         _chart_text("行数")), "图2 各部门入库和退回行数"))
        n += 2
    parts.append(_table(["部门", "文件数", "整体退回文件", "读取行数", "入库行数", "退回行数", "退回率（%）"],
                        [r[1:] for r in quality], {1, 2, 3, 4, 5, 6}))

    errors = q("""SELECT code, any_value(title_zh), sum(occurrences) AS n, count(DISTINCT department)
                  FROM analyst.data_quality_error WHERE month = ? AND severity = 'error'
                  GROUP BY code ORDER BY n DESC, code LIMIT 10""", month)
    parts.append("<h2>二、主要数据问题</h2>")
    if errors:
        parts.append(_figure(charts.hbar([charts.label_or_code(r[1] or r[0], r[0]) for r in errors],
                                         {_chart_text("出现次数"): [r[2] for r in errors]}, _chart_text("出现次数")),
                             "图3 本月出现最多的校验错误"))
        n += 1
    parts.append(_table(["代码", "问题", "出现次数", "涉及部门数"], errors, {2, 3}))

    late = q("""SELECT department_name, status_zh, deadline, delivered_at, days_late, note
                FROM analyst.timeliness WHERE month = ? AND status IN ('late', 'missing', 'rejected')
                ORDER BY status, department""", month)
    parts.append("<h2>三、逾期和未报送的部门</h2>")
    parts.append(_table(["部门", "状态", "截止日", "报送时间", "逾期天数", "说明"],
                        [(a, b, c, d.strftime("%Y-%m-%d %H:%M") if d else None, e, f) for a, b, c, d, e, f in late],
                        {4}))

    sizes = q("SELECT as_of, list_name, list_name_zh, entries FROM analyst.list_size ORDER BY as_of, list_name")
    parts.append("<h2>四、名单规模及变化</h2>")
    if sizes:
        dates = sorted({r[0] for r in sizes})
        names = {r[1]: charts.label_or_code(r[2], r[1]) for r in sizes}
        count = {(r[0], r[1]): r[3] for r in sizes}
        parts.append(_figure(charts.lines(dates, {names[k]: [count.get((d, k), 0) for d in dates] for k in names},
                                          _chart_text("条目数")), "图4 各名单条目数（夜间任务各评估日期）"))
        n += 1
    changes = q("""SELECT list_name_zh, count(*) FILTER (WHERE change = 'added'),
                          count(*) FILTER (WHERE change = 'removed')
                   FROM analyst.list_change WHERE month = ? GROUP BY ALL ORDER BY 1""", month)
    parts.append(f"<p>{_e(month)} 各名单新列入和移出条目数：</p>")
    parts.append(_table(["名单", "新列入", "移出"], changes, {1, 2}))

    parts.append("<h2>五、政务诚信</h2>")
    warnings = q("SELECT level_zh, name, message FROM analyst.gov_warning WHERE as_of = ? ORDER BY level, name", as_of)
    parts.append("".join(f'<p class="warn">{_e(lv)}：{_e(msg)}</p>' for lv, _, msg in warnings) or "<p>无预警。</p>")
    ranking = q("""SELECT level_zh, rank, name, score, stars FROM analyst.gov_ranking WHERE as_of = ?
                   ORDER BY level, rank, name""", as_of)
    parts.append(_table(["级别", "排名", "名称", "得分", "星级"], ranking, {1, 3}))
    return "".join(parts), n
