"""Normalise and validate a sheet's rows against a data contract, with pandera's polars backend (lazy, every
failure collected).

A contract compiles to a pandera `DataFrameSchema` over the normalised text cells, validated as a polars DataFrame
built from the Arrow columns. Checks that need the precise reason (which identifier rule failed, a date that cannot
be parsed) are pandera checks computing on those Arrow columns that also leave a per-cell error code in the run's
context; the mapping from pandera failure cases to problems reads it back. Cross-column rules (conditional
requirements, subject identification, ID numbers by ID type) are small DataFrame-level schemas over just the
columns they need. Every check passes an empty cell (null): emptiness is the `nullable` check's business.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import pyarrow as pyarrow
import pyarrow.compute as pc

from .. import identifiers as ids
from ..imports import refused

with refused("pyspark"):  # pandera loads pyspark.pandas where the Spark extra is installed: 0.3 s and a FutureWarning
    import pandera.polars as pa
from ..contracts import ColumnSpec, Contract, enums
from ..parsing import parse_dates, parse_numbers, per_distinct

CODE_TYPES = frozenset({"uscc", "org_code", "citizen_id", "subject_code", "id_number", "code"})
PERSON_ID_TYPES = frozenset({"身份证", "居民身份证", ""})
CELL = "CELL"  # the precise code of these checks' failures is kept per cell in the run context
CHECK_CODES = {  # check name (as pandera reports it in failure cases) -> problem code
    "isin": "E_ENUM", "multi_isin": "E_ENUM", "str_length": "E_TOO_LONG", "identifier": CELL, "amount": CELL,
    "id_number": CELL, "date_text": "E_DATE_FORMAT",
    "gov_organ_uscc": "E_GOV_ORGAN_USCC", "required_if": "E_REQUIRED_IF", "subject_identified": "E_SUBJECT_ID_MISSING",
    "not_nullable": "E_REQUIRED",
}
_NO_CODE = pyarrow.scalar(None, pyarrow.string())


class Frame:
    """A sheet's normalised cells: one Arrow string column per contract column present, by name; `len` is the
    number of rows. Intake reads its columns as Arrow; pandera validates it as a polars DataFrame."""

    def __init__(self, columns: dict[str, pyarrow.Array], num_rows: int):
        self.columns = {name: _combined(values) for name, values in columns.items()}
        self.num_rows = num_rows

    def __len__(self) -> int:
        return self.num_rows

    def __contains__(self, name) -> bool:
        return name in self.columns

    def __getitem__(self, name: str) -> pyarrow.Array:
        return self.columns[name]

    def take(self, rows: np.ndarray) -> Frame:
        indices = pyarrow.array(rows, pyarrow.int64())
        return Frame({name: values.take(indices) for name, values in self.columns.items()}, len(rows))

    def to_polars(self) -> pl.DataFrame:
        """The columns as a polars DataFrame. Polars holds strings as views: Arrow's cast makes them (about twice as
        fast as polars' own conversion) and polars takes them without a copy."""
        return pl.DataFrame([pl.Series(name, pc.cast(values, pyarrow.string_view()))
                             for name, values in self.columns.items()], height=self.num_rows)


def _combined(values) -> pyarrow.Array:
    return values.combine_chunks() if isinstance(values, pyarrow.ChunkedArray) else values


@dataclass
class _Run:
    today: dt.date
    frame: Frame
    codes: dict[str, pyarrow.Array] = field(default_factory=dict)
    dates: dict[str, pyarrow.Array] = field(default_factory=dict)


_RUN: contextvars.ContextVar[_Run] = contextvars.ContextVar("bs_credit_validation_run")


def _column(data: pa.PolarsData) -> pyarrow.Array:
    """The Arrow column a column check is validating: the run's frame holds the cells the polars frame was built from."""
    return _RUN.get().frame[data.key]


