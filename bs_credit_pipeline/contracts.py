"""Data contracts: load the YAML of ``data_contracts/`` into frozen dataclasses and check it on load.

One contract per record kind (``kinds/<kind>.yaml``), the department registry (``departments.yaml``), the
key-domain catalog (``domains.yaml``) and the message catalog (``messages.yaml``). Adding a kind, a domain
specialisation or a department needs YAML only; every mistake in the YAML is reported with its file.
The format is documented in docs/CONTRACTS.md.
"""

from __future__ import annotations

import os
import re
import string
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

COLUMN_TYPES = (
    "text", "enum", "date", "decimal", "integer", "uscc", "org_code", "citizen_id", "subject_code", "id_number", "code",
)
KNOWN_CHECKS = ("not_future", "gov_organ_uscc")  # named checks validation implements
CHECK_TYPES = {"not_future": ("date",), "gov_organ_uscc": ("uscc", "subject_code")}
CHECK_MESSAGES = {"not_future": "E_DATE_FUTURE", "gov_organ_uscc": "E_GOV_ORGAN_USCC"}
PROMOTE_KEYS = ("category", "end_date", "severity")  # warehouse columns filled from the payload
VALUES_FROM = ("domains", "kinds")  # enum lists resolved at load: domain names / titles of record kinds
SEVERITIES = ("error", "warning", "notice")
ENV_VAR = "BS_CREDIT_CONTRACTS"
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "data_contracts"

_ID_CODES = (
    "E_ID_MASKED", "E_ID_SCIENTIFIC", "E_ID_EXCEL_NUMBER", "E_ID_LENGTH", "E_ID_CHARSET", "E_ID_BIRTHDATE",
    "E_ID_FUTURE_BIRTH", "E_ID_CHECK", "W_ID_ADDRESS_UNKNOWN", "W_ID_ADDRESS_RETIRED",
    "W_ID_MAYBE_EXCEL_NUMBER",
)
_USCC_CODES = ("E_USCC_LENGTH", "E_USCC_CHARSET", "E_USCC_CHECK", "E_USCC_ORGCODE_CHECK")
_ORG_CODES = ("E_ORGCODE_LENGTH", "E_ORGCODE_CHARSET", "E_ORGCODE_CHECK")
TYPE_MESSAGES = {  # message codes validation may emit for a column of each type
    "text": (),
    "enum": ("E_ENUM",),
    "date": ("E_DATE_FORMAT",),
    "decimal": ("E_NUMBER", "E_NEGATIVE"),
    "integer": ("E_NUMBER", "E_INTEGER", "E_NEGATIVE"),
    "uscc": _USCC_CODES,
    "org_code": _ORG_CODES,
    "citizen_id": _ID_CODES,
    "id_number": _ID_CODES,
    "subject_code": ("E_SUBJECT_CODE", *_USCC_CODES, *_ORG_CODES, *_ID_CODES),
    "code": ("E_CODE_CHARSET",),
}
_SEVERITY_BY_PREFIX = {"E": "error", "F": "error", "W": "warning", "N": "notice"}

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_MESSAGE_CODE_RE = re.compile(r"^[EFWN]_[A-Z0-9_]+$")
_BRACKETS = str.maketrans("（）［］【】〔〕[]{}", "()()()()()()")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_FILL_HINT = re.compile(r"\((?:必填|选填|必填项|选填项|可选)\)$")
_REQUIRED_MARKS = "*※"
_ORG_ID_TYPES = ("uscc", "org_code", "code", "subject_code")
_PERSON_ID_TYPES = ("citizen_id", "id_number", "subject_code")
_UNSAFE_LOG_FIELDS = ("value", "raw_value")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ContractError(ValueError):
    """The data_contracts YAML is malformed; the message lists every problem with its file."""


