"""Pseudonymised analyst snapshot (analytics.duckdb), built as a new file and swapped in atomically.

What changes on the way from the warehouse to the snapshot:

- Natural persons' IDs become keyed tokens `P_` + first 32 hex of HMAC-SHA256(key, id): subject_id of persons
  (core.subject, core.credit_record) and credit_record.legal_rep_id; inside the payload the same values are
  replaced by the same tokens, so the same person gets the same token everywhere, in every build (same key).
- Persons' names are masked to the first character plus `*`: subject_name / canonical_name / name_variants of
  persons, legal_rep_name, and the same values inside the payload.
- Any other citizen-ID-shaped substring left in a payload (another key, free text) is replaced by `[已脱敏]`;
  so is one in ops.rejected_row.raw_value.
- Other tables (mart, core.repair, core.objection, ...) are copied with every VARCHAR value that is a whole
  citizen-ID-shaped string tokenised, ID-shaped substrings in JSON masked, and subject_name masked where the
  table has subject_type = 'person'.
- snapshot_info holds a build id, build time, schema version and row counts, for readers to check.

The key never enters any database file. The warehouse is attached read-only, so no process may hold it open
for writing meanwhile: run the build in the warehouse's single-writer slot.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from .. import faults
from ..identifiers import pseudonymise
from .schema import MEMORY_LIMIT, open_waiting

# Citizen-ID shape: address code, birth date 18xx-20xx, sequence, check char; \b keeps tokens (P_ + hex) out.
ID_PATTERN = r"\b\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]\b"
MASKED = "[已脱敏]"
# RE2's \b does not separate digits from CJK punctuation (“533001…”), so embedded IDs are delimited explicitly.
_EMBEDDED = "(^|[^0-9A-Za-z])(" + ID_PATTERN.removeprefix(r"\b").removesuffix(r"\b") + ")($|[^0-9A-Za-z])"
_COPIED_SCHEMAS = ("core", "mart", "ops")


@dataclass(frozen=True)
class SnapshotInfo:
    build_id: str
    path: Path
    records: int
    subjects: int
    size_bytes: int
    duration_s: float


# Record ids are sha256 of a natural key that holds the subject's raw ID (and the decision number, which the
# payload shows): unkeyed, they could be brute-forced back to the ID. The snapshot replaces every record id —
# in id columns, in lists of ids and inside JSON (reasons, items, indicators) — by a keyed token.
RECORD_ID_COLUMNS = frozenset({"record_id", "repair_id", "objection_id"})
_HEX32 = "[0-9a-f]{32}"
_RECORD_ID_RE = re.compile(rf"(?<![0-9a-f]){_HEX32}(?![0-9a-f])")


class RecordTokens:
    """Keyed tokens for record ids: 'R_' + 32 hex of sha256(key ‖ id), the same in SQL and in Python.

    Whole values are tokenised in SQL (vectorised, nothing cached); ids embedded in JSON text by a Python UDF.
    The key appears only in the query text, never in a table, view or macro of the snapshot file.
    """

    def __init__(self, key: bytes):
        self._salt = sha256(b"record-id|" + key).hexdigest()

    def sql(self, expr: str) -> str:
        return f"('R_' || substr(sha256('{self._salt}' || {expr}), 1, 32))"

    def token(self, record_id: str) -> str:
        return "R_" + sha256((self._salt + record_id).encode()).hexdigest()[:32]

    def embedded(self, values: pa.Array | pa.ChunkedArray) -> pa.Array:
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        hit = pc.fill_null(pc.match_substring_regex(values, _HEX32), False)  # RE2 prefilter, then exact in Python
        if not pc.any(hit).as_py():
            return values
        rewritten = [_RECORD_ID_RE.sub(lambda m: self.token(m.group()), v) for v in values.filter(hit).to_pylist()]
        return pc.replace_with_mask(values, hit, pa.array(rewritten, pa.string()))


def _mask(expr: str) -> str:
    return f"CASE WHEN {expr} IS NULL THEN NULL ELSE left({expr}, 1) || repeat('*', length({expr}) - 1) END"


def _tokenise_id(expr: str) -> str:
    return f"CASE WHEN regexp_full_match({expr}, '{ID_PATTERN}') THEN pseudonym({expr}) ELSE {expr} END"


def _residual(text: str) -> str:
    """Mask citizen-ID-shaped substrings left in a text (the regexp_replace only runs where one is found)."""
    # Two passes: a match consumes the delimiter after it, so of two adjacent IDs ("a|b") one pass masks only a.
    once = f"regexp_replace({text}, '{_EMBEDDED}', '\\1{MASKED}\\3', 'g')"
    twice = f"regexp_replace({once}, '{_EMBEDDED}', '\\1{MASKED}\\3', 'g')"
    return f"CASE WHEN regexp_matches({text}, '{_EMBEDDED}') THEN {twice} ELSE {text} END"


def _payload_text() -> str:
    """Payload text with the subject's and legal representative's IDs and names replaced as whole JSON values.

    Plain string replacement of the JSON-encoded value (quotes included) keeps the JSON valid and costs far
    less than parsing it; other ID-shaped substrings are masked afterwards. Expects columns
    subject_token and legal_rep_token (joined from the token table).
    """
    person = "subject_type = 'person'"
    text = "CAST(payload AS VARCHAR)"
    for raw, new, condition in (
        ("subject_id", "subject_token", person),
        ("subject_name", _mask("subject_name"), person),
        ("legal_rep_id", "legal_rep_token", "legal_rep_id IS NOT NULL"),
        ("legal_rep_name", _mask("legal_rep_name"), "legal_rep_name IS NOT NULL"),
    ):
        search = f"CASE WHEN {condition} THEN CAST(to_json({raw}) AS VARCHAR) ELSE '' END"
        replacement = f"CASE WHEN {condition} THEN CAST(to_json({new}) AS VARCHAR) ELSE '' END"
        text = f"replace({text}, {search}, {replacement})"
    return text


def _build_tokens(conn, pseudonymiser) -> None:
    """Temp table person_token(value, token) for every person subject ID and legal representative ID."""
    values = conn.sql(
        """SELECT DISTINCT value FROM (
               SELECT subject_id AS value FROM wh.core.subject WHERE subject_type = 'person'
               UNION ALL SELECT legal_rep_id FROM wh.core.credit_record WHERE legal_rep_id IS NOT NULL)"""
    ).to_arrow_table().column("value")
    conn.register("person_token_arrow", pa.table({"value": values, "token": pseudonymiser(values)}))
    conn.execute("CREATE TEMP TABLE person_token AS SELECT * FROM person_token_arrow")
    conn.unregister("person_token_arrow")


def _generic_select(conn, schema: str, table: str, records: RecordTokens) -> str:
    columns = conn.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = 'wh' "
        "AND schema_name = ? AND table_name = ? ORDER BY column_index", [schema, table]).fetchall()
    names = {c for c, _ in columns}
    parts = []
    for column, data_type in columns:
        q = f'"{column}"'
        if column == "subject_name" and "subject_type" in names:
            parts.append(f"CASE WHEN subject_type = 'person' THEN {_mask(q)} ELSE {q} END AS {q}")
        elif column in RECORD_ID_COLUMNS:
            parts.append(f"{records.sql(q)} AS {q}")
        elif column == "version_id":
            parts.append(f"{_version_token(q, records)} AS {q}")
        elif data_type == "VARCHAR[]":
            parts.append(f"list_transform({q}, lambda v: record_tokens_in(v)) AS {q}")
        elif data_type == "VARCHAR":
            # A whole-value ID becomes its token; an ID inside text (a message, a composite key) is masked.
            parts.append(f"{_residual(_tokenise_id(q))} AS {q}")
        elif data_type == "JSON":
            parts.append(f"CAST(record_tokens_in({_residual(f'CAST({q} AS VARCHAR)')}) AS JSON) AS {q}")
        else:
            parts.append(q)
    return f"SELECT {', '.join(parts)} FROM wh.{schema}.{table}"


def _version_token(expr: str, records: RecordTokens) -> str:
    """version_id = record_id|version: the record part tokenised, the version kept."""
    return f"{records.sql(f'split_part({expr}, {chr(39)}|{chr(39)}, 1)')} || '|' || split_part({expr}, '|', 2)"


def _explicit_selects(records: RecordTokens) -> dict[tuple[str, str], str]:
    person = "subject_type = 'person'"
    return {
        ("core", "subject"): f"""SELECT s.* REPLACE (
            CASE WHEN {person} THEN t.token ELSE subject_id END AS subject_id,
            CASE WHEN {person} THEN {_mask('canonical_name')} ELSE canonical_name END AS canonical_name,
            CASE WHEN {person} THEN list_transform(name_variants, lambda n: {_mask('n')}) ELSE name_variants END
                AS name_variants)
            FROM wh.core.subject AS s LEFT JOIN person_token AS t ON t.value = s.subject_id""",
        ("core", "credit_record"): f"""SELECT * EXCLUDE (payload_text, subject_token, legal_rep_token) REPLACE (
            {records.sql('record_id')} AS record_id, {_version_token('version_id', records)} AS version_id,
            CASE WHEN {person} THEN subject_token ELSE subject_id END AS subject_id,
            CASE WHEN {person} THEN {_mask('subject_name')} ELSE subject_name END AS subject_name,
            legal_rep_token AS legal_rep_id, {_mask('legal_rep_name')} AS legal_rep_name,
            CAST(payload_text AS JSON) AS payload)
            FROM (SELECT *, {_payload_text()} AS payload_text FROM (
                SELECT r.*, ts.token AS subject_token, tl.token AS legal_rep_token
                FROM wh.core.credit_record AS r
                LEFT JOIN person_token AS ts ON ts.value = r.subject_id AND r.subject_type = 'person'
                LEFT JOIN person_token AS tl ON tl.value = r.legal_rep_id))""",
        ("ops", "rejected_row"): f"""SELECT * REPLACE ({_residual('raw_value')} AS raw_value,
            {_residual('message')} AS message) FROM wh.ops.rejected_row""",
    }


def build_snapshot(warehouse_path: str | Path, snapshot_path: str | Path, key: bytes) -> SnapshotInfo:
    """Build the pseudonymised snapshot in a temporary file beside `snapshot_path`, then os.replace it."""
    if not key:
        raise ValueError("pseudonym key is empty: set BS_CREDIT_PSEUDONYM_KEY")

    def pseudonymiser(values: pa.Array | pa.ChunkedArray) -> pa.Array:
        return pseudonymise(values, key)

    started = time.perf_counter()
    snapshot_path = Path(snapshot_path)
    build_id = uuid.uuid4().hex
    tmp = snapshot_path.parent / f".{snapshot_path.name}.{build_id}.tmp"
    conn = duckdb.connect(str(tmp), config={"memory_limit": MEMORY_LIMIT})
    try:
        conn.execute("SET enable_progress_bar = false")
        conn.create_function("pseudonym", pseudonymiser, ["VARCHAR"], "VARCHAR", type="arrow")
        records = RecordTokens(key)
        conn.create_function("record_tokens_in", records.embedded, ["VARCHAR"], "VARCHAR", type="arrow")
        open_waiting(lambda: conn.execute("ATTACH ? AS wh (READ_ONLY)", [str(warehouse_path)]),
                     warehouse_path)
        _build_tokens(conn, pseudonymiser)
        explicit = _explicit_selects(records)
        tables = conn.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'wh' "
            "AND list_contains(?, schema_name) ORDER BY ALL", [list(_COPIED_SCHEMAS)]).fetchall()
        for schema in _COPIED_SCHEMAS:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for schema, table in tables:
            select = explicit.get((schema, table)) or _generic_select(conn, schema, table, records)
            conn.execute(f"CREATE TABLE {schema}.{table} AS {select}")
        conn.execute(  # few rows still hold an ID-shaped substring: rewrite only those
            f"""UPDATE core.credit_record
                SET payload = CAST(regexp_replace(CAST(payload AS VARCHAR), '{ID_PATTERN}', '{MASKED}', 'g') AS JSON)
                WHERE regexp_matches(CAST(payload AS VARCHAR), '{ID_PATTERN}')""")
        for (sql,) in conn.execute(
                "SELECT sql FROM duckdb_views() WHERE database_name = 'wh' AND NOT internal ORDER BY view_oid"
        ).fetchall():
            conn.execute(sql)
        conn.execute("DETACH wh")
        records, subjects = conn.execute(
            "SELECT (SELECT count(*) FROM core.credit_record), (SELECT count(*) FROM core.subject)").fetchone()
        version = conn.execute("SELECT max(version) FROM ops.schema_version").fetchone()[0]
        conn.execute(
            "CREATE TABLE snapshot_info AS SELECT ?::VARCHAR AS build_id, now() AS built_at, "
            "?::INTEGER AS schema_version, ?::BIGINT AS records, ?::BIGINT AS subjects",
            [build_id, version, records, subjects])
        conn.execute("CHECKPOINT")
        conn.close()
        faults.point("snapshot.before_swap")
        os.replace(tmp, snapshot_path)
        faults.point("snapshot.after_swap")
    except BaseException:
        conn.close()
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
        raise
    return SnapshotInfo(build_id=build_id, path=snapshot_path, records=records, subjects=subjects,
                        size_bytes=snapshot_path.stat().st_size,
                        duration_s=round(time.perf_counter() - started, 3))