def _outcome(ok: pyarrow.Array) -> pl.LazyFrame:
    """A check's result per row, as pandera's polars backend takes it (a null outcome passes: `ignore_na`)."""
    return pl.LazyFrame([pl.Series("ok", _combined(ok), dtype=pl.Boolean)])


def _record(name: str, codes: pyarrow.Array) -> pl.LazyFrame:
    """Keep the precise code of each failing cell (the first one found stays); the cells without one pass."""
    run = _RUN.get()
    previous = run.codes.get(name)
    run.codes[name] = codes if previous is None else pc.coalesce(previous, codes)
    return _outcome(pc.is_null(codes))


def _has(contract: Contract, name: str | None) -> bool:
    return bool(name) and any(c.name == name for c in contract.columns)


def _check(function, **statistics) -> pa.Check:
    """A check named after its function, labelled with its statistics as pandera labels registered checks
    (``identifier(scheme=uscc)``): the label names the problem code (`problem_code`)."""
    label = f"{function.__name__}({', '.join(f'{k}={v}' for k, v in statistics.items())})" if statistics else None
    return pa.Check(function, name=function.__name__, error=label, statistics=statistics, **statistics)


def identifier_codes(values, scheme: str, today: dt.date) -> pyarrow.Array:
    """Per-value error code (None when valid or empty) for one identifier scheme."""
    arr = _combined(values)
    if scheme == "uscc":
        return ids.uscc_errors(arr)
    if scheme == "org_code":
        return ids.org_code_errors(arr)
    if scheme == "citizen_id":
        return ids.citizen_id_errors(arr, today)
    if scheme != "subject_code":
        raise ValueError(f"unknown identifier scheme {scheme!r}")
    kinds = ids.classify_code(arr)
    person = ids.citizen_id_errors(arr, today)
    out = pc.if_else(pc.fill_null(pc.equal(kinds, "citizen_id"), False), person,
                     pc.if_else(pc.fill_null(pc.equal(kinds, "org_code"), False), ids.org_code_errors(arr),
                                ids.uscc_errors(arr)))
    # A code of no recognisable shape: report the citizen-ID reason for digit strings, else the USCC one.
    unknown = pc.and_(pc.is_null(kinds), pc.is_valid(arr))
    digits = pc.fill_null(pc.match_substring_regex(arr, r"^[0-9Xx*]+$"), False)
    out = pc.if_else(pc.and_(unknown, digits), person, out)
    out = pc.if_else(pc.and_(unknown, pc.invert(digits)), pyarrow.scalar("E_SUBJECT_CODE"), out)
    return pc.if_else(pc.is_null(arr), _NO_CODE, out)


def identifier(data: pa.PolarsData, *, scheme: str) -> pl.LazyFrame:
    """USCC / organisation code / citizen ID / any subject code, with the precise failure kept per cell."""
    return _record(data.key, identifier_codes(_column(data), scheme, _RUN.get().today))


def id_number(data: pa.PolarsData, *, column: str, type_column: str | None) -> pl.LazyFrame:
    """An ID number is checked as a citizen ID when its ID type is 身份证 (or not given)."""
    run = _RUN.get()
    codes = identifier_codes(run.frame[column], "citizen_id", run.today)
    if type_column and type_column in run.frame:
        kind = pc.fill_null(run.frame[type_column], "")
        codes = pc.if_else(pc.is_in(kind, value_set=pyarrow.array(sorted(PERSON_ID_TYPES))), codes, _NO_CODE)
    return _record(column, codes)


def multi_isin(data: pa.PolarsData, *, values: tuple, synonyms: tuple, other: str | None) -> pl.LazyFrame:
    """The cell reads as allowed values only (normalisation already wrote known cells canonically)."""
    vocabulary = enums.vocabulary(values, synonyms, other, multi=True)
    arr = _column(data)
    distinct = pc.unique(arr).drop_null()
    known = [v for v in distinct.to_pylist() if not vocabulary.parse(v).unknown]
    return _outcome(pc.if_else(pc.is_null(arr), None, pc.is_in(arr, value_set=pyarrow.array(known, pyarrow.string()))))


