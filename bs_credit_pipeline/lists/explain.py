"""Why a subject is or is not on each list as of a date (the `bs-credit explain` command's logic).

Reads the mart tables as built for the date (lists.build_all) and the rules; returns a plain dict (Chinese texts)
that the CLI prints or dumps as JSON. Every entry names its records (file, sheet, row), its rule id with the legal
basis, and the dates that decide it; every absence says which condition fails and, where the data allow, the
earliest date it could change without new data.
"""

from __future__ import annotations

import datetime as dt
import json

from ..contracts import Registry



def rule_basis(rules: dict) -> dict[str, str]:
    """rule id -> Chinese title and legal basis, from every rule file that names one."""
    display = rules["display_periods"]
    sources = display.get("sources", {})
    out = {}
    for p in display["penalty_rules"]:
        src = sources.get(p.get("source"), {})
        out[p["id"]] = f"{p['title']}（{src.get('number', '')}，{src.get('effective_from', '')} 起施行）"
    for kind, spec in display["kinds"].items():
        if spec.get("rule_id"):
            src = sources.get(spec.get("source"), {})
            out[spec["rule_id"]] = (f"{src['document']}{src['number']}" if src else spec.get("basis", spec["rule_id"]))
    lists = rules["lists"]
    for b in lists["black_list"]:
        out[b["id"]] = f"{b['list_name']}：{b.get('basis', '')}"
    for r in lists["watch_list"]["rules"]:
        out[r["id"]] = f"重点关注（{r['name']}）：{r.get('basis', '')}"
    red, green = lists["red_list"], lists["green_channel"]
    out[red["good_record"]["id"]] = f"红名单（优良信用记录）：{red['good_record'].get('basis', '')}"
    out[red["volunteer"]["id"]] = (f"红名单（{red['volunteer']['window_months']}个月内志愿服务满"
                                   f"{red['volunteer']['min_hours']:g}小时）：{red['volunteer'].get('basis', '')}")
    out[green["from_red_list"]["id"]] = f"绿色通道：{green['from_red_list'].get('basis', '')}"
    out[green["clean_history"]["id"]] = f"绿色通道：{green['clean_history'].get('basis', '')}"
    for m in rules["measures"]["measures"]:
        out[m["id"]] = f"{m['name']}（实施部门 {m['department']}）"
    return out


