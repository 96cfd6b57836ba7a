"""The data contract model: record kinds, their columns and subjects, departments, domains and messages, as frozen
dataclasses; and header normalisation, shared by contract checks and header matching."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field, replace

COLUMN_TYPES = (
    "text", "enum", "date", "decimal", "integer", "uscc", "org_code", "citizen_id", "subject_code", "id_number", "code",
)
KNOWN_CHECKS = ("not_future", "gov_organ_uscc")  # named checks validation implements
CHECK_TYPES = {"not_future": ("date",), "gov_organ_uscc": ("uscc", "subject_code")}
CHECK_MESSAGES = {"not_future": "W_DATE_FUTURE", "gov_organ_uscc": "E_GOV_ORGAN_USCC"}
PROMOTE_KEYS = ("category", "end_date", "severity")  # warehouse columns filled from the payload
VALUES_FROM = ("domains", "kinds")  # enum lists resolved at load: domain names / titles of record kinds

_ID_CODES = (
    "E_ID_MASKED", "E_ID_SCIENTIFIC", "E_ID_EXCEL_NUMBER", "E_ID_LENGTH", "E_ID_CHARSET", "E_ID_BIRTHDATE",
    "E_ID_FUTURE_BIRTH", "E_ID_CHECK", "W_ID_ADDRESS_UNKNOWN", "W_ID_ADDRESS_RETIRED",
    "W_ID_MAYBE_EXCEL_NUMBER", "W_ID_15_CONVERTED",
)
_USCC_CODES = ("E_USCC_LENGTH", "E_USCC_CHARSET", "E_USCC_CHECK", "E_USCC_ORGCODE_CHECK")
_ORG_CODES = ("E_ORGCODE_LENGTH", "E_ORGCODE_CHARSET", "E_ORGCODE_CHECK")
TYPE_MESSAGES = {  # message codes validation may emit for a column of each type
    "text": (),
    "enum": ("E_ENUM", "W_ENUM_SYNONYM"),
    "date": ("E_DATE_FORMAT",),
    "decimal": ("E_NUMBER", "E_NEGATIVE"),
    "integer": ("E_NUMBER", "E_INTEGER", "E_NEGATIVE"),
    "uscc": (*_USCC_CODES, "E_EXCEL_NUMBER_CELL"),
    "org_code": (*_ORG_CODES, "E_EXCEL_NUMBER_CELL"),
    "citizen_id": (*_ID_CODES, "E_EXCEL_NUMBER_CELL"),
    "id_number": (*_ID_CODES, "E_EXCEL_NUMBER_CELL"),
    "subject_code": ("E_SUBJECT_CODE", *_USCC_CODES, *_ORG_CODES, *_ID_CODES, "E_EXCEL_NUMBER_CELL"),
    "code": ("E_CODE_CHARSET", "E_EXCEL_NUMBER_CELL"),
}

_BRACKETS = str.maketrans("（）［］【】〔〕[]{}", "()()()()()()")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_FILL_HINT = re.compile(r"\((?:必填|选填|必填项|选填项|可选)\)$")
_REQUIRED_MARKS = "*※"


class ContractError(ValueError):
    """The data_contracts YAML is malformed; the message lists every problem with its file."""



def normalise_header(text: object) -> str:
    """Header text as matched against contract headers and aliases.

    NFKC, every whitespace and zero-width character removed, brackets unified to ``()``, a trailing
    ``(必填)``/``(选填)`` and leading/trailing ``*``/``＊``/``※`` required marks removed, case-folded.
    """
    return "" if text is None else _normalise(str(text))


@functools.lru_cache(maxsize=1 << 16)  # header detection asks for the same few cells and aliases many times
def _normalise(text: str) -> str:
    s = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    s = "".join(s.split()).translate(_BRACKETS)
    while True:
        stripped = _FILL_HINT.sub("", s.strip(_REQUIRED_MARKS))
        if stripped == s:
            return s.casefold()
        s = stripped


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a contract (canonical snake_case name, Chinese header, type and rules)."""

    name: str
    header: str
    aliases: tuple[str, ...] = ()
    type: str = "text"
    required: bool = False
    required_if: dict | None = None  # {"column": other column, "in": (values...)}
    values: tuple[str, ...] | None = None  # enum only
    multi: bool = False  # enum only: several values in one cell (see contracts.enums)
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)  # enum only: wording -> canonical value(s)
    other: str | None = None  # enum only: the value that may be written with a specification, 其他-XXX
    max_length: int | None = None
    checks: tuple[str, ...] = ()
    pii: bool = False
    description: str | None = None
    unit: str | None = None  # decimal / integer columns: 元 | 万元 | 小时 | 岁 (contracts.kinds.UNITS)


