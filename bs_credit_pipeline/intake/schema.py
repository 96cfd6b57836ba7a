"""Normalise and validate a sheet's rows against a data contract, with pandera (lazy, every failure collected).

A contract compiles to a pandera `DataFrameSchema` over the normalised text cells. Checks that need the precise
reason (which identifier rule failed, a date that cannot be parsed) are registered pandera checks that also leave
a per-cell error code in the run's context; the mapping from pandera failure cases to problems reads it back.
Cross-column rules (conditional requirements, subject identification, ID numbers by ID type) are small
DataFrame-level schemas over just the columns they need.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pyarrow
import pyarrow.compute as pc
from pandera import extensions

from .. import identifiers as ids
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


@dataclass
class _Run:
    today: dt.date
    codes: dict[str, pd.Series] = field(default_factory=dict)
    dates: dict[str, pyarrow.Array] = field(default_factory=dict)


_RUN: contextvars.ContextVar[_Run] = contextvars.ContextVar("bs_credit_validation_run")


def _codes_series(codes, index) -> pd.Series:
    arr = codes.to_pylist() if isinstance(codes, (pyarrow.Array, pyarrow.ChunkedArray)) else list(codes)
    return pd.Series(arr, index=index, dtype="object")


def _record(name: str, codes: pd.Series) -> pd.Series:
    run = _RUN.get()
    previous = run.codes.get(name)
    run.codes[name] = codes if previous is None else previous.where(previous.notna(), codes)
    return codes.isna()


def _to_arrow(series: pd.Series) -> pyarrow.Array:
    arr = pyarrow.array(series, type=pyarrow.string(), from_pandas=True)
    return arr.combine_chunks() if isinstance(arr, pyarrow.ChunkedArray) else arr


def _has(contract: Contract, name: str | None) -> bool:
    return bool(name) and any(c.name == name for c in contract.columns)


def identifier_codes(values: pd.Series, scheme: str, today: dt.date) -> pd.Series:
    """Per-value error code (None when valid or empty) for one identifier scheme."""
    arr = _to_arrow(values)
    if scheme == "uscc":
        codes = ids.uscc_errors(arr)
    elif scheme == "org_code":
        codes = ids.org_code_errors(arr)
    elif scheme == "citizen_id":
        codes = ids.citizen_id_errors(arr, today)
    elif scheme == "subject_code":
        kinds = _codes_series(ids.classify_code(arr), values.index)
        person = _codes_series(ids.citizen_id_errors(arr, today), values.index)
        org = _codes_series(ids.uscc_errors(arr), values.index)
        orgcode = _codes_series(ids.org_code_errors(arr), values.index)
        out = pd.Series(np.where(kinds == "citizen_id", person, np.where(kinds == "org_code", orgcode, org)),
                        index=values.index, dtype="object")
        # A code of no recognisable shape: report the citizen-ID reason for digit strings, else the USCC one.
        unknown = kinds.isna() & values.notna()
        digits = values.astype("string").str.fullmatch(r"[0-9Xx*]+").fillna(False).astype(bool)
        out[unknown & digits] = person[unknown & digits]
        out[unknown & ~digits] = "E_SUBJECT_CODE"
        out[values.isna()] = None
        return out
    else:
        raise ValueError(f"unknown identifier scheme {scheme!r}")
    return _codes_series(codes, values.index)


@extensions.register_check_method(statistics=["scheme"], supported_types=pd.Series)
def identifier(series: pd.Series, *, scheme: str) -> pd.Series:
    """USCC / organisation code / citizen ID / any subject code, with the precise failure kept per cell."""
    return _record(series.name, identifier_codes(series, scheme, _RUN.get().today))


@extensions.register_check_method(statistics=["column", "type_column"], supported_types=pd.DataFrame)
def id_number(df: pd.DataFrame, *, column: str, type_column: str | None) -> pd.Series:
    """An ID number is checked as a citizen ID when its ID type is 身份证 (or not given)."""
    values = df[column]
    codes = identifier_codes(values, "citizen_id", _RUN.get().today)
    if type_column and type_column in df:
        kind = df[type_column].fillna("").astype(str)
        codes = codes.where(kind.isin(PERSON_ID_TYPES), None)
    return _record(column, codes)


@extensions.register_check_method(statistics=["values", "synonyms", "other"], supported_types=pd.Series)
def multi_isin(series: pd.Series, *, values: tuple, synonyms: tuple, other: str | None) -> pd.Series:
    """The cell reads as allowed values only (normalisation already wrote known cells canonically)."""
    vocabulary = enums.vocabulary(values, synonyms, other, multi=True)
    arr = _to_arrow(series)
    distinct = pc.unique(arr).drop_null()
    known = [v for v in distinct.to_pylist() if not vocabulary.parse(v).unknown]
    ok = pc.is_in(arr, value_set=pyarrow.array(known, pyarrow.string()))
    return pd.Series(np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool), index=series.index)


def _parsed_dates(series: pd.Series) -> pyarrow.Array:
    """The run's parse of the whole date column, taken at this series' rows (pandera passes non-null rows only)."""
    full = _RUN.get().dates[series.name]
    return full.take(pyarrow.array(series.index.to_numpy(), pyarrow.int64()))


@extensions.register_check_method(supported_types=pd.Series)
def date_text(series: pd.Series) -> pd.Series:
    """The cell holds a date in one of the accepted forms."""
    parsed = _parsed_dates(series)
    bad = series.notna().to_numpy() & pc.is_null(parsed).to_numpy(zero_copy_only=False)
    return pd.Series(~bad, index=series.index)


@extensions.register_check_method(statistics=["integer"], supported_types=pd.Series)
def amount(series: pd.Series, *, integer: bool) -> pd.Series:
    """A non-negative number (an integer where the contract says so)."""
    numbers = parse_numbers(_to_arrow(series)).to_numpy(zero_copy_only=False)
    present = series.notna().to_numpy()
    codes = np.full(len(series), None, dtype=object)
    codes[present & np.isnan(numbers)] = "E_NUMBER"
    if integer:
        codes[present & ~np.isnan(numbers) & (np.mod(np.nan_to_num(numbers), 1) != 0)] = "E_NUMBER"
    codes[present & ~np.isnan(numbers) & (np.nan_to_num(numbers) < 0)] = "E_NEGATIVE"
    return _record(series.name, pd.Series(codes, index=series.index, dtype="object"))


@extensions.register_check_method(supported_types=pd.Series)
def gov_organ_uscc(series: pd.Series) -> pd.Series:
    """Government-affairs records are about government organs: USCC prefix 11."""
    return series.isna() | series.astype("string").str.startswith("11").fillna(False).astype(bool)


@extensions.register_check_method(statistics=["column", "when_column", "values"], supported_types=pd.DataFrame)
def required_if(df: pd.DataFrame, *, column: str, when_column: str, values: tuple) -> pd.Series:
    """`column` must be filled on rows whose `when_column` is one of `values`."""
    return ~(df[when_column].isin(values) & df[column].isna())


@extensions.register_check_method(statistics=["org_columns", "person_column", "category_column", "person_categories"],
                                  supported_types=pd.DataFrame)
def subject_identified(df: pd.DataFrame, *, org_columns: tuple, person_column: str | None,
                       category_column: str | None, person_categories: tuple) -> pd.Series:
    """A legal person needs a USCC or a legacy code; a natural person needs an ID number."""
    has_org = pd.Series(False, index=df.index)
    for c in org_columns:
        if c in df:
            has_org |= df[c].notna()
    has_person = df[person_column].notna() if person_column and person_column in df else pd.Series(False, index=df.index)
    if category_column and category_column in df:
        is_person = df[category_column].isin(person_categories)
        return (is_person & has_person) | (~is_person & has_org) | (df[category_column].isna() & (has_org | has_person))
    return has_org | has_person


def id_type_column(contract: Contract, name: str) -> str | None:
    """The column giving the ID type of `id_number` column `name` (the subject's or the legal representative's)."""
    if name == contract.subject.person_id:
        return contract.subject.person_id_type
    if name == contract.subject.legal_rep_id:
        return next((x.name for x in contract.columns if x.name == "legal_rep_id_type"), None)
    return None


def first_generation_ids(frame: pd.DataFrame, contract: Contract) -> dict[str, np.ndarray]:
    """Rows of each ID column holding a 15-digit first-generation citizen ID (an `id_number` only where its ID
    type is a citizen ID or blank): intake stores them as their 18-digit form and keeps the value as written."""
    out = {}
    for col in contract.columns:
        if col.type not in ("citizen_id", "id_number", "subject_code") or col.name not in frame:
            continue
        arr = _to_arrow(frame[col.name])
        rows = np.flatnonzero(pc.fill_null(pc.equal(pc.utf8_length(arr), 15), False).to_numpy(zero_copy_only=False))
        if not len(rows):
            continue
        take = pyarrow.array(rows)
        hit = pc.fill_null(pc.equal(ids.classify_code(arr.take(take)), "citizen_id"), False)
        type_col = id_type_column(contract, col.name) if col.type == "id_number" else None
        if type_col and type_col in frame:
            kind = pc.fill_null(_to_arrow(frame[type_col]).take(take), "")
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
            checks.append(pa.Check.multi_isin(values=tuple(col.values), other=col.other,
                                               synonyms=tuple((k, tuple(v)) for k, v in col.synonyms.items())))
        else:
            checks.append(pa.Check.isin(list(col.values)))
    if col.type in ("uscc", "org_code", "citizen_id", "subject_code"):
        checks.append(pa.Check.identifier(scheme=col.type))
    if col.type == "date":
        checks.append(pa.Check.date_text())
    if col.type in ("decimal", "integer"):
        checks.append(pa.Check.amount(integer=col.type == "integer"))
    if "gov_organ_uscc" in col.checks:
        checks.append(pa.Check.gov_organ_uscc())
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
                pa.Check.required_if(column=c.name, when_column=when, values=values)])))
        if c.type == "id_number":
            type_col = id_type_column(contract, c.name)
            needed = (c.name,) + ((type_col,) if type_col else ())
            rules.append((CELL, c.name, needed, pa.DataFrameSchema(checks=[
                pa.Check.id_number(column=c.name, type_column=type_col)])))
    s = contract.subject
    org_cols = tuple(c for c in s.org_codes if _has(contract, c))
    person_col = s.person_id if s.person_id and _has(contract, s.person_id) else None
    if org_cols or person_col:
        target = (org_cols[0] if org_cols else person_col)
        needed = org_cols + ((person_col,) if person_col else ()) + ((s.category,) if s.category else ())
        rules.append(("E_SUBJECT_ID_MISSING", target, needed, pa.DataFrameSchema(checks=[
            pa.Check.subject_identified(org_columns=org_cols, person_column=person_col, category_column=s.category,
                                        person_categories=tuple(s.person_categories))])))
    return CompiledContract(contract, schema, tuple(rules))


def normalise_frame(raw: dict[str, pyarrow.Array], contract: Contract) -> pd.DataFrame:
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
    n = len(next(iter(raw.values()))) if raw else 0
    frame = pyarrow.table(out) if out else pyarrow.table({"_": pyarrow.nulls(n, pyarrow.string())}).drop(["_"])
    return frame.to_pandas(types_mapper=_string_dtype)


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


def _string_dtype(t: pyarrow.DataType):
    """Arrow-backed text columns without a copy (pandas' StringDtype would re-encode each column)."""
    return pd.ArrowDtype(t) if t in (pyarrow.string(), pyarrow.large_string()) else None


@dataclass
class Problems:
    """Row-level problems found in one validation run (positions are frame row positions)."""

    position: np.ndarray
    column: list[str | None]
    code: list[str]


def validate_frame(compiled: CompiledContract, frame: pd.DataFrame, today: dt.date) -> tuple[Problems, dict[str, pyarrow.Array]]:
    """Run the schemas lazily; return every problem (one per cell, the first found) and the parsed dates.

    `frame` must have a RangeIndex: pandera hands checks the non-null rows only, and the per-cell codes and
    parsed dates are looked up by index label.
    """
    run = _Run(today)
    for col in compiled.contract.columns:
        if col.type == "date" and col.name in frame:
            run.dates[col.name] = parse_dates(_to_arrow(frame[col.name]))
    token = _RUN.set(run)
    try:
        cases = [_failures(compiled.columns, frame)]
        for code, column, needed, schema in compiled.rules:
            present = [c for c in needed if c in frame]
            if column not in frame and code != "E_REQUIRED_IF":
                continue
            sub = frame.reindex(columns=list(dict.fromkeys([column, *present])))
            fc = _failures(schema, sub)
            if len(fc):
                fc = fc.drop_duplicates("index").assign(column=column)
            cases.append(fc)
        failures = pd.concat([c for c in cases if len(c)], ignore_index=True) if any(len(c) for c in cases) else None
        problems = _to_problems(failures, run)
        return problems, dict(run.dates)
    finally:
        _RUN.reset(token)


def _failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame:
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        return fc[fc["index"].notna()][["column", "check", "index"]]
    return pd.DataFrame(columns=["column", "check", "index"])


def problem_code(check_label: str) -> str:
    """Problem code of a failed check as pandera labels it: the check's error text (``isin(['罚款', ...])``), else
    its name (``date_text``)."""
    name = check_label.split("(", 1)[0]
    return CHECK_CODES.get(name, name)


def _to_problems(failures: pd.DataFrame | None, run: _Run) -> Problems:
    if failures is None or not len(failures):
        return Problems(np.array([], dtype=np.int64), [], [])
    failures = failures.copy()
    failures["index"] = failures["index"].astype("int64")
    codes = failures["check"].astype(str).map(problem_code).to_numpy(dtype=object)
    cell = codes == CELL
    if cell.any():
        cols = failures["column"].to_numpy(dtype=object)
        idx = failures["index"].to_numpy()
        for name in set(cols[cell]):
            sel = cell & (cols == name)
            codes[sel] = run.codes[name].reindex(idx[sel]).to_numpy(dtype=object)
    failures["code"] = codes
    failures = failures[failures["code"].notna()].drop_duplicates(["index", "column"], keep="first")
    failures = failures.sort_values(["index"], kind="stable")
    return Problems(failures["index"].to_numpy(), failures["column"].tolist(), failures["code"].tolist())


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


def warnings_for(frame: pd.DataFrame, contract: Contract, legacy: dict[str, np.ndarray]) -> Problems:
    """Warnings that never reject: citizen IDs with an unknown or retired address code, or shaped like a number
    Excel rounded to 15 significant digits; 15-digit citizen IDs stored as their 18-digit form (`legacy`: the
    frame's `first_generation_ids`)."""
    found: list[tuple[int, str, str]] = [(int(i), name, "W_ID_15_CONVERTED")
                                         for name, rows in legacy.items() for i in np.flatnonzero(rows)]
    for col in contract.columns:
        if col.type in ("citizen_id", "id_number", "subject_code") and col.name in frame:
            arr = _to_arrow(frame[col.name])
            warn = ids.citizen_id_warnings(arr)
            hit = pc.and_(pc.fill_null(pc.equal(ids.classify_code(arr), "citizen_id"), False), pc.is_valid(warn))
            found += [(int(i), col.name, warn[int(i)].as_py())
                      for i in np.flatnonzero(hit.to_numpy(zero_copy_only=False))]
    found.sort(key=lambda f: f[0])
    return Problems(np.array([f[0] for f in found], dtype=np.int64), [f[1] for f in found], [f[2] for f in found])
