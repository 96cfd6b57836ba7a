"""Sanction lists: mart.black_list, mart.punishment_measure, mart.watch_list (SQL in lists/queries/)."""

from __future__ import annotations

import datetime as dt

from . import rule_tables, sqlfiles
from .sql import in_list, keyword_regex, lit


def build_black_list(conn, as_of: dt.date, rules: dict) -> None:
    """Active listing decisions (dishonest debtors, serious-dishonesty lists), one row per subject and list."""
    rule_tables.create(conn, rule_tables.list_statements(as_of, rules))
    sqlfiles.run(conn, "black_list")


def build_punishment_measures(conn, as_of: dt.date, rules: dict) -> None:
    """Measures per black-list subject, and per legal representative of a listed organisation."""
    rule_tables.create(conn, rule_tables.list_statements(as_of, rules))
    sqlfiles.run(conn, "punishment_measure")


def _condition_sql(cond: dict, fields: list[str]) -> str:
    """One `when` condition over the columns of the watch-list CTE `fielded` (all given keys must match exactly)."""
    parts = []
    for key, column in (("kinds", "kind"), ("domains", "domain"),
                        ("departments", "department"), ("tiers", "severity_tier")):
        if cond.get(key):
            parts.append(f"{column} IN {in_list(cond[key])}")
    if cond.get("categories"):  # a multi-value category is split only when it has several values
        parts.append(f"(category IN {in_list(cond['categories'])} OR (contains(category, '、') AND array_length("
                     f"list_filter(string_split(category, '、'), lambda c: c IN {in_list(cond['categories'])})) > 0))")
    if cond.get("field"):
        parts.append(f"f[{fields.index(cond['field']) + 1}] IN {in_list(cond['values'])}")
    return "(" + " AND ".join(parts or ["TRUE"]) + ")"


def _watch_fields(watch: dict) -> list[str]:
    """Payload fields the mapping and the look-alike search read, in a fixed order."""
    fields = [c["field"] for r in watch["rules"] for c in r["when"] if c.get("field")]
    fields += watch.get("look_alike_fields", [])
    return list(dict.fromkeys(fields))


def watch_fragments(rules: dict) -> dict[str, str]:
    """The rendered fragments of watch_list.sql (see its header) from lists.yaml watch_list."""
    watch = rules["lists"]["watch_list"]
    fields = _watch_fields(watch)
    # payload text is stored trimmed (intake normalises every cell), so values compare as they are
    extract = (f"json_extract_string(cr.payload, [{', '.join(lit('$.' + f) for f in fields)}])" if fields
               else "CAST([] AS VARCHAR[])")
    hits = ", ".join(  # the categories a record maps to (each condition evaluated once per record)
        f"CASE WHEN {' OR '.join(_condition_sql(c, fields) for c in r['when'])}"
        f" THEN {{'rule_id': {lit(r['id'])}, 'watch_type': {lit(r['name'])}}} END"
        for r in watch["rules"]
    )
    keywords = [k for r in watch["rules"] for k in r.get("look_alike", [])]
    text = " || ' ' || ".join(["coalesce(category, '')"] + [
        f"coalesce(f[{fields.index(f) + 1}], '')" for f in watch.get("look_alike_fields", [])])
    return {"watch_fields": extract, "watch_hits": hits, "look_text": text,
            "look_any": f"regexp_matches({text}, {keyword_regex(keywords)})" if keywords else "FALSE"}


def build_watch_list(conn, as_of: dt.date, rules: dict) -> None:
    """重点关注名单: subjects with listable bad records mapped to a category, one row per subject and category;
    mart.watch_unmapped: listable bad records mapped to no category whose cause contains a look-alike keyword."""
    rule_tables.create(conn, rule_tables.list_statements(as_of, rules))
    sqlfiles.run(conn, "watch_list", **watch_fragments(rules))