def normalise_header(text: object) -> str:
    """Header text as matched against contract headers and aliases.

    NFKC, every whitespace and zero-width character removed, brackets unified to ``()``, a trailing
    ``(必填)``/``(选填)`` and leading/trailing ``*``/``＊``/``※`` required marks removed, case-folded.
    """
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text)).translate(_INVISIBLE)
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
    multi: bool = False  # enum only: several values joined by 、 ; ； , ，
    max_length: int | None = None
    checks: tuple[str, ...] = ()
    pii: bool = False
    description: str | None = None


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


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Registry:
    """Everything in data_contracts/ except the rules: contracts, departments, domains, messages."""

    contracts: dict[str, Contract]
    departments: dict[str, Department]
    domains: dict[str, Domain]  # keyed by the Chinese name records carry
    messages: dict[str, Message]
    occupations: dict[str, Occupation] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> Registry:
        """Load and check the contracts directory (default: $BS_CREDIT_CONTRACTS, else the repo's)."""
        root = Path(path or os.environ.get(ENV_VAR) or DEFAULT_DIR)
        return _Loader(root).load()

    def department_for_folder(self, name: str) -> Department | None:
        """The department an inbox folder names, by code, Chinese name or alias."""
        key = normalise_header(name)
        for d in self.departments.values():
            if key in {normalise_header(t) for t in (d.code, d.name, *d.aliases)}:
                return d
        return None

    def domain_name(self, text: str | None) -> str | None:
        """The domain a cell or folder names, by name, code or alias; None when unknown."""
        key = normalise_header(text)
        for d in self.domains.values():
            if key in {normalise_header(t) for t in (d.code, d.name, *d.aliases)}:
                return d.name
        return None

    def default_domain(self, department: str, kind: str) -> str | None:
        """Domain of a department's rows of `kind` that name none: its catalog's, else the contract's."""
        dept = self.departments.get(department)
        found = dept.default_domains.get(kind) if dept else None
        return found or self.contracts[kind].default_domain

    def message(self, code: str, **fields: Any) -> tuple[str, str, str, str]:
        """(zh, hint, en, severity) of `code` with `fields` filled in; unknown placeholders are kept."""
        try:
            m = self.messages[code]
        except KeyError:
            raise KeyError(f"unknown message code {code!r}") from None
        values = _Keep({k: "" if v is None else v for k, v in fields.items()})
        return m.zh.format_map(values), m.hint.format_map(values), m.en.format_map(values), m.severity

    def message_title(self, code: str) -> str:
        """Short Chinese title of `code` (no placeholders), e.g. for an errors-by-type table."""
        try:
            return self.messages[code].title
        except KeyError:
            raise KeyError(f"unknown message code {code!r}") from None


# ---------------------------------------------------------------------------------------------------- loading

_CONTRACT_KEYS = {
    "kind", "title", "version", "standard", "legal_basis", "file_name_aliases", "subject", "natural_key",
    "record_date", "promote", "domain_column", "default_domain", "columns", "domains",
}
_CONTRACT_REQUIRED = ("kind", "title", "version", "subject", "natural_key", "record_date", "columns")
_COLUMN_KEYS = {
    "name", "header", "aliases", "type", "required", "required_if", "values", "values_from", "multi",
    "max_length", "checks", "pii", "description",
}
_SUBJECT_KEYS = {"name", "category", "person_categories", "org_codes", "person_id", "person_id_type", "legal_rep"}
_DEPARTMENT_KEYS = {"code", "name", "aliases", "kinds", "domains", "default_domains"}
_MESSAGE_KEYS = {"severity", "title", "zh", "hint", "en"}
_TITLE_MAX_CHARS = 16


