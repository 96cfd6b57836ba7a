"""The list SQL files (lists/queries/*.sql): read one, fill its few rendered fragments, run its statements.

A file is DuckDB SQL in the portable subset sqlglot translates to Spark SQL (docs/WAREHOUSE.md "List SQL").
It reads the run's parameters from the one-row relation ``run_params`` and the rules from ``rule_*`` relations
(lists/rule_tables.py creates both). A fragment that rules must still render is marked ``/*{name}*/`` in the
file, its header saying which function fills it. Statements are sent one by one through ``conn.execute``, so any
connection with that method (DuckDB, or the Spark one) runs them.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from sqlglot.tokens import TokenType
from sqlglot.dialects.duckdb import DuckDB

QUERIES = Path(__file__).resolve().with_name("queries")
PLACEHOLDER = re.compile(r"/\*\{(\w+)\}\*/")


def names() -> list[str]:
    """Every SQL file's name (without .sql)."""
    return sorted(p.stem for p in QUERIES.glob("*.sql"))


@functools.cache
def text(name: str) -> str:
    """The text of queries/<name>.sql."""
    return (QUERIES / f"{name}.sql").read_text(encoding="utf-8")


def placeholders(name: str) -> list[str]:
    """The fragment names the file expects, in order of first use."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text(name))))


def render(name: str, **fragments: str) -> str:
    """The file with each ``/*{name}*/`` replaced by its fragment; every fragment must be given, none more."""
    wanted = set(placeholders(name))
    if wanted != set(fragments):
        raise KeyError(f"{name}.sql: fragments {sorted(wanted)} expected, {sorted(fragments)} given")
    return PLACEHOLDER.sub(lambda m: fragments[m.group(1)], text(name))


def split(sql: str) -> list[str]:
    """The statements of a SQL script (semicolons inside strings and comments do not split)."""
    out, start = [], 0
    for token in DuckDB().tokenize(sql):
        if token.token_type == TokenType.SEMICOLON:
            out.append(sql[start:token.start])
            start = token.end + 1
    out.append(sql[start:])
    return [s.strip() for s in out if DuckDB().tokenize(s)]


@functools.cache
def _statements(name: str, fragments: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    return tuple(split(render(name, **dict(fragments))))


def statements(name: str, **fragments: str) -> list[str]:
    """The statements of queries/<name>.sql, fragments filled."""
    return list(_statements(name, tuple(sorted(fragments.items()))))


def run(conn, name: str, **fragments: str):
    """Execute every statement of queries/<name>.sql in order; returns the last statement's result."""
    result = None
    for statement in statements(name, **fragments):
        result = conn.execute(statement)
    return result