def date_text(data: pa.PolarsData) -> pl.LazyFrame:
    """The cell holds a date in one of the accepted forms (the run parsed the column once)."""
    arr = _column(data)
    return _outcome(pc.or_(pc.is_null(arr), pc.is_valid(_RUN.get().dates[data.key])))


def amount(data: pa.PolarsData, *, integer: bool) -> pl.LazyFrame:
    """A non-negative number (an integer where the contract says so)."""
    arr = _column(data)
    numbers = parse_numbers(arr)
    wrong = pc.and_(pc.is_valid(arr), pc.is_null(numbers))
    if integer:
        wrong = pc.or_(wrong, pc.fill_null(pc.not_equal(numbers, pc.floor(numbers)), False))
    negative = pc.fill_null(pc.less(numbers, 0), False)
    codes = pc.if_else(negative, pyarrow.scalar("E_NEGATIVE"), pc.if_else(wrong, pyarrow.scalar("E_NUMBER"), _NO_CODE))
    return _record(data.key, codes)


def gov_organ_uscc(data: pa.PolarsData) -> pl.LazyFrame:
    """Government-affairs records are about government organs: USCC prefix 11."""
    return data.lazyframe.select(pl.col(data.key).str.starts_with("11"))


def required_if(data: pa.PolarsData, *, column: str, when_column: str, values: tuple) -> pl.LazyFrame:
    """`column` must be filled on rows whose `when_column` is one of `values` (a column the sheet lacks is empty)."""
    frame = _RUN.get().frame
    if when_column not in frame:
        return _outcome(pyarrow.repeat(True, len(frame)))
    when = pc.fill_null(pc.is_in(frame[when_column], value_set=pyarrow.array(values, pyarrow.string())), False)
    return _outcome(pc.invert(pc.and_(when, pc.is_null(frame[column])) if column in frame else when))


def subject_identified(data: pa.PolarsData, *, org_columns: tuple, person_column: str | None,
                       category_column: str | None, person_categories: tuple) -> pl.LazyFrame:
    """A legal person needs a USCC or a legacy code; a natural person needs an ID number."""
    frame = _RUN.get().frame
    has_org = pyarrow.repeat(False, len(frame))
    for c in org_columns:
        if c in frame:
            has_org = pc.or_(has_org, pc.is_valid(frame[c]))
    has_person = pc.is_valid(frame[person_column]) if person_column and person_column in frame else \
        pyarrow.repeat(False, len(frame))
    if category_column and category_column in frame:
        category = frame[category_column]
        is_person = pc.fill_null(pc.is_in(category, value_set=pyarrow.array(person_categories, pyarrow.string())), False)
        either = pc.and_(pc.is_null(category), pc.or_(has_org, has_person))
        return _outcome(pc.or_(pc.or_(pc.and_(is_person, has_person), pc.and_(pc.invert(is_person), has_org)), either))
    return _outcome(pc.or_(has_org, has_person))


def id_type_column(contract: Contract, name: str) -> str | None:
    """The column giving the ID type of `id_number` column `name` (the subject's or the legal representative's)."""
    if name == contract.subject.person_id:
        return contract.subject.person_id_type
    if name == contract.subject.legal_rep_id:
        return next((x.name for x in contract.columns if x.name == "legal_rep_id_type"), None)
    return None