class _Loader:
    """Reads the directory, collects every problem, raises one ContractError listing them all."""

    def __init__(self, root: Path):
        self.root = root
        self.problems: list[str] = []
        self.kind_files: set[str] = set()  # kinds with a YAML file, loaded or not
        self.domain_names: tuple[str, ...] = ()

    def load(self) -> Registry:
        if not self.root.is_dir():
            raise ContractError(f"contracts directory not found: {self.root}")
        domains, occupations = self._domains()
        messages = self._messages()
        contracts = self._contracts(domains, messages)
        departments = self._departments(contracts, domains)
        if self.problems:
            raise ContractError(f"invalid data contracts in {self.root}:\n  " + "\n  ".join(self.problems))
        return Registry(contracts, departments, domains, messages, occupations)

    # -- helpers

    def _problem(self, where: str, text: str) -> None:
        self.problems.append(f"{where}: {text}")

    def _read(self, rel: str) -> dict:
        path = self.root / rel
        if not path.is_file():
            raise ContractError(f"{rel}: file not found in {self.root}")
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise ContractError(f"{rel}: invalid YAML{at}: {problem}") from None
        if not isinstance(data, dict):
            raise ContractError(f"{rel}: expected a mapping at the top level, got {type(data).__name__}")
        return data

    def _texts(self, where: str, key: str, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self._problem(where, f"{key} must be a list of non-empty texts (quote numbers)")
            return ()
        return tuple(value)

    def _keys(self, where: str, raw: dict, allowed: set[str], required: tuple[str, ...] = ()) -> bool:
        unknown = sorted(set(raw) - allowed)
        if unknown:
            self._problem(where, f"unknown key(s) {', '.join(map(str, unknown))}; allowed: {', '.join(sorted(allowed))}")
        missing = [k for k in required if raw.get(k) in (None, "", [])]
        if missing:
            self._problem(where, f"missing {', '.join(missing)}")
        return not missing

    # -- domains.yaml

    def _domains(self) -> tuple[dict[str, Domain], dict[str, Occupation]]:
        rel = "domains.yaml"
        data = self._read(rel)
        domains: dict[str, Domain] = {}
        seen: dict[str, str] = {}
        for i, raw in enumerate(data.get("domains") or []):
            where = f"{rel} domains[{i}]"
            if not isinstance(raw, dict):
                self._problem(where, "expected a mapping with code and name")
                continue
            if not self._keys(where, raw, {"code", "name", "aliases"}, ("code", "name")):
                continue
            d = Domain(str(raw["code"]), str(raw["name"]), self._texts(where, "aliases", raw.get("aliases")))
            if not _NAME_RE.match(d.code):
                self._problem(where, f"code {d.code!r} must be snake_case ASCII")
            if d.name in domains:
                self._problem(where, f"domain {d.name} is defined twice")
            for text in (d.code, d.name, *d.aliases):
                key = normalise_header(text)
                if key in seen and seen[key] != d.name:
                    self._problem(where, f"{text!r} already names domain {seen[key]}")
                seen[key] = d.name
            domains[d.name] = d
        if not domains:
            self._problem(rel, "no domains defined")
        occupations: dict[str, Occupation] = {}
        for i, raw in enumerate(data.get("occupations") or []):
            where = f"{rel} occupations[{i}]"
            if not isinstance(raw, dict):
                self._problem(where, "expected a mapping with code and name")
                continue
            if not self._keys(where, raw, {"code", "name", "domain"}, ("code", "name")):
                continue
            o = Occupation(str(raw["code"]), str(raw["name"]), raw.get("domain"))
            if o.domain is not None and o.domain not in domains:
                self._problem(where, f"unknown domain {o.domain!r}")
            occupations[o.name] = o
        return domains, occupations

    # -- messages.yaml

    def _messages(self) -> dict[str, Message]:
        rel = "messages.yaml"
        messages: dict[str, Message] = {}
        for code, raw in self._read(rel).items():
            where = f"{rel} {code}"
            if not _MESSAGE_CODE_RE.match(str(code)):
                self._problem(where, "code must look like E_/F_/W_/N_ + UPPER_SNAKE")
                continue
            if not isinstance(raw, dict):
                self._problem(where, "expected a mapping with severity, title, zh, hint and en")
                continue
            if not self._keys(where, raw, _MESSAGE_KEYS, tuple(sorted(_MESSAGE_KEYS))):
                continue
            m = Message(code, *(str(raw[k]) for k in ("severity", "zh", "hint", "en")), title=str(raw["title"]).strip())
            if len(m.title) > _TITLE_MAX_CHARS or "{" in m.title or "}" in m.title:
                self._problem(where, f"title must be at most {_TITLE_MAX_CHARS} characters without placeholders")
            if m.severity != _SEVERITY_BY_PREFIX[code[0]]:
                self._problem(where, f"severity of a {code[0]}_ code must be {_SEVERITY_BY_PREFIX[code[0]]}")
            for key, template in (("zh", m.zh), ("hint", m.hint), ("en", m.en)):
                try:
                    names = {f for _, f, _, _ in string.Formatter().parse(template) if f}
                except ValueError as exc:
                    self._problem(where, f"{key}: bad placeholder syntax ({exc}); write literal braces as {{{{ }}}}")
                    continue
                if key == "en" and names & set(_UNSAFE_LOG_FIELDS):
                    self._problem(where, "en (log text) must not contain the cell value")
            messages[code] = m
        return messages

    # -- kinds/*.yaml

    def _contracts(self, domains: dict[str, Domain], messages: dict[str, Message]) -> dict[str, Contract]:
        files = sorted((self.root / "kinds").glob("*.yaml"))
        if not files:
            self._problem("kinds/", "no contracts found")
        raws = {p.stem: self._read(f"kinds/{p.name}") for p in files}
        self.kind_files = set(raws)
        # values_from: kinds -> titles of the record kinds, i.e. of contracts that do not themselves target records
        targeting = {k for k, raw in raws.items() if _uses_values_from(raw, "kinds")}
        self.domain_names = tuple(domains)
        lists = {
            "domains": self.domain_names,
            "kinds": tuple(str(raws[k].get("title")) for k in raws if k not in targeting),
        }
        contracts: dict[str, Contract] = {}
        for stem, raw in raws.items():
            contract = self._contract(f"kinds/{stem}.yaml", stem, raw, lists, domains)
            if contract is not None:
                contracts[contract.kind] = contract
        names_seen: dict[str, str] = {}
        for c in contracts.values():
            for text in (c.title, *c.file_name_aliases):
                key = normalise_header(text)
                if key in names_seen and names_seen[key] != c.kind:
                    self._problem(f"kinds/{c.kind}.yaml", f"title/file_name_alias {text!r} also names {names_seen[key]}")
                names_seen[key] = c.kind
            missing = sorted(c.message_codes() - set(messages))
            if missing:
                self._problem(f"kinds/{c.kind}.yaml", f"message code(s) used by its columns missing from messages.yaml: {', '.join(missing)}")
        return contracts

    def _contract(self, where: str, stem: str, raw: dict, lists: dict, domains: dict[str, Domain]) -> Contract | None:
        before = len(self.problems)
        if not self._keys(where, raw, _CONTRACT_KEYS, _CONTRACT_REQUIRED):
            return None
        kind = str(raw["kind"])
        if kind != stem or not _NAME_RE.match(kind):
            self._problem(where, f"kind {kind!r} must be snake_case and equal the file name {stem!r}")
        if not isinstance(raw["version"], int):
            self._problem(where, "version must be an integer")
        raw_columns = raw["columns"]
        if not isinstance(raw_columns, list) or not all(isinstance(c, dict) for c in raw_columns):
            self._problem(where, "columns must be a list of mappings")
            return None
        columns = self._columns(where, raw_columns, lists)
        subject = self._subject(where, raw["subject"])
        natural_key = self._texts(where, "natural_key", raw["natural_key"])
        promote = raw.get("promote") or {}
        if not isinstance(promote, dict):
            self._problem(where, "promote must be a mapping")
            promote = {}
        default_domain = raw.get("default_domain")
        if default_domain is not None and default_domain not in domains:
            self._problem(where, f"default_domain {default_domain!r} is not a domain of domains.yaml")
        contract = Contract(
            kind=kind,
            title=str(raw["title"]),
            version=raw["version"],
            standard=raw.get("standard"),
            legal_basis=self._texts(where, "legal_basis", raw.get("legal_basis")),
            file_name_aliases=self._texts(where, "file_name_aliases", raw.get("file_name_aliases")),
            subject=subject,
            natural_key=natural_key,
            record_date=str(raw["record_date"]),
            promote={str(k): str(v) for k, v in promote.items()},
            domain_column=raw.get("domain_column"),
            columns=columns,
            domains={},
            default_domain=default_domain,
        )
        self._check_contract(where, contract)
        if len(self.problems) > before:
            return None
        specs = self._domain_specs(where, contract, raw_columns, raw.get("domains") or {}, lists, domains)
        contract = replace(contract, domains=specs)
        return contract if len(self.problems) == before else None

    def _columns(self, where: str, raws: list[dict], lists: dict) -> tuple[ColumnSpec, ...]:
        out = []
        for i, raw in enumerate(raws):
            col = self._column(f"{where} column {raw.get('name') or i}", raw, lists)
            if col is not None:
                out.append(col)
        return tuple(out)

    def _column(self, where: str, raw: dict, lists: dict) -> ColumnSpec | None:
        if not self._keys(where, raw, _COLUMN_KEYS, ("name", "header", "type")):
            return None
        name, ctype = str(raw["name"]), raw["type"]
        if not _NAME_RE.match(name):
            self._problem(where, f"name {name!r} must be snake_case ASCII")
        if ctype not in COLUMN_TYPES:
            self._problem(where, f"unknown column type {ctype!r}; allowed: {', '.join(COLUMN_TYPES)}")
            return None
        values = None
        if ctype == "enum":
            if ("values" in raw) == ("values_from" in raw):
                self._problem(where, "an enum needs exactly one of values or values_from")
            elif "values_from" in raw:
                if raw["values_from"] not in VALUES_FROM:
                    self._problem(where, f"values_from must be one of {', '.join(VALUES_FROM)}")
                else:
                    values = lists[raw["values_from"]]
            else:
                values = self._texts(where, "values", raw["values"])
                if not values or len(set(values)) != len(values):
                    self._problem(where, "values must be a non-empty list without repeats")
        elif {"values", "values_from", "multi"} & set(raw):
            self._problem(where, "values, values_from and multi are for enum columns only")
        for key in ("required", "multi", "pii"):
            if not isinstance(raw.get(key, False), bool):
                self._problem(where, f"{key} must be true or false")
        max_length = raw.get("max_length")
        if max_length is not None and (not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 1):
            self._problem(where, "max_length must be a positive integer")
        checks = self._texts(where, "checks", raw.get("checks"))
        for check in checks:
            if check not in KNOWN_CHECKS:
                self._problem(where, f"unknown check {check!r}; known: {', '.join(KNOWN_CHECKS)}")
            elif ctype not in CHECK_TYPES[check]:
                self._problem(where, f"check {check} applies to {', '.join(CHECK_TYPES[check])} columns only")
        required_if = raw.get("required_if")
        if required_if is not None:
            if (not isinstance(required_if, dict) or set(required_if) != {"column", "in"}
                    or not isinstance(required_if["in"], list) or not required_if["in"]):
                self._problem(where, "required_if must be {column: <name>, in: [values...]}")
                required_if = None
            else:
                required_if = {"column": str(required_if["column"]), "in": tuple(map(str, required_if["in"]))}
        return ColumnSpec(
            name=name,
            header=str(raw["header"]),
            aliases=self._texts(where, "aliases", raw.get("aliases")),
            type=ctype,
            required=bool(raw.get("required", False)),
            required_if=required_if,
            values=values,
            multi=bool(raw.get("multi", False)),
            max_length=max_length,
            checks=checks,
            pii=bool(raw.get("pii", False)),
            description=raw.get("description"),
        )

    def _subject(self, where: str, raw: Any) -> SubjectSpec:
        where = f"{where} subject"
        if not isinstance(raw, dict) or not self._keys(where, raw, _SUBJECT_KEYS, ("name",)):
            if not isinstance(raw, dict):
                self._problem(where, "must be a mapping")
            return SubjectSpec(name="")
        legal_rep = raw.get("legal_rep") or {}
        if not isinstance(legal_rep, dict) or set(legal_rep) - {"name", "id"}:
            self._problem(where, "legal_rep must be {name: <column>, id: <column>}")
            legal_rep = {}
        return SubjectSpec(
            name=str(raw["name"]),
            category=raw.get("category"),
            person_categories=self._texts(where, "person_categories", raw.get("person_categories")),
            org_codes=self._texts(where, "org_codes", raw.get("org_codes")),
            person_id=raw.get("person_id"),
            person_id_type=raw.get("person_id_type"),
            legal_rep_name=legal_rep.get("name"),
            legal_rep_id=legal_rep.get("id"),
        )

    def _check_contract(self, where: str, c: Contract) -> None:
        """Cross-column rules: unique names and headers, and every reference names a column of the right type."""
        by_name: dict[str, ColumnSpec] = {}
        headers: dict[str, str] = {}
        for col in c.columns:
            if col.name in by_name:
                self._problem(where, f"column {col.name} is defined twice")
            by_name[col.name] = col
            for text in (col.name, col.header, *col.aliases):
                key = normalise_header(text)
                if headers.get(key, col.name) != col.name:
                    self._problem(where, f"header/alias {text!r} of {col.name} is also a header/alias of {headers[key]}")
                headers[key] = col.name

        def ref(role: str, name: str | None, types: tuple[str, ...] | None = None) -> ColumnSpec | None:
            if name is None:
                return None
            col = by_name.get(name)
            if col is None:
                self._problem(where, f"{role} names missing column {name!r}")
            elif types and col.type not in types:
                self._problem(where, f"{role} column {name} must be of type {' or '.join(types)}, not {col.type}")
            return col

        for col in c.columns:
            if col.required_if:
                other = ref(f"required_if of {col.name}", col.required_if["column"])
                if other is not None and other.values is not None:
                    stray = set(col.required_if["in"]) - set(other.values)
                    if stray:
                        self._problem(where, f"required_if of {col.name} uses values not in {other.name}: {', '.join(sorted(stray))}")
        if not c.natural_key:
            self._problem(where, "natural_key must name at least one column")
        for name in c.natural_key:
            ref("natural_key", name)
        ref("record_date", c.record_date, ("date",))
        for key, name in c.promote.items():
            if key not in PROMOTE_KEYS:
                self._problem(where, f"promote key {key!r} unknown; allowed: {', '.join(PROMOTE_KEYS)}")
            ref(f"promote.{key}", name, ("date",) if key == "end_date" else None)
        dom = ref("domain_column", c.domain_column, ("enum",))
        if dom is not None and dom.type == "enum" and dom.values is not None and dom.values != self.domain_names:
            self._problem(where, f"domain_column {dom.name} must use values_from: domains")
        s = c.subject
        ref("subject.name", s.name or None)
        category = ref("subject.category", s.category, ("enum",))
        if category is not None and category.values is not None:
            stray = set(s.person_categories) - set(category.values)
            if stray or not s.person_categories:
                self._problem(where, "subject.person_categories must be values of the category column")
        for name in s.org_codes:
            ref("subject.org_codes", name, _ORG_ID_TYPES)
        ref("subject.person_id", s.person_id, _PERSON_ID_TYPES)
        ref("subject.person_id_type", s.person_id_type, ("enum",))
        ref("subject.legal_rep.name", s.legal_rep_name)
        ref("subject.legal_rep.id", s.legal_rep_id, ("citizen_id", "id_number"))
        if not s.org_codes and s.person_id is None:
            self._problem(where, "subject needs org_codes, person_id or both")
        if s.category and s.fixed_type is not None:
            self._problem(where, "subject.category needs both org_codes and person_id")

    def _domain_specs(self, where: str, base: Contract, raw_columns: list[dict], raw: Any, lists: dict,
                      domains: dict[str, Domain]) -> dict[str, DomainSpec]:
        if not isinstance(raw, dict):
            self._problem(where, "domains must be a mapping of domain name -> {columns, overrides}")
            return {}
        specs: dict[str, DomainSpec] = {}
        raw_by_name = {str(c.get("name")): c for c in raw_columns}
        for domain, body in raw.items():
            here = f"{where} domains.{domain}"
            if domain not in domains:
                self._problem(here, "not a domain of domains.yaml")
                continue
            body = body or {}
            if not isinstance(body, dict) or not self._keys(here, body, {"columns", "overrides"}):
                continue
            extra_raw = body.get("columns") or []
            overrides_raw = body.get("overrides") or {}
            if not isinstance(extra_raw, list) or not all(isinstance(c, dict) for c in extra_raw) or not isinstance(overrides_raw, dict):
                self._problem(here, "columns must be a list of column specs and overrides a mapping")
                continue
            overrides: dict[str, ColumnSpec] = {}
            for name, patch in overrides_raw.items():
                if name not in raw_by_name or not isinstance(patch, dict):
                    self._problem(here, f"override names missing column {name!r}" if name not in raw_by_name
                                  else f"override of {name} must be a mapping")
                    continue
                if "name" in patch:
                    self._problem(here, f"override of {name} cannot rename the column")
                merged = {k: v for k, v in raw_by_name[name].items()
                          if not ({"values", "values_from"} & set(patch) and k in ("values", "values_from"))}
                merged.update({k: v for k, v in patch.items() if k != "name"})
                col = self._column(f"{here} override {name}", merged, lists)
                if col is not None:
                    overrides[name] = col
            spec = DomainSpec(self._columns(here, extra_raw, lists), overrides)
            self._check_contract(here, replace(base, domains={domain: spec}).for_domain(domain))
            specs[domain] = spec
        return specs

    # -- departments.yaml

    def _departments(self, contracts: dict[str, Contract], domains: dict[str, Domain]) -> dict[str, Department]:
        rel = "departments.yaml"
        departments: dict[str, Department] = {}
        folders: dict[str, str] = {}
        for i, raw in enumerate(self._read(rel).get("departments") or []):
            where = f"{rel} departments[{i}]"
            if not isinstance(raw, dict):
                self._problem(where, "must be a mapping")
                continue
            where = f"{rel} {raw.get('code') or i}"
            if not self._keys(where, raw, _DEPARTMENT_KEYS, ("code", "name", "kinds")):
                continue
            code = str(raw["code"])
            if not _NAME_RE.match(code):
                self._problem(where, "code must be snake_case ASCII")
            if code in departments:
                self._problem(where, "code defined twice")
            kinds = self._texts(where, "kinds", raw["kinds"])
            for kind in kinds:
                if kind not in self.kind_files:  # a contract that failed to load is reported on its own
                    self._problem(where, f"unknown kind {kind!r} (no kinds/{kind}.yaml)")
            raw_domains = raw.get("domains", [])
            dept_domains = tuple(domains) if raw_domains == "all" else self._texts(where, "domains", raw_domains or None)
            for d in dept_domains:
                if d not in domains:
                    self._problem(where, f"unknown domain {d!r}")
            defaults = raw.get("default_domains") or {}
            if not isinstance(defaults, dict):
                self._problem(where, "default_domains must be a mapping kind -> domain")
                defaults = {}
            for kind, d in defaults.items():
                if kind not in kinds:
                    self._problem(where, f"default_domains names kind {kind!r} not in its kinds")
                if d not in dept_domains:
                    self._problem(where, f"default domain {d!r} of {kind} not in its domains")
            dept = Department(code, str(raw["name"]), self._texts(where, "aliases", raw.get("aliases")), kinds,
                              dept_domains, {str(k): str(v) for k, v in defaults.items()})
            for text in (dept.code, dept.name, *dept.aliases):
                key = normalise_header(text)
                if key in folders and folders[key] != code:
                    self._problem(where, f"folder name {text!r} also names department {folders[key]}")
                folders[key] = code
            departments[code] = dept
        if not departments:
            self._problem(rel, "no departments defined")
        return departments


def _uses_values_from(raw: dict, source: str) -> bool:
    """Whether any column of a raw contract (domain extras and overrides included) draws values from `source`."""
    cols = list(raw.get("columns") or [])
    for body in (raw.get("domains") or {}).values():
        if isinstance(body, dict):
            cols += list(body.get("columns") or [])
            cols += [v for v in (body.get("overrides") or {}).values()]
    return any(isinstance(c, dict) and c.get("values_from") == source for c in cols)
