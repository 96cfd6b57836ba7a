"""Public exports for 信用保山 and the provincial exchange file, and the raw-citizen-ID scan.

``publish(conn, as_of, out_dir, masking_rules)`` writes ``out_dir/<as_of>/`` (built in a temporary
directory and renamed into place): the public lists (black list without withheld entries, red list),
the 双公示 records (administrative penalties and licences within their display period) in the national
双公示 field layout — those CSV files are also the exchange files for the provincial platform — and the
change list of the public lists. Every dataset is CSV (UTF-8 with BOM; a cell starting with = + - @ tab or CR
gets a leading ' so no spreadsheet runs it), JSON (values as stored) and, up to ``xlsx_max_rows`` rows, XLSX with
text cells. Natural persons' names and ID numbers are masked;
organisations' names and USCCs are public. ``mart`` tables for as_of must exist (lists.build_all).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from . import faults, yamlfile
from .xlsx import Workbook, new_format, write_table
from .identifiers import PROVINCE_CODES, citizen_id_check_char, mask_id, mask_name
from .lists.sql import ident, lit

KINDS_DIR = Path(__file__).resolve().parents[1] / "data_contracts" / "kinds"
DEPARTMENTS = KINDS_DIR.parent / "departments.yaml"
SHUANGGONGSHI_KINDS = ("admin_penalty", "admin_licence")
XLSX_MAX_ROWS = 100_000
# Titles and column words of the published lists (data_contracts/rules/lists.yaml `publication`).
PUBLICATION = yamlfile.read(KINDS_DIR.parent / "rules" / "lists.yaml")["publication"]
_TYPES, _TITLES, _CHANGES = PUBLICATION["subject_types"], PUBLICATION["titles"], PUBLICATION["changes"]
SUBJECT_TYPE_ZH = f"CASE subject_type WHEN 'person' THEN {lit(_TYPES['person'])} ELSE {lit(_TYPES['org'])} END"
ID_TYPES = {"id_number", "citizen_id"}


def _departments(reasons: str) -> str:
    return f"list_sort(list_distinct(CAST(json_extract_string({reasons}, '$[*].department') AS VARCHAR[])))"


def department_names(registry: Path = DEPARTMENTS) -> dict[str, str]:
    """Department code -> Chinese name from the registry (empty when absent)."""
    if not registry.exists():
        return {}
    data = yamlfile.read(registry) or {}
    return {d["code"]: d["name"] for d in data.get("departments", [])}


LIST_QUERIES = {
    "black_list": f"""
        SELECT subject_name AS 主体名称, subject_id AS 统一社会信用代码或身份证号码, {SUBJECT_TYPE_ZH} AS 主体类别,
               list_name AS 名单类型, CAST(first_listed AS VARCHAR) AS 列入日期, {_departments('reasons')} AS 认定部门,
               rule_id AS 列入规则, subject_type AS _subject_type
        FROM mart.black_list WHERE as_of = $as_of AND NOT withheld ORDER BY subject_id, rule_id""",
    "red_list": f"""
        SELECT subject_name AS 主体名称, subject_id AS 统一社会信用代码或身份证号码, {SUBJECT_TYPE_ZH} AS 主体类别,
               basis AS 列入依据, CAST(volunteer_hours AS VARCHAR) AS 志愿服务时长, {_departments('reasons')} AS 认定部门,
               rule_id AS 列入规则, subject_type AS _subject_type
        FROM mart.red_list WHERE as_of = $as_of ORDER BY subject_id, rule_id""",
    "list_change": f"""
        SELECT CASE list_name WHEN 'black_list' THEN {lit(_TITLES['black_list'])} ELSE {lit(_TITLES['red_list'])} END
                   AS 名单,
               CASE change WHEN 'added' THEN {lit(_CHANGES['added'])} ELSE {lit(_CHANGES['removed'])} END AS 变动,
               subject_name AS 主体名称,
               subject_id AS 统一社会信用代码或身份证号码, {SUBJECT_TYPE_ZH} AS 主体类别, reason_text AS 原因,
               CAST(previous_as_of AS VARCHAR) AS 上次发布日期, subject_type AS _subject_type
        FROM mart.list_change WHERE as_of = $as_of AND list_name IN ('black_list', 'red_list')
          AND NOT (list_name = 'black_list' AND change = 'added' AND entry_key IN (
              SELECT subject_id || '|' || rule_id FROM mart.black_list WHERE as_of = $as_of AND withheld))
        ORDER BY 名单, 变动, subject_id, rule_id""",
}


def load_contract(kind: str, kinds_dir: Path = KINDS_DIR) -> dict | None:
    """The data contract of a kind, or None when the repository has none."""
    path = kinds_dir / f"{kind}.yaml"
    return yamlfile.read(path) if path.exists() else None


def _mask_person_columns(table: pa.Table, masking: dict, names: list[str], ids: list[str],
                         person: pa.Array | None) -> pa.Table:
    """Mask name / ID columns (only on person rows when `person` is given, else on every row)."""
    nm, im = masking["name"], masking["id"]
    for col, fn in [(c, lambda v: mask_name(v, keep_surname=nm.get("keep_surname", True), char=nm.get("char", "*")))
                    for c in names] + [(c, lambda v: mask_id(v, keep_head=im.get("keep_head", 6),
                                                             keep_tail=im.get("keep_tail", 4),
                                                             char=im.get("char", "*"))) for c in ids]:
        values = table[col].combine_chunks().cast(pa.string())
        masked = fn(values)
        if person is not None:
            masked = pc.if_else(person, masked, values)
        table = table.set_column(table.schema.get_field_index(col), col, masked)
    return table


def _list_table(conn, name: str, as_of: dt.date, masking: dict) -> pa.Table:
    table = conn.sql(LIST_QUERIES[name], params={"as_of": as_of}).to_arrow_table()
    if "认定部门" in table.column_names:
        names = department_names()
        depts = pa.array(["、".join(names.get(c, c) for c in codes or []) for codes in table["认定部门"].to_pylist()],
                         pa.string())
        table = table.set_column(table.schema.get_field_index("认定部门"), "认定部门", depts)
    person = pc.equal(table["_subject_type"].combine_chunks(), "person").fill_null(False)
    table = _mask_person_columns(table, masking, ["主体名称"], ["统一社会信用代码或身份证号码"], person)
    return table.drop_columns(["_subject_type"])


def _shuanggongshi_table(conn, contract: dict, as_of: dt.date, masking: dict) -> pa.Table:
    """Records of a kind within their display period, in the contract's column order with Chinese headers."""
    cols = contract["columns"]
    paths = ", ".join("'$.' || " + "'" + c["name"].replace("'", "''") + "'" for c in cols)
    select = ", ".join(f"v[{i + 1}] AS \"{c['header']}\"" for i, c in enumerate(cols))
    table = conn.sql(f"""
        SELECT {select}, subject_type AS _subject_type, record_id AS _record_id FROM (
            SELECT json_extract_string(cr.payload, [{paths}]) AS v, rs.subject_type, rs.record_id
            FROM mart.record_status rs JOIN core.credit_record cr ON cr.version_id = rs.version_id
            WHERE rs.as_of = $as_of AND rs.kind = $kind AND rs.status = 'active')""",
                     params={"as_of": as_of, "kind": contract["kind"]}).to_arrow_table()
    # in record order; Arrow sorts the one key column and gathers, DuckDB's ORDER BY moved the wide rows
    table = table.take(pc.sort_indices(table["_record_id"])).drop_columns(["_record_id"])
    person = pc.equal(table["_subject_type"].combine_chunks(), "person").fill_null(False)
    pii = [c for c in cols if c.get("pii")]
    table = _mask_person_columns(table, masking, [c["header"] for c in pii if c["type"] not in ID_TYPES],
                                 [c["header"] for c in pii if c["type"] in ID_TYPES], None)
    subject_name = contract["subject"]["name"]
    header = next(c["header"] for c in cols if c["name"] == subject_name)
    table = _mask_person_columns(table, masking, [header], [], person)
    return table.drop_columns(["_subject_type"])