def first_generation_ids(frame: Frame, contract: Contract) -> dict[str, np.ndarray]:
    """Rows of each ID column holding a 15-digit first-generation citizen ID (an `id_number` only where its ID
    type is a citizen ID or blank): intake stores them as their 18-digit form and keeps the value as written."""
    out = {}
    for col in contract.columns:
        if col.type not in ("citizen_id", "id_number", "subject_code") or col.name not in frame:
            continue
        arr = frame[col.name]
        rows = np.flatnonzero(pc.fill_null(pc.equal(pc.utf8_length(arr), 15), False).to_numpy(zero_copy_only=False))
        if not len(rows):
            continue
        take = pyarrow.array(rows)
        hit = pc.fill_null(pc.equal(ids.classify_code(arr.take(take)), "citizen_id"), False)
        type_col = id_type_column(contract, col.name) if col.type == "id_number" else None
        if type_col and type_col in frame:
            kind = pc.fill_null(frame[type_col].take(take), "")
            hit = pc.and_(hit, pc.is_in(kind, value_set=pyarrow.array(sorted(PERSON_ID_TYPES))))
        mask = np.zeros(len(arr), dtype=bool)
        mask[rows] = np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)
        if mask.any():
            out[col.name] = mask
    return out


def _column_checks(col: ColumnSpec) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if col.type == "enum" and col.values:
        if col.multi:
            checks.append(_check(multi_isin, values=tuple(col.values),
                                 synonyms=tuple((k, tuple(v)) for k, v in col.synonyms.items()), other=col.other))
        else:
            checks.append(pa.Check.isin(list(col.values)))
    if col.type in ("uscc", "org_code", "citizen_id", "subject_code"):
        checks.append(_check(identifier, scheme=col.type))
    if col.type == "date":
        checks.append(_check(date_text))
    if col.type in ("decimal", "integer"):
        checks.append(_check(amount, integer=col.type == "integer"))
    if "gov_organ_uscc" in col.checks:
        checks.append(_check(gov_organ_uscc))
    if col.max_length:
        checks.append(pa.Check.str_length(max_value=col.max_length))
    return checks


@dataclass(frozen=True)
class CompiledContract:
    """A contract as pandera schemas: per-column checks plus cross-column rule schemas."""

    contract: Contract
    columns: pa.DataFrameSchema
    rules: tuple[tuple[str, str, tuple[str, ...], pa.DataFrameSchema], ...]  # (code, column, needed cols, schema)


def compile_contract(contract: Contract) -> CompiledContract:
    """Compile a (domain-specialised) contract to pandera schemas."""
    columns = {
        c.name: pa.Column(None, nullable=not c.required, checks=_column_checks(c), required=False, coerce=False)
        for c in contract.columns
    }
    schema = pa.DataFrameSchema(columns, name=contract.kind, strict=False)
    rules = []
    for c in contract.columns:
        if c.required_if:
            when, values = c.required_if["column"], tuple(c.required_if["in"])
            rules.append(("E_REQUIRED_IF", c.name, (c.name, when), pa.DataFrameSchema(checks=[
                _check(required_if, column=c.name, when_column=when, values=values)])))
        if c.type == "id_number":
            type_col = id_type_column(contract, c.name)
            needed = (c.name,) + ((type_col,) if type_col else ())
            rules.append((CELL, c.name, needed, pa.DataFrameSchema(checks=[
                _check(id_number, column=c.name, type_column=type_col)])))
    s = contract.subject
    org_cols = tuple(c for c in s.org_codes if _has(contract, c))
    person_col = s.person_id if s.person_id and _has(contract, s.person_id) else None
    if org_cols or person_col:
        target = (org_cols[0] if org_cols else person_col)
        needed = org_cols + ((person_col,) if person_col else ()) + ((s.category,) if s.category else ())
        rules.append(("E_SUBJECT_ID_MISSING", target, needed, pa.DataFrameSchema(checks=[
            _check(subject_identified, org_columns=org_cols, person_column=person_col, category_column=s.category,
                   person_categories=tuple(s.person_categories))])))
    return CompiledContract(contract, schema, tuple(rules))


