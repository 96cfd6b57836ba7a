"""Find natural persons' names and IDs where they must not be: the analyst snapshot, Dagster's storage, logs.

The needles come from the warehouse itself (every person subject, legal representative and responsible
person); an ID counts in its raw 18-digit form, its 15-digit first-generation form, and any partly starred
form that still shows its first 6 and last 4 characters. Findings name the place and count, never the value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .privacy import COPIED_SCHEMAS, PERSON_KEY_PREFIX

MIN_NAME_CHARS = 2  # a one-character "name" would match everywhere


@dataclass(frozen=True)
class Finding:
    where: str   # file path, or schema.table.column
    hits: int


@dataclass(frozen=True)
class Needles:
    names: frozenset[str]
    ids: frozenset[str]
    starred: bool = True  # partly starred IDs count (not in public exports, whose masking rule shows 6 + 4)

    def pattern(self) -> re.Pattern[str]:
        parts = []
        for name in sorted(self.names, key=len, reverse=True):  # as written, and JSON-escaped (\\u5f20\\u4e09)
            parts += [re.escape(name), re.escape(json.dumps(name)[1:-1])]
        for pid in sorted(self.ids):
            parts.append(re.escape(pid))
            if len(pid) == 18 and self.starred:
                head, tail = re.escape(pid[:6]), re.escape(pid[-4:])
                parts.append(f"{head}(?:[0-9Xx*]|＊){{8}}{tail}")  # partly starred 18-char forms
            if len(pid) == 18 and pid[6:8] == "19":
                parts.append(re.escape(pid[:6] + pid[8:17]))  # 15-digit first-generation form
        return re.compile("|".join(parts) if parts else r"(?!x)x")


def collect(conn) -> Needles:
    """Every natural person's name and ID held by the warehouse (an open connection to it)."""
    names: set[str] = set()
    ids: set[str] = set()
    for sid, name, variants in conn.execute(
            "SELECT subject_id, canonical_name, name_variants FROM core.subject WHERE subject_type = 'person'"
    ).fetchall():
        ids.add(sid.removeprefix(PERSON_KEY_PREFIX))
        names.update([name, *(variants or [])])
    for rep_id, rep_name in conn.execute(
            "SELECT DISTINCT legal_rep_id, legal_rep_name FROM core.credit_record "
            "WHERE legal_rep_id IS NOT NULL OR legal_rep_name IS NOT NULL").fetchall():
        if rep_id:
            ids.add(rep_id.removeprefix(PERSON_KEY_PREFIX))
        if rep_name:
            names.add(rep_name)
    return Needles(frozenset(n for n in names if n and len(n) >= MIN_NAME_CHARS), frozenset(i for i in ids if i))


def scan_database(path: str | Path, needles: Needles, schemas=COPIED_SCHEMAS) -> list[Finding]:
    """Every text value (VARCHAR, JSON, lists and maps of text) of every table and view of `schemas` in a DuckDB file."""
    pattern = needles.pattern()
    findings = []
    conn = duckdb.connect(str(path), read_only=True)
    try:
        columns = conn.execute(
            "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE list_contains(?, schema_name) AND (data_type IN ('VARCHAR', 'JSON') OR data_type LIKE '%[]' "
            "OR data_type LIKE 'MAP(%') "
            "ORDER BY ALL", [list(schemas)]).fetchall()
        for schema, table, column, _ in columns:
            values = conn.execute(
                f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM {schema}."{table}" WHERE "{column}" IS NOT NULL'
            ).fetchall()
            hits = sum(len(pattern.findall(v)) for (v,) in values)
            if hits:
                findings.append(Finding(f"{schema}.{table}.{column}", hits))
    finally:
        conn.close()
    return findings


def scan_files(root: str | Path, needles: Needles) -> list[Finding]:
    """`root` or every file under it, read as bytes (SQLite databases, compute logs, JSON, text logs)."""
    pattern = re.compile(needles.pattern().pattern.encode())
    root = Path(root)
    findings = []
    for path in [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()):
        hits = len(pattern.findall(path.read_bytes()))
        if hits:
            findings.append(Finding(str(path), hits))
    return findings