FORMULA_START = r"^[=+\-@\t\r]"  # what Excel, LibreOffice and Sheets read as a formula (OWASP CSV injection)


def neutralise_formulas(table: pa.Table) -> pa.Table:
    """Every text cell that a spreadsheet would run as a formula (first character = + - @ tab or CR) gets a
    leading apostrophe, the OWASP rule: the cell then shows as text. Other cells are unchanged."""
    for i, field in enumerate(table.schema):
        if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
            continue
        values = table.column(i).combine_chunks()
        hit = pc.fill_null(pc.match_substring_regex(values, FORMULA_START), False)
        if pc.any(hit).as_py():
            quoted = pc.binary_join_element_wise(pa.scalar("'", values.type), values, pa.scalar("", values.type))
            table = table.set_column(i, field, pc.if_else(hit, quoted, values))
    return table


def _write_csv(table: pa.Table, path: Path) -> None:
    """UTF-8 with BOM (Excel reads it as UTF-8), formula-like cells neutralised."""
    with path.open("wb") as f:
        f.write(b"\xef\xbb\xbf")
        pacsv.write_csv(neutralise_formulas(table), f)


def _write_json(conn, table: pa.Table, path: Path) -> None:
    """A JSON array of objects, written by DuckDB (streams; no Python object per cell)."""
    conn.register("_publish_json", table)
    try:
        conn.execute(f"COPY (SELECT * FROM _publish_json) TO '{path.as_posix()}' (FORMAT json, ARRAY true)")
    finally:
        conn.unregister("_publish_json")


