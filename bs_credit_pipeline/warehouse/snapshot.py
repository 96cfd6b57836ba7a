"""Pseudonymised analyst snapshot (analytics.duckdb), built as a new file and swapped in atomically.

Every column of the copied schemas (core, mart, ops) goes through the privacy class declared for it in
privacy.yaml (see privacy.py): natural persons' IDs become keyed tokens `P_` + 32 hex of HMAC-SHA256(key, id),
the same person the same token in every table and every build; persons' names are masked to their first
character; record ids and record-content hashes become keyed `R_` tokens; free text has ID-shaped substrings
masked; values as written keep only their shape where the field is an identifier or personal. A column without a
declared class fails the build. Views are recreated over the masked tables.
snapshot_info holds a build id, build time, schema version and row counts, for readers to check. Then the
analyst marts (schema analyst: typed views, lookups, history, quality; bs_credit_pipeline.analyst) are built
over the masked copies, and every table and column gets its Chinese label as a COMMENT.

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
from ..analyst import catalog as analyst_catalog
from ..analyst import dictionary, marts
from ..contracts import Registry
from ..identifiers import pseudonymise, to_canonical_citizen_id
from ..paths import SNAPSHOT_MODE
from . import privacy
from .schema import MEMORY_LIMIT, open_waiting


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


def _build_tokens(conn, pseudonymiser) -> None:
    """Temp tables person_token(value, token) for every person subject ID and legal representative ID, and
    person_name(value, name) for every person subject."""
    values = conn.sql(
        f"""SELECT DISTINCT value FROM (
               SELECT subject_id AS value FROM wh.core.subject WHERE subject_type = 'person'
               UNION ALL SELECT legal_rep_id FROM wh.core.credit_record WHERE legal_rep_id IS NOT NULL)"""
    ).to_arrow_table().column("value")
    conn.register("person_token_arrow", pa.table({"value": values, "token": pseudonymiser(values)}))
    conn.execute("CREATE TEMP TABLE person_token AS SELECT * FROM person_token_arrow")
    conn.unregister("person_token_arrow")
    conn.execute("CREATE TEMP TABLE person_name AS SELECT subject_id AS value, canonical_name AS name "
                 "FROM wh.core.subject WHERE subject_type = 'person'")


def _check_subject_types(conn) -> None:
    """The snapshot tells persons by their ID's shape: core.subject's subject_type must agree with it."""
    (bad,) = conn.execute(f"""SELECT count(*) FROM wh.core.subject
                              WHERE subject_type = 'person' AND NOT {privacy.person_id_sql('subject_id')}""").fetchall()[0]
    if bad:  # such a person would be copied as an organisation: refuse rather than leak (an organisation with a
        # person-shaped ID is tokenised and masked, the safe side)
        raise privacy.Undeclared(f"{bad} person subject(s) have an ID that is neither a citizen ID nor an "
                                 f"{privacy.PERSON_KEY_PREFIX} key; the snapshot cannot tell them from organisations")


def build_snapshot(warehouse_path: str | Path, snapshot_path: str | Path, key: bytes,
                   registry: Registry | None = None) -> SnapshotInfo:
    """Build the pseudonymised snapshot in a temporary file beside `snapshot_path`, then os.replace it.

    Raises privacy.Undeclared, before anything is written, when a column has no privacy class."""
    if not key:
        raise ValueError("pseudonym key is empty: set BS_CREDIT_PSEUDONYM_KEY")
    registry = registry or Registry.load()
    labels = analyst_catalog.load(registry)

    def pseudonymiser(values: pa.Array | pa.ChunkedArray) -> pa.Array:
        return pseudonymise(_canonical(values), key)

    started = time.perf_counter()
    snapshot_path = Path(snapshot_path)
    build_id = uuid.uuid4().hex
    tmp = snapshot_path.parent / f".{snapshot_path.name}.{build_id}.tmp"
    conn = duckdb.connect(str(tmp), config={"memory_limit": MEMORY_LIMIT})
    try:
        conn.execute("SET enable_progress_bar = false")
        open_waiting(lambda: conn.execute("ATTACH ? AS wh (READ_ONLY)", [str(warehouse_path)]),
                     warehouse_path)
        catalog = conn.execute(
            "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = 'wh' AND list_contains(?, schema_name) ORDER BY schema_name, table_name, "
            "column_index", [list(privacy.COPIED_SCHEMAS)]).fetchall()
        privacy.check_declared([(s, t, c) for s, t, c, _ in catalog])
        _check_subject_types(conn)
        conn.create_function("pseudonym", pseudonymiser, ["VARCHAR"], "VARCHAR", type="arrow")
        records = RecordTokens(key)
        conn.create_function("record_tokens_in", records.embedded, ["VARCHAR"], "VARCHAR", type="arrow")
        tokens = privacy.Tokens(record=records.sql)
        sensitive = privacy.sensitive_fields(registry.contracts)
        _build_tokens(conn, pseudonymiser)
        tables = conn.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'wh' "
            "AND list_contains(?, schema_name) ORDER BY ALL", [list(privacy.COPIED_SCHEMAS)]).fetchall()
        for schema in privacy.COPIED_SCHEMAS:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for schema, table in tables:
            columns = [(c, t) for s, tb, c, t in catalog if (s, tb) == (schema, table)]
            select = privacy.select_sql(schema, table, columns, tokens, f"wh.{schema}.{table}", sensitive)
            conn.execute(f"CREATE TABLE {schema}.{table} AS {select}")
            for update in privacy.residual_updates(schema, table):
                conn.execute(update)
        for (sql,) in conn.execute(
                "SELECT sql FROM duckdb_views() WHERE database_name = 'wh' AND NOT internal "
                "AND list_contains(?, schema_name) ORDER BY view_oid", [list(privacy.COPIED_SCHEMAS)]
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
        marts.build(conn, registry, labels)
        privacy.check_analyst(
            conn.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = ?",
                         [marts.SCHEMA]).fetchall(),
            {k: {marts.field_column(c, labels)[0] for c in ct.columns} for k, ct in registry.contracts.items()})
        dictionary.annotate(conn, registry, labels)
        conn.execute("CHECKPOINT")
        conn.close()
        tmp.chmod(SNAPSHOT_MODE)  # the analysts' group may read the snapshot (docs/PRIVACY.md)
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


def _canonical(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Citizen IDs in canonical form (15-digit ones converted), so one person gets one token; others as given."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    canonical = to_canonical_citizen_id(values)
    return pc.if_else(pc.fill_null(pc.match_substring_regex(canonical, f"^{privacy.WHOLE_ID}$"), False),
                      canonical, values)
