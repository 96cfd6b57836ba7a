"""Load data_contracts/ into a `Registry`, collecting every problem (each with its file) into one ContractError.

domains.yaml, messages.yaml and departments.yaml are read here; the record kinds (kinds/*.yaml) by `kinds`.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

import yaml

from .. import yamlfile
from .kinds import KindsMixin
from .model import Contract, ContractError, Department, Domain, Message, Occupation, normalise_header
from .registry import Registry

_SEVERITY_BY_PREFIX = {"E": "error", "F": "error", "W": "warning", "N": "notice"}
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_MESSAGE_CODE_RE = re.compile(r"^[EFWN]_[A-Z0-9_]+$")
_UNSAFE_LOG_FIELDS = ("value", "raw_value")
_DEPARTMENT_KEYS = {"code", "name", "aliases", "kinds", "domains", "default_domains"}
_MESSAGE_KEYS = {"severity", "title", "zh", "hint", "en"}
_TITLE_MAX_CHARS = 16


class Loader(KindsMixin):
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
            data = yamlfile.read(path)
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