def _write_xlsx(table: pa.Table, path: Path, sheet: str) -> None:
    """Every cell a text cell (number format @, inline strings), so Excel never turns IDs into numbers, nor a
    submitted text into a formula or link. rust_xlsxwriter reads the Arrow columns directly (~1 µs per cell;
    the former Python writer took ~13)."""
    strings = table.cast(pa.schema([pa.field(f.name, pa.string()) for f in table.schema]))
    wb = Workbook()
    text = new_format(wb, {"num_format": "@"})
    ws = wb.add_worksheet(sheet[:31], constant_memory=True)
    for col in range(table.num_columns):
        ws.set_column_width(col, 20)
    write_table(ws, 0, 0, strings, text, header_format=text)
    wb.close(str(path))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _publish_list(conn, name: str, title: str, as_of: dt.date, work: Path, masking: dict,
                  xlsx_max_rows: int) -> list[dict]:
    """A public list as CSV, JSON and (up to xlsx_max_rows rows) XLSX; their manifest entries."""
    table = _list_table(conn, name, as_of, masking)
    _write_csv(table, work / f"{name}.csv")
    _write_json(conn, table, work / f"{name}.json")
    formats = ["csv", "json"]
    if table.num_rows <= xlsx_max_rows:
        _write_xlsx(table, work / f"{name}.xlsx", title)
        formats.append("xlsx")
    return [_file_entry(work / f"{name}.{ext}", name, title, table.num_rows, False) for ext in formats]


def _publish_kind(conn, contract: dict, as_of: dt.date, work: Path, masking: dict) -> list[dict]:
    """The 双公示 exchange CSV of a record kind; its manifest entry."""
    kind = contract["kind"]
    table = _shuanggongshi_table(conn, contract, as_of, masking)
    _write_csv(table, work / f"{kind}.csv")
    return [_file_entry(work / f"{kind}.csv", kind, f"双公示_{contract['title']}", table.num_rows, True)]


