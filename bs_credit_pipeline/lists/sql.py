"""Small helpers to render rule data as SQL literals, for the rule relations (rule_tables.py) and the few rendered
fragments of the SQL files (rules are trusted repository data, still quoted)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable


def ident(name: str) -> str:
    """SQL quoted identifier (a column name as a department wrote it, a contract field)."""
    return '"' + name.replace('"', '""') + '"'


def lit(value) -> str:
    """SQL literal for None, bool, int, float, str, date or datetime."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def in_list(items: Iterable) -> str:
    """``(a, b, ...)`` for IN; ``(NULL)`` when empty so the predicate is never true."""
    items = list(items)
    return "(" + ", ".join(lit(i) for i in items) + ")" if items else "(NULL)"


def keyword_regex(keywords: Iterable[str]) -> str:
    """Literal regex matching any keyword."""
    return lit("|".join(re.escape(k) for k in keywords))


def template(text: str, **exprs: str) -> str:
    """SQL concatenating a Chinese text template of rule data: each ``{name}`` becomes the SQL expression
    exprs[name] (a template naming a placeholder no caller passes is a rules error)."""
    parts = re.split(r"\{(\w+)\}", text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            if part not in exprs:
                raise KeyError(f"text {text!r}: unknown placeholder {{{part}}} (known: {', '.join(sorted(exprs))})")
            out.append(f"coalesce(CAST({exprs[part]} AS VARCHAR), '')")
        elif part:
            out.append(lit(part))
    return "(" + " || ".join(out or ["''"]) + ")"