def normalise_frame(raw: dict[str, pyarrow.Array], contract: Contract) -> Frame:
    """Normalise what is compared, keep free text as written; empty cells become null.

    Codes: NFKC, no spaces, upper-case. Enums: the canonical value(s) (`canonical_enum`). Dates, numbers and the
    text columns of the natural key (文号, 案号: they identify a record across submissions): NFKC, trimmed.
    Other text: trimmed only, stored as submitted.
    """
    out = {}
    for col in contract.columns:
        values = raw.get(col.name)
        if values is None:
            continue
        if col.type in CODE_TYPES:
            norm = per_distinct(values, ids.normalise_code)
        elif col.type == "text" and col.name not in contract.natural_key:
            norm = ids.trim_text(values)
        else:
            norm = per_distinct(values, ids.normalise_text)
        if col.type == "enum" and col.values:
            norm = canonical_enum(norm, col)
        out[col.name] = norm
    return Frame(out, len(next(iter(raw.values()))) if raw else 0)


def canonical_enum(values: pyarrow.Array, spec: ColumnSpec) -> pyarrow.Array:
    """Each cell's canonical value(s), joined by 、 (synonyms, older wordings, 其他-XXX and multi-value cells read
    by contracts.enums); a cell with an unknown part stays as it was and fails validation. Parsed once per
    distinct value."""
    vocabulary = enums.of_column(spec)
    encoded = pc.dictionary_encode(values)
    mapped = []
    for text in encoded.dictionary.to_pylist():
        parsed = vocabulary.parse(text)
        mapped.append(parsed.text if parsed.values and not parsed.unknown else text)
    return pyarrow.array(mapped, pyarrow.string()).take(encoded.indices)


def enum_rewordings(raw: dict[str, pyarrow.Array], contract: Contract) -> Problems:
    """W_ENUM_SYNONYM where an enum cell was written as a synonym, an older wording or 其他-XXX (stored as the
    canonical value; the row is accepted)."""
    found: list[tuple[np.ndarray, str]] = []
    for col in contract.columns:
        if col.type != "enum" or not col.values or col.name not in raw or not (col.synonyms or col.other):
            continue
        vocabulary = enums.of_column(col)
        encoded = pc.dictionary_encode(ids.normalise_text(raw[col.name]))
        flags = []
        for text in encoded.dictionary.to_pylist():
            parsed = vocabulary.parse(text)
            flags.append(parsed.reworded and not parsed.unknown and bool(parsed.values))
        if any(flags):
            hit = np.asarray(flags + [False])[pc.fill_null(encoded.indices, len(flags)).to_numpy(zero_copy_only=False)]
            found.append((np.flatnonzero(hit), col.name))
    if not found:
        return Problems(np.array([], dtype=np.int64), [], [])
    rows = [(int(i), name) for positions, name in found for i in positions]
    rows.sort(key=lambda r: r[0])
    return Problems(np.array([r[0] for r in rows], dtype=np.int64), [r[1] for r in rows],
                    ["W_ENUM_SYNONYM"] * len(rows))


@dataclass
class Problems:
    """Row-level problems found in one validation run (positions are frame row positions)."""

    position: np.ndarray
    column: list[str | None]
    code: list[str]


def validate_frame(compiled: CompiledContract, frame: Frame, today: dt.date) -> tuple[Problems, dict[str, pyarrow.Array]]:
    """Run the schemas lazily; return every problem (one per cell, the first found) and the parsed dates."""
    run = _Run(today, frame)
    for col in compiled.contract.columns:
        if col.type == "date" and col.name in frame:
            run.dates[col.name] = parse_dates(frame[col.name])
    token = _RUN.set(run)
    try:
        cells = frame.to_polars()
        cases = [_failures(compiled.columns, cells)]
        for code, column, needed, schema in compiled.rules:
            present = [c for c in dict.fromkeys([column, *needed]) if c in frame]
            if column not in frame and (code != "E_REQUIRED_IF" or not present):
                continue
            _, labels, rows = _failures(schema, cells.select(present))
            rows, first = np.unique(rows, return_index=True)  # a row-level rule fails once per row
            cases.append(([column] * len(rows), [labels[i] for i in first], rows))
        return _to_problems(cases, run), dict(run.dates)
    finally:
        _RUN.reset(token)