def publish(conn, as_of: dt.date, out_dir: str | Path, masking_rules: dict, *,
            kinds_dir: Path = KINDS_DIR, xlsx_max_rows: int = XLSX_MAX_ROWS) -> dict:
    """Write publish/<as_of>/ and return its manifest (also written as manifest.json).

    Public lists get CSV, JSON and XLSX for 信用保山; the 双公示 exchange data gets the CSV the provincial platform
    takes. Datasets are written by two threads, each on its own cursor (DuckDB and Arrow release the GIL): the
    penalties' exchange file, the largest, runs beside the rest. Manifest order does not depend on timing.
    """
    final = Path(out_dir) / as_of.isoformat()
    work = final.with_name(final.name + ".tmp")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    contracts = {kind: load_contract(kind, kinds_dir) for kind in SHUANGGONGSHI_KINDS}
    skipped = [kind for kind, contract in contracts.items() if contract is None]

    def run(task, *args) -> list[dict]:
        with conn.cursor() as cur:
            return task(cur, *args)

    with ThreadPoolExecutor(max_workers=2) as pool:
        kinds = [pool.submit(run, _publish_kind, c, as_of, work, masking_rules) for c in contracts.values() if c]
        lists = [pool.submit(run, _publish_list, name, title, as_of, work, masking_rules, xlsx_max_rows)
                 for name, title in _TITLES.items()]
        files = [entry for done in lists + kinds for entry in done.result()]
    manifest = {
        "as_of": as_of.isoformat(), "files": files, "contracts_missing": skipped,
        "xlsx_max_rows": xlsx_max_rows, "masking": masking_rules,
    }
    (work / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    faults.point("publish.before_rename")
    # Swap in two renames so a crash leaves the old folder or the new one under its name (the old one at
    # worst beside it as <date>.old, removed by the next publication of the date).
    old = final.with_name(final.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    work.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return manifest


def _file_entry(path: Path, dataset: str, title: str, rows: int, exchange: bool) -> dict:
    return {"name": path.name, "dataset": dataset, "title": title, "format": path.suffix[1:], "rows": rows,
            "sha256": _sha256(path), "exchange": exchange}


# ---------------------------------------------------------------------------------------------
# raw citizen-ID scan (blocking check on every published file and on the analyst snapshot)

ID_PATTERN = r"(^|[^0-9A-Za-z])([0-9]{17}[0-9Xx])($|[^0-9A-Za-z])"
_ID_RE = re.compile(r"(?<![0-9A-Za-z])([0-9]{17}[0-9Xx])(?![0-9A-Za-z])")


@dataclass(frozen=True)
class Finding:
    """A raw citizen ID found: where, how many, and a masked sample (never the raw value)."""

    location: str
    count: int
    sample: str


def is_raw_citizen_id(value: str) -> bool:
    """18 chars, province code known, a real birth date, and a valid GB 11643 check character."""
    value = value.upper()
    if value[:2] not in PROVINCE_CODES:
        return False
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return 1900 <= int(value[6:10]) <= 2100 and citizen_id_check_char(value[:17]) == value[17]


def _masked(value: str) -> str:
    return value[:6] + "*" * 8 + value[-4:]


def _scan_text(text: str, location: str) -> Finding | None:
    hits = [m for m in _ID_RE.findall(text) if is_raw_citizen_id(m)]
    return Finding(location, len(hits), _masked(hits[0])) if hits else None


def _file_texts(path: Path):
    """(location, text) pieces of a file; XLSX: its XML parts (shared strings, inline strings)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        with zipfile.ZipFile(path) as z:
            for part in z.namelist():
                if part.endswith(".xml"):
                    yield f"{path}:{part}", z.read(part).decode("utf-8", "replace")
    else:
        yield str(path), path.read_bytes().decode("utf-8", "replace")


def _scan_database(db_path: Path) -> list[Finding]:
    """Every text-bearing column (text, JSON, lists, maps) of the file's base tables. Views are not scanned: in a
    self-contained file a view shows only values of its base tables (binding each of the analyst views' ~660
    columns cost ~90 % of the scan, 5 CPU s per demo run)."""
    import duckdb

    findings = []
    conn = duckdb.connect(str(db_path), read_only=True)
    try:
        columns = conn.execute("""
            SELECT c.schema_name, c.table_name, c.column_name
            FROM duckdb_columns() c
            JOIN duckdb_tables() t USING (database_name, schema_name, table_name)
            WHERE c.database_name = current_database()
              AND (c.data_type IN ('VARCHAR', 'JSON') OR c.data_type LIKE '%[]' OR c.data_type LIKE 'MAP(%'
                   OR c.data_type LIKE 'STRUCT(%')
            ORDER BY 1, 2, 3""").fetchall()
        for schema, table, column in columns:
            col = ident(column)
            candidates = conn.execute(f"""
                SELECT DISTINCT unnest(regexp_extract_all(CAST({col} AS VARCHAR), ?, 2)) AS v
                FROM "{schema}"."{table}" WHERE regexp_matches(CAST({col} AS VARCHAR), ?)
                LIMIT 100000""", [ID_PATTERN, ID_PATTERN]).fetchall()
            hits = [v for (v,) in candidates if v and is_raw_citizen_id(v)]
            if hits:
                findings.append(Finding(f"{db_path}:{schema}.{table}.{column}", len(hits), _masked(hits[0])))
    finally:
        conn.close()
    return findings


def scan_for_raw_ids(paths, db_path: str | Path | None = None) -> list[Finding]:
    """Raw citizen IDs in files (directories are walked) and, given a DuckDB path, in its text columns.

    An empty list means clean. Counts are per file part / per column (distinct values for columns)."""
    findings = []
    for root in map(Path, paths):
        for path in sorted(root.rglob("*")) if root.is_dir() else [root]:
            if path.is_file():
                findings += [f for loc, text in _file_texts(path) if (f := _scan_text(text, loc))]
    if db_path is not None:
        findings += _scan_database(Path(db_path))
    return findings


def findings_as_dicts(findings: list[Finding]) -> list[dict]:
    """JSON-ready findings (for asset-check metadata)."""
    return [asdict(f) for f in findings]
