"""Privacy classes of the columns that leave the warehouse (privacy.yaml), and the SQL that applies them.

The analyst snapshot copies a table through `select_sql`, which turns each column's declared class into an
expression; a column without a class is an error (`Undeclared`), so a new column never leaks by default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .. import yamlfile

DECLARATIONS = Path(__file__).with_name("privacy.yaml")
COPIED_SCHEMAS = ("core", "mart", "ops")
ANALYST_SCHEMA = "analyst"  # built in the snapshot from the masked copies (analyst.marts); declared here too
CLASSES = frozenset({"none", "org", "subject_id", "person_id", "subject_name", "subject_attr", "person_name",
                     "record_id", "version_id", "entry_key", "free_text", "record_payload", "as_written"})
IDENTIFIER_TYPES = frozenset({"uscc", "org_code", "code", "subject_code", "id_number", "citizen_id"})
_NEEDS_SUBJECT = frozenset({"subject_name", "subject_attr"})
_MAY_HAVE_SUBJECT = frozenset({"free_text"})
_TOKENISED = frozenset({"subject_id", "person_id"})

# Citizen-ID shape: address code, birth date 18xx-20xx, sequence, check char; \b keeps tokens (P_ + hex) out.
ID_PATTERN = r"\b\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]\b"
MASKED = "[已脱敏]"
# RE2's \b does not separate digits from CJK punctuation (“533001…”), so embedded IDs are delimited explicitly.
_EMBEDDED = "(^|[^0-9A-Za-z])(" + ID_PATTERN.removeprefix(r"\b").removesuffix(r"\b") + ")($|[^0-9A-Za-z])"
WHOLE_ID = ID_PATTERN.removeprefix(r"\b").removesuffix(r"\b")
PERSON_KEY_PREFIX = "XID:"  # a person identified by another document (passport …), see subjects.resolve


class Undeclared(ValueError):
    """Columns of copied tables with no privacy class (or a malformed declaration)."""


@dataclass(frozen=True)
class ColumnClass:
    name: str
    subject: str | None = None  # for subject_name / subject_attr: the column holding the subject's ID


@cache
def declarations() -> dict[str, dict[str, ColumnClass]]:
    """'schema.table' -> column -> class, from privacy.yaml (validated)."""
    raw = yamlfile.read(DECLARATIONS)
    out: dict[str, dict[str, ColumnClass]] = {}
    problems = []
    for table, columns in raw.items():
        out[table] = {}
        for column, spec in columns.items():
            name, _, subject = str(spec).partition(" of ")
            if name not in CLASSES or (name in _NEEDS_SUBJECT and not subject) or (
                    subject and name not in _NEEDS_SUBJECT | _MAY_HAVE_SUBJECT):
                problems.append(f"{table}.{column}: {spec!r}")
            elif subject and subject not in columns:
                problems.append(f"{table}.{column}: {spec!r} names no column of the table")
            out[table][column] = ColumnClass(name, subject or None)
    if problems:
        raise Undeclared(f"malformed privacy classes in {DECLARATIONS.name}: " + "; ".join(problems))
    return out


def check_declared(catalog: list[tuple[str, str, str]]) -> None:
    """Raise Undeclared naming every (schema, table, column) of the catalog that has no class."""
    decl = declarations()
    missing = [f"{s}.{t}.{c}" for s, t, c in catalog if c not in decl.get(f"{s}.{t}", {})]
    if missing:
        raise Undeclared(
            f"{len(missing)} column(s) leave the warehouse without a privacy class: {', '.join(missing)}. "
            f"Declare each in {DECLARATIONS} (see the classes at the top of that file).")


def check_analyst(columns: list[tuple[str, str]], kind_fields: dict[str, set[str]]) -> None:
    """Raise Undeclared naming every (view, column) of schema analyst without a class. A per-kind view
    analyst.<kind> has analyst.record's columns and its contract's fields, which come from the masked payload
    (class record_payload)."""
    decl = declarations()
    record = decl.get(f"{ANALYST_SCHEMA}.record", {})

    def declared(table: str, column: str) -> bool:
        if f"{ANALYST_SCHEMA}.{table}" in decl:
            return column in decl[f"{ANALYST_SCHEMA}.{table}"]
        return table in kind_fields and (column in record or column in kind_fields[table])

    missing = [f"{ANALYST_SCHEMA}.{t}.{c}" for t, c in columns if not declared(t, c)]
    if missing:
        raise Undeclared(f"{len(missing)} analyst column(s) have no privacy class: {', '.join(missing)}. "
                         f"Declare each in {DECLARATIONS}.")


def sensitive_fields(contracts) -> list[str]:
    """Contract fields holding identifiers or personal data (every domain variant): their submitted values are kept
    as their shape only, in ops.rejected_row and in the snapshot's values as written."""
    variants = [v for c in contracts.values() for v in (c, *(c.for_domain(d) for d in c.domains))]
    return sorted({col.name for v in variants for col in v.columns if col.pii or col.type in IDENTIFIER_TYPES})