def _failures(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> tuple[list, list, np.ndarray]:
    """(column, check label, row) of each failed cell; a check that failed as a whole (no row) is none."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases.filter(pl.col("index").is_not_null())
        return fc["column"].to_list(), fc["check"].to_list(), fc["index"].to_numpy().astype(np.int64)
    return [], [], np.array([], dtype=np.int64)


def problem_code(check_label: str) -> str:
    """Problem code of a failed check as pandera labels it: the check's error text (``isin(['罚款', ...])``), else
    its name (``date_text``)."""
    name = check_label.split("(", 1)[0]
    return CHECK_CODES.get(name, name)


def _to_problems(cases: list[tuple[list, list, np.ndarray]], run: _Run) -> Problems:
    """One problem per cell, the first found (cases in order: column checks, then the rules), in row order."""
    columns = np.array([name for names, _, _ in cases for name in names], dtype=object)
    labels = [label for _, checks, _ in cases for label in checks]
    rows = np.concatenate([r for _, _, r in cases]) if cases else np.array([], dtype=np.int64)
    if not len(rows):
        return Problems(np.array([], dtype=np.int64), [], [])
    known = {label: problem_code(label) for label in set(labels)}
    codes = np.array([known[label] for label in labels], dtype=object)
    cell = codes == CELL
    for name in set(columns[cell]):
        sel = cell & (columns == name)
        codes[sel] = run.codes[name].take(pyarrow.array(rows[sel])).to_pylist()
    keep = np.flatnonzero(codes != None)  # noqa: E711 - elementwise over an object array
    names, inverse = np.unique(columns[keep].astype(str), return_inverse=True)
    _, first = np.unique(rows[keep] * len(names) + inverse, return_index=True)
    keep = keep[np.sort(first)]
    keep = keep[np.argsort(rows[keep], kind="stable")]
    return Problems(rows[keep], columns[keep].tolist(), codes[keep].tolist())


def future_dates(dates: dict[str, pyarrow.Array], contract: Contract, today: dt.date) -> Problems:
    """Dates after `today` in columns with the `not_future` check: a warning (W_DATE_FUTURE), never a rejection;
    the row loads and the lists count the record from its date on."""
    found: list[tuple[int, str]] = []
    for col in contract.columns:
        if "not_future" in col.checks and col.name in dates:
            late = pc.fill_null(pc.greater(dates[col.name], pyarrow.scalar(today, pyarrow.date32())), False)
            found += [(int(i), col.name) for i in np.flatnonzero(late.to_numpy(zero_copy_only=False))]
    found.sort(key=lambda f: f[0])
    return Problems(np.array([f[0] for f in found], dtype=np.int64), [f[1] for f in found],
                    ["W_DATE_FUTURE"] * len(found))


def warnings_for(frame: Frame, contract: Contract, legacy: dict[str, np.ndarray]) -> Problems:
    """Warnings that never reject: citizen IDs with an unknown or retired address code, or shaped like a number
    Excel rounded to 15 significant digits; 15-digit citizen IDs stored as their 18-digit form (`legacy`: the
    frame's `first_generation_ids`)."""
    found: list[tuple[int, str, str]] = [(int(i), name, "W_ID_15_CONVERTED")
                                         for name, rows in legacy.items() for i in np.flatnonzero(rows)]
    for col in contract.columns:
        if col.type in ("citizen_id", "id_number", "subject_code") and col.name in frame:
            arr = frame[col.name]
            warn = ids.citizen_id_warnings(arr)
            hit = pc.and_(pc.fill_null(pc.equal(ids.classify_code(arr), "citizen_id"), False), pc.is_valid(warn))
            found += [(int(i), col.name, warn[int(i)].as_py())
                      for i in np.flatnonzero(hit.to_numpy(zero_copy_only=False))]
    found.sort(key=lambda f: f[0])
    return Problems(np.array([f[0] for f in found], dtype=np.int64), [f[1] for f in found], [f[2] for f in found])