def _rows(conn, sql: str, params: list) -> list[dict]:
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _day(value) -> str | None:
    return value.isoformat() if isinstance(value, dt.date) else value


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def explain_subject(conn, subject_id: str, as_of: dt.date, rules: dict, registry: Registry) -> dict:
    """The explanation of one subject as of the date the mart tables hold (they must be built for as_of)."""
    basis = rule_basis(rules)
    titles = {k: c.title for k, c in registry.contracts.items()}
    keys = {k: c.natural_key[0] for k, c in registry.contracts.items()}
    records = _rows(conn, """
        SELECT rs.*, cr.payload FROM mart.record_status rs
        JOIN core.credit_record cr ON cr.version_id = rs.version_id
        WHERE rs.subject_id = ? ORDER BY rs.record_date, rs.record_id""", [subject_id])
    by_id = {}
    out_records = []
    for r in records:
        payload = json.loads(r.pop("payload") or "{}")
        item = {
            "record_id": r["record_id"], "kind": r["kind"], "kind_title": titles.get(r["kind"], r["kind"]),
            "document_no": payload.get(keys.get(r["kind"], ""), None), "category": r["category"],
            "department": r["department"], "file_name": r["file_name"], "sheet": r["sheet"],
            "excel_row": r["excel_row"], "record_date": _day(r["record_date"]), "polarity": r["polarity"],
            "severity_tier": r["severity_tier"], "status": r["status"], "status_reason": r["status_reason"],
            "rule_id": r["rule_id"], "rule_basis": basis.get(r["rule_id"], r["rule_id"]),
            "repair_possible_from": _day(r["display_min_end"]),
            "last_display_day": _day(r["display_max_end"] - dt.timedelta(days=1)) if r["display_max_end"] else None,
        }
        by_id[r["record_id"]] = item
        out_records.append(item)
    name = records[-1]["subject_name"] if records else None
    stype = records[-1]["subject_type"] if records else None

    def entries(sql: str, params: list) -> list[dict]:
        found = []
        for e in _rows(conn, sql, params):
            reasons = json.loads(e.pop("reasons") or "[]")
            e = {k: _day(v) for k, v in e.items()}
            e["rule_basis"] = basis.get(e.get("rule_id"), e.get("rule_id"))
            e["records"] = [{"record_id": x["record_id"], "kind_title": titles.get(x["kind"], x["kind"]),
                             "document_no": by_id.get(x["record_id"], {}).get("document_no"),
                             "file_name": x["file_name"], "sheet": x["sheet"], "excel_row": x["excel_row"],
                             "rule": x.get("rule"), "rule_basis": basis.get(x.get("rule"), x.get("rule"))}
                            for x in reasons]
            found.append(e)
        return found

    lists = {
        "black_list": entries("SELECT list_name, first_listed, listed_until, withheld, rule_id, reasons "
                              "FROM mart.black_list WHERE subject_id = ?", [subject_id]),
        "punishment_measure": entries("SELECT role, listed_subject_id, listed_subject_name, list_name, measure, "
                                      "department, rule_id, reasons FROM mart.punishment_measure "
                                      "WHERE subject_id = ?", [subject_id]),
        "watch_list": entries("SELECT watch_type, withheld, rule_id, reasons FROM mart.watch_list "
                              "WHERE subject_id = ?", [subject_id]),
        "red_list": entries("SELECT basis, volunteer_hours, rule_id, reasons FROM mart.red_list "
                            "WHERE subject_id = ?", [subject_id]),
        "green_channel": entries("SELECT basis, rule_id, reasons FROM mart.green_channel WHERE subject_id = ?",
                                 [subject_id]),
        "gov_warning": entries("SELECT level, warning_type, message, rule_id, reasons FROM mart.gov_warning "
                               "WHERE evaluated_id = ?", [subject_id]),
    }
    score = _rows(conn, "SELECT score, grade, rule_id, items FROM mart.integrity_score WHERE subject_id = ?",
                  [subject_id])
    out_lists, titles = [], rules["lists"]["explain"]["titles"]
    for key, found in lists.items():
        why_not, next_change = (None, None) if found else _why_not(key, out_records, as_of, rules, stype)
        out_lists.append({"list": key, "title": titles[key], "on": bool(found), "entries": found,
                          "why_not": why_not, "earliest_change": _day(next_change)})
    if score:
        s = score[0]
        out_lists.append({"list": "integrity_score", "title": titles["integrity_score"], "on": True,
                          "entries": [{"score": s["score"], "grade": s["grade"], "rule_id": s["rule_id"],
                                       "items": json.loads(s["items"] or "[]")}],
                          "why_not": None, "earliest_change": None})
    repairs = [{k: _day(v) for k, v in r.items()} for r in _rows(conn, """
        SELECT repair_id, record_id, target_kind, target_ref, received_date, decided_date, outcome, department,
               status, unmet_preconditions, status_reason FROM mart.repair_decision WHERE subject_id = ?
        ORDER BY decided_date, repair_id""", [subject_id])]
    objections = [{k: _day(v) for k, v in r.items()} for r in _rows(conn, """
        SELECT objection_id, record_id, target_kind, target_ref, received_date, decided_date, outcome, status,
               status_reason FROM mart.objection_decision WHERE subject_id = ?
        ORDER BY received_date, objection_id""", [subject_id])]
    return {"as_of": as_of.isoformat(), "subject_id": subject_id, "subject_name": name, "subject_type": stype,
            "lists": out_lists, "records": out_records, "repairs": repairs, "objections": objections}