def shape_sql(expr: str) -> str:
    """A value's shape without its content: digits -> #, ASCII letters -> A, other non-ASCII -> *."""
    return (f"regexp_replace(regexp_replace(regexp_replace({expr}, '[0-9]', '#', 'g'), '[A-Za-z]', 'A', 'g'), "
            f"'[^\\x00-\\x7F]', '*', 'g')")


def person_id_sql(expr: str) -> str:
    """TRUE when the value is a natural person's ID: a citizen ID or an XID: key."""
    return f"(regexp_full_match({expr}, '{WHOLE_ID}') OR starts_with({expr}, '{PERSON_KEY_PREFIX}'))"


def mask_sql(expr: str) -> str:
    """A person's name masked to its first character: 张三 -> 张*, 欧阳娜娜 -> 欧***."""
    return f"CASE WHEN {expr} IS NULL THEN NULL ELSE left({expr}, 1) || repeat('*', length({expr}) - 1) END"


def residual_sql(text: str) -> str:
    """Mask citizen-ID-shaped substrings left in a text (the regexp_replace only runs where one is found)."""
    # Two passes: a match consumes the delimiter after it, so of two adjacent IDs ("a|b") one pass masks only a.
    once = f"regexp_replace({text}, '{_EMBEDDED}', '\\1{MASKED}\\3', 'g')"
    twice = f"regexp_replace({once}, '{_EMBEDDED}', '\\1{MASKED}\\3', 'g')"
    return f"CASE WHEN regexp_matches({text}, '{_EMBEDDED}') THEN {twice} ELSE {text} END"


@dataclass(frozen=True)
class Tokens:
    """SQL for the keyed tokens: `record(expr)` gives R_ tokens; person tokens come from the temp table
    person_token(value, token) joined per ID column, with the `pseudonym` UDF for IDs missing from it."""

    record: Callable[[str], str]  # SQL expression -> SQL expression of its R_ token

    def person(self, expr: str, joined_token: str | None) -> str:
        fallback = f"CASE WHEN {person_id_sql(expr)} THEN pseudonym({expr}) ELSE {expr} END"
        return f"coalesce({joined_token}, {fallback})" if joined_token else fallback


def select_sql(schema: str, table: str, columns: list[tuple[str, str]], tokens: Tokens, source: str,
               sensitive: list[str] | None = None) -> str:
    """SELECT over `source` (the warehouse table) applying each column's class; columns = (name, SQL type);
    `sensitive`: the contract fields whose values as written are kept as their shape (`sensitive_fields`),
    required by an as_written column.

    A record_payload column still needs `residual_updates` once the table is written."""
    decl = declarations()[f"{schema}.{table}"]
    joins, token_of, name_of = [], {}, {}
    for column, _ in columns:
        cls = decl[column]
        if cls.name in _TOKENISED:  # one join to the person tokens per column holding IDs
            token_of[column] = f"t{len(joins)}.token"
            joins.append(f'LEFT JOIN person_token AS t{len(joins)} ON t{len(joins)}.value = src."{column}"')
        elif cls.name == "free_text" and cls.subject:  # the subject's name, to mask inside its free text
            name_of[column] = f"t{len(joins)}.name"
            joins.append(f'LEFT JOIN person_name AS t{len(joins)} ON t{len(joins)}.value = src."{cls.subject}"')

    def is_org(column: str) -> str:
        q = f'src."{column}"'
        known = f"{token_of[column]} IS NULL AND " if column in token_of else ""
        return f"({q} IS NOT NULL AND {known}NOT {person_id_sql(q)})"

    parts = []
    for column, data_type in columns:
        cls, q = decl[column], f'src."{column}"'
        listed = data_type.endswith("[]")
        if cls.name in ("none", "org"):
            expr = q
        elif cls.name in _TOKENISED:
            expr = tokens.person(q, token_of[column])
        elif cls.name == "subject_name":
            masked = f"list_transform({q}, lambda n: {mask_sql('n')})" if listed else mask_sql(q)
            expr = f"CASE WHEN {is_org(cls.subject)} THEN {q} ELSE {masked} END"
        elif cls.name == "subject_attr":
            expr = f"CASE WHEN {is_org(cls.subject)} THEN {q} END"
        elif cls.name == "person_name":
            expr = mask_sql(q)
        elif cls.name == "record_id":
            expr = f"list_transform({q}, lambda v: {tokens.record('v')})" if listed else tokens.record(q)
        elif cls.name == "version_id":
            expr = f"{tokens.record(f'split_part({q}, {chr(39)}|{chr(39)}, 1)')} || '|' || split_part({q}, '|', 2)"
        elif cls.name == "entry_key":
            part = f"CASE WHEN {person_id_sql('p')} THEN pseudonym(p) ELSE p END"
            expr = f"array_to_string(list_transform(string_split({q}, '|'), lambda p: {part}), '|')"
        elif cls.name == "free_text":
            if data_type == "JSON":
                expr = f"CAST(record_tokens_in({residual_sql(f'CAST({q} AS VARCHAR)')}) AS JSON)"
            elif listed:
                expr = f"list_transform({q}, lambda v: {residual_sql('v')})"
            else:
                expr = residual_sql(q)
            if column in name_of:
                expr = _replace_if(expr, f"length({name_of[column]}) >= 2", name_of[column], mask_sql(name_of[column]))
        elif cls.name == "as_written":
            if sensitive is None:
                raise ValueError(f"{schema}.{table}.{column}: values as written need the sensitive fields")
            fields = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in sensitive) + "]::VARCHAR[]"
            value = (f"CASE WHEN list_contains({fields}, e.key) THEN {shape_sql('e.value')} "
                     f"ELSE {residual_sql('e.value')} END")
            expr = f"map_from_entries(list_transform(map_entries({q}), lambda e: {{'key': e.key, 'value': {value}}}))"
        else:  # record_payload
            subject = tokens.person("src.subject_id", token_of["subject_id"])
            rep = tokens.person("src.legal_rep_id", token_of["legal_rep_id"])
            person = "NOT " + is_org("subject_id")
            expr = f"CAST({_payload_text(subject, rep, person)} AS JSON)"
        parts.append(f'{expr} AS "{column}"')
    return f"SELECT {', '.join(parts)} FROM {source} AS src {' '.join(joins)}"