@dataclass(frozen=True)
class SubjectSpec:
    """Which columns identify the credit subject of a row.

    When an ``org_codes`` entry and ``person_id`` name the same ``subject_code`` column, each value's form
    decides whether the subject is an organisation or a natural person.
    """

    name: str
    category: str | None = None
    person_categories: tuple[str, ...] = ()
    org_codes: tuple[str, ...] = ()
    person_id: str | None = None
    person_id_type: str | None = None
    legal_rep_name: str | None = None
    legal_rep_id: str | None = None

    @property
    def fixed_type(self) -> str | None:
        """``person`` or ``org`` when every subject of the kind is of one type; None when rows decide."""
        if not self.org_codes:
            return "person"
        if self.person_id is None:
            return "org"
        return None

    def column_names(self) -> tuple[str, ...]:
        cols = (self.name, self.category, *self.org_codes, self.person_id, self.person_id_type,
                self.legal_rep_name, self.legal_rep_id)
        return tuple(dict.fromkeys(c for c in cols if c))


@dataclass(frozen=True)
class DomainSpec:
    """A contract's specialisation for one key domain: extra columns and replaced column specs."""

    columns: tuple[ColumnSpec, ...] = ()
    overrides: dict[str, ColumnSpec] = field(default_factory=dict)  # column name -> spec after override


@dataclass(frozen=True)
class Contract:
    """The data contract of one record kind."""

    kind: str
    title: str
    version: int
    standard: str | None
    legal_basis: tuple[str, ...]
    file_name_aliases: tuple[str, ...]
    subject: SubjectSpec
    natural_key: tuple[str, ...]
    record_date: str
    promote: dict[str, str]
    domain_column: str | None
    columns: tuple[ColumnSpec, ...]
    domains: dict[str, DomainSpec]
    default_domain: str | None = None  # domain of rows that name none, after the department's default

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.kind} has no column {name!r}")

    def for_domain(self, domain: str | None) -> Contract:
        """The contract as specialised for `domain`; the base contract for an unknown or absent domain."""
        spec = self.domains.get(domain) if domain else None
        if spec is None:
            return self
        columns = tuple(spec.overrides.get(c.name, c) for c in self.columns) + spec.columns
        return replace(self, columns=columns, domains={})

    def header_index(self) -> dict[str, str]:
        """Normalised header, alias or canonical name -> canonical column name."""
        index: dict[str, str] = {}
        for c in self.columns:
            for text in (c.name, c.header, *c.aliases):
                index[normalise_header(text)] = c.name
        return index

    def message_codes(self) -> frozenset[str]:
        """Every message code validation may emit for this contract (all domain variants included)."""
        codes = {"E_DUPLICATE_KEY", "E_SUBJECT_ID_MISSING"}
        variants = [self, *(self.for_domain(d) for d in self.domains)]
        for c in (c for v in variants for c in v.columns):
            codes.update(TYPE_MESSAGES[c.type])
            codes.update(CHECK_MESSAGES[k] for k in c.checks)
            if c.required:
                codes.add("E_REQUIRED")
            if c.required_if:
                codes.add("E_REQUIRED_IF")
            if c.max_length:
                codes.add("E_TOO_LONG")
        return frozenset(codes)


@dataclass(frozen=True)
class Department:
    """A submitting department and its catalog: which kinds and key domains it may submit."""

    code: str
    name: str
    aliases: tuple[str, ...]
    kinds: tuple[str, ...]
    domains: tuple[str, ...]
    default_domains: dict[str, str]  # kind -> domain for rows that name none


@dataclass(frozen=True)
class Domain:
    code: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Occupation:
    code: str
    name: str
    domain: str | None = None


@dataclass(frozen=True)
class Message:
    code: str
    severity: str
    zh: str
    hint: str
    en: str
    title: str  # short Chinese name of the error type, for report summaries