def _why_not(key: str, records: list[dict], as_of: dt.date, rules: dict, stype: str | None
             ) -> tuple[str, dt.date | None]:
    """Chinese reason a subject is not on the list (lists.yaml explain.why_not), and the earliest date that could
    change without new data."""
    t = rules["lists"]["explain"]["why_not"]
    if not records:
        return t["no_records"], None
    bad = [r for r in records if r["polarity"] == "bad"]
    future = sorted(r["record_date"] for r in records if r["status"] == "future")
    nxt = dt.date.fromisoformat(future[0]) if future else None
    if key in ("black_list", "punishment_measure"):
        kinds = {b["kind"] for b in rules["lists"]["black_list"]}
        listing = [r for r in records if r["kind"] in kinds]
        if not listing:
            return t["no_listing"], nxt
        return t["listing_not_in_force"].format(
            items="；".join(f"{r['document_no']}（{r['status_reason']}）" for r in listing)), nxt
    if key == "watch_list":
        active = [r for r in bad if r["status"] == "active"]
        if not active:
            return t["no_active_bad"], nxt
        return t["not_a_watch_case"].format(
            items="；".join(f"{r['kind_title']} {r['document_no']}（{r['category']}）" for r in active)), nxt
    if key == "gov_warning":
        return t["gov_warning_org"] if stype == "org" else t["gov_warning_person"], nxt
    blocking = [r for r in bad if r["status"] in rules["lists"]["red_list"]["blocking_statuses"]]
    if key == "red_list":
        if blocking:
            ends = [r["last_display_day"] for r in blocking]
            when = (dt.date.fromisoformat(max(ends)) + dt.timedelta(days=1)) if all(ends) else None
            return t["blocked_by_bad"].format(items="；".join(
                f"{r['kind_title']} {r['document_no']}（{r['status_reason']}）" for r in blocking)), when
        good = [r for r in records if r["polarity"] == "good" and r["kind"] != "volunteer_service"]
        active_good = [r for r in good if r["status"] == "active"]
        if not active_good:
            vol = rules["lists"]["red_list"]["volunteer"]
            return (t["no_good_record"].format(window_months=vol["window_months"], min_hours=f"{vol['min_hours']:g}")
                    + (t["good_records"].format(items="；".join(f"{r['document_no']} {r['status_reason']}" for r in good))
                       if good else "")), nxt
        return t["good_but_absent"], nxt
    # green channel
    years = int(rules["lists"]["green_channel"]["clean_history"]["years"])
    known = [dt.date.fromisoformat(r["record_date"]) for r in records if r["status"] not in ("future", "deleted")]
    if not known:
        return t["nothing_in_force"], (_add_years(nxt, years) if nxt else None)
    first = min(known)
    when = _add_years(first, years)
    reasons = []
    if when > as_of:
        reasons.append(t["too_recent"].format(first=first.isoformat(), years=years, when=when.isoformat()))
    window = [r for r in bad if r["status"] in rules["lists"]["green_channel"]["clean_history"]["blocking_statuses"]
              and r["record_date"] and dt.date.fromisoformat(r["record_date"]) > _add_years(as_of, -years)]
    for r in window:
        reasons.append(t["bad_in_window"].format(years=years, kind=r["kind_title"], document_no=r["document_no"],
                                                 date=r["record_date"]))
        when = max(when, _add_years(dt.date.fromisoformat(r["record_date"]), years))
    for r in blocking:
        if r["last_display_day"] is None:
            when = None
            break
        if when is not None:
            when = max(when, dt.date.fromisoformat(r["last_display_day"]) + dt.timedelta(days=1))
    return ("；".join(reasons) or t["not_clean"]), when


def render(explanation: dict) -> str:
    """Chinese text of an explanation (the CLI's default output)."""
    e = explanation
    lines = [f"主体 {e['subject_name'] or '（无记录）'}（{e['subject_id']}），评估日期 {e['as_of']}"]
    for item in e["lists"]:
        if item["on"]:
            lines.append(f"■ {item['title']}：在列")
            for entry in item["entries"]:
                head = "，".join(f"{k}={v}" for k, v in entry.items()
                                if k not in ("records", "rule_basis", "items") and v is not None)
                lines.append(f"    {head}")
                lines.append(f"    规则：{entry.get('rule_id')} {entry.get('rule_basis') or ''}")
                for r in entry.get("records", []):
                    lines.append(f"    依据记录：{r['kind_title']} {r['document_no'] or ''}（{r['file_name']} "
                                 f"{r['sheet']} 第{r['excel_row']}行；{r['rule']} {r['rule_basis'] or ''}）")
        else:
            change = f"；最早可能变化日期 {item['earliest_change']}" if item["earliest_change"] else ""
            lines.append(f"□ {item['title']}：不在列。{item['why_not']}{change}")
    lines.append("信用记录：")
    for r in e["records"]:
        lines.append(f"  {r['kind_title']} {r['document_no'] or ''} {r['record_date']} {r['category'] or ''}"
                     f" 状态：{r['status_reason']}；规则 {r['rule_id']}（{r['rule_basis']}）；"
                     + (f"可申请修复 {r['repair_possible_from']}；" if r["polarity"] == "bad" else "")
                     + f"最后{'公示' if r['polarity'] == 'bad' else '有效'}日 {r['last_display_day'] or '无固定期限'}；"
                     f"来源 {r['department']} {r['file_name']} {r['sheet']} 第{r['excel_row']}行")
    for r in e["repairs"]:
        lines.append(f"信用修复 {r['target_ref']}（{r['decided_date']}）：{r['status_reason']}")
    for o in e["objections"]:
        lines.append(f"异议 {o['target_ref']}（{o['received_date']} 受理）：{o['status_reason']}")
    return "\n".join(lines)