def residual_updates(schema: str, table: str) -> list[str]:
    """UPDATEs masking ID-shaped text left in the table's record_payload columns (rewrites the few such rows;
    a separate pass, so the payload's long replace chain is not evaluated once more per row)."""
    out = []
    for column, cls in declarations()[f"{schema}.{table}"].items():
        if cls.name == "record_payload":
            text = f'CAST("{column}" AS VARCHAR)'
            out.append(f'UPDATE {schema}.{table} SET "{column}" = CAST({residual_sql(text)} AS JSON) '
                       f"WHERE regexp_matches({text}, '{_EMBEDDED}')")
    return out


def _replace_if(text: str, condition: str, search: str, replacement: str) -> str:
    """replace() of `search` where `condition` holds (an empty search string leaves the text as it is); keeps
    the expression linear in size however many are chained."""
    return (f"replace({text}, CASE WHEN {condition} THEN {search} ELSE '' END, "
            f"CASE WHEN {condition} THEN {replacement} ELSE '' END)")


def _payload_text(subject_token: str, rep_token: str, person: str) -> str:
    """The payload with the subject's and legal representative's IDs and names replaced where they occur.

    The contracts' pii fields are the subject's ID and name fields and the legal representative's (checked by
    `uncovered_pii_fields`), so replacing these four values covers them. IDs are replaced as whole JSON values
    (quotes included, keeping the JSON valid), also in their 15-digit first-generation form and a passport's
    number without its XID: prefix; names are replaced wherever they occur (a fact text may name the person).
    Far cheaper than parsing the JSON.
    """
    def first_generation(expr: str) -> str:  # 18-digit ID of someone born in 19xx -> its 15-digit form
        return f"CASE WHEN substr({expr}, 7, 2) = '19' THEN left({expr}, 6) || substr({expr}, 9, 9) END"

    def json_text(expr: str) -> str:
        return f"CAST(to_json({expr}) AS VARCHAR)"

    document = f"CASE WHEN starts_with(src.subject_id, '{PERSON_KEY_PREFIX}') THEN substr(src.subject_id, 5) END"
    rep = "src.legal_rep_id IS NOT NULL"
    text = "CAST(src.payload AS VARCHAR)"
    for raw, token, condition in (
        ("src.subject_id", subject_token, person),
        (first_generation("src.subject_id"), subject_token, person),
        (document, subject_token, person),  # XID:E12345678 is written E12345678 in the payload
        ("src.legal_rep_id", rep_token, rep),
        (first_generation("src.legal_rep_id"), rep_token, rep),
    ):
        text = _replace_if(text, f"{condition} AND {raw} IS NOT NULL", json_text(raw), json_text(token))
    for name, condition in (("src.subject_name", person), ("src.legal_rep_name", "TRUE")):
        text = _replace_if(text, f"{condition} AND length({name}) >= 2", name, mask_sql(name))
    return text


def uncovered_pii_fields(contracts) -> list[str]:
    """Contract fields declared pii that the payload rewrite does not cover (must be none)."""
    out = []
    for kind, contract in contracts.items():
        s = contract.subject
        covered = {s.name, s.person_id, s.legal_rep_name, s.legal_rep_id, *s.org_codes}
        out += [f"{kind}.{c.name}" for c in contract.columns if c.pii and c.name not in covered]
    return out
