"""Parse and check kinds/<kind>.yaml: columns, subject, natural key, promotions, domain specialisations."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from . import enums
from .model import (
    CHECK_TYPES, COLUMN_TYPES, KNOWN_CHECKS, PROMOTE_KEYS, VALUES_FROM, ColumnSpec, Contract, Domain, DomainSpec,
    Message, SubjectSpec, normalise_header,
)

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_ORG_ID_TYPES = ("uscc", "org_code", "code", "subject_code")
_PERSON_ID_TYPES = ("citizen_id", "id_number", "subject_code")
_CONTRACT_KEYS = {
    "kind", "title", "version", "standard", "legal_basis", "file_name_aliases", "subject", "natural_key",
    "record_date", "promote", "domain_column", "default_domain", "columns", "domains",
}
_CONTRACT_REQUIRED = ("kind", "title", "version", "subject", "natural_key", "record_date", "columns")
_COLUMN_KEYS = {
    "name", "header", "aliases", "type", "required", "required_if", "values", "values_from", "multi", "synonyms",
    "other", "max_length", "checks", "pii", "description", "unit",
}
UNITS = ("元", "万元", "小时", "岁")  # a decimal or integer column's unit (the analyst marts name and scale by it)
_SUBJECT_KEYS = {"name", "category", "person_categories", "org_codes", "person_id", "person_id_type", "legal_rep"}


class KindsMixin:
    """The kinds/*.yaml part of the loader (`Loader` supplies `root`, `problems`, `_read`, `_keys`, `_texts`)."""

    kind_files: set[str]
    domain_names: tuple[str, ...]


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
        elif {"values", "values_from", "multi", "synonyms", "other"} & set(raw):
            self._problem(where, "values, values_from, multi, synonyms and other are for enum columns only")
        synonyms = self._synonyms(where, raw, values or ())
        other = raw.get("other")
        if other is not None and other not in (values or ()):
            self._problem(where, f"other {other!r} must be one of the values")
        if values and raw.get("multi"):
            for text in enums.ambiguities(tuple(values)):
                self._problem(where, f"multi-value cells cannot be read: {text}")
        for key in ("required", "multi", "pii"):
            if not isinstance(raw.get(key, False), bool):
                self._problem(where, f"{key} must be true or false")
        max_length = raw.get("max_length")
        if max_length is not None and (not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 1):
            self._problem(where, "max_length must be a positive integer")
        unit = raw.get("unit")
        if ctype in ("decimal", "integer") and unit not in UNITS:
            self._problem(where, f"a {ctype} column needs a unit, one of {', '.join(UNITS)}")
        elif unit is not None and ctype not in ("decimal", "integer"):
            self._problem(where, "unit is for decimal and integer columns only")
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
            synonyms=synonyms,
            other=other,
            max_length=max_length,
            checks=checks,
            pii=bool(raw.get("pii", False)),
            description=raw.get("description"),
            unit=unit,
        )

    def _synonyms(self, where: str, raw: dict, values: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
        """`synonyms: {wording: value or [values]}`: every target an allowed value, one target unless multi,
        no wording equal to an allowed value."""
        found = raw.get("synonyms")
        if found is None:
            return {}
        if not isinstance(found, dict):
            self._problem(where, "synonyms must be a mapping {wording: value or [values]}")
            return {}
        out: dict[str, tuple[str, ...]] = {}
        value_keys = {enums.key(v) for v in values}
        for written, target in found.items():
            targets = tuple(map(str, target if isinstance(target, list) else [target]))
            if not str(written).strip() or not targets:
                self._problem(where, f"synonym {written!r} needs a wording and a value")
                continue
            stray = [t for t in targets if t not in values]
            if stray:
                self._problem(where, f"synonym {written!r} names {', '.join(stray)}, not among the values")
            if len(targets) > 1 and not raw.get("multi"):
                self._problem(where, f"synonym {written!r} names several values but the column is not multi")
            if enums.key(str(written)) in value_keys:
                self._problem(where, f"synonym {written!r} is an allowed value itself")
            out[str(written)] = targets
        return out

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
                value_keys = ("values", "values_from", "synonyms", "other")
                merged = {k: v for k, v in raw_by_name[name].items()
                          if not ({"values", "values_from"} & set(patch) and k in value_keys)}
                merged.update({k: v for k, v in patch.items() if k != "name"})
                col = self._column(f"{here} override {name}", merged, lists)
                if col is not None:
                    overrides[name] = col
            spec = DomainSpec(self._columns(here, extra_raw, lists), overrides)
            self._check_contract(here, replace(base, domains={domain: spec}).for_domain(domain))
            specs[domain] = spec
        return specs


def _uses_values_from(raw: dict, source: str) -> bool:
    """Whether any column of a raw contract (domain extras and overrides included) draws values from `source`."""
    cols = list(raw.get("columns") or [])
    for body in (raw.get("domains") or {}).values():
        if isinstance(body, dict):
            cols += list(body.get("columns") or [])
            cols += [v for v in (body.get("overrides") or {}).values()]
    return any(isinstance(c, dict) and c.get("values_from") == source for c in cols)
