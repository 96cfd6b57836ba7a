"""`Registry`: everything in data_contracts/ except the rules, with the look-ups intake and reports need."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .model import Contract, Department, Domain, Message, Occupation, normalise_header

ENV_VAR = "BS_CREDIT_CONTRACTS"
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "data_contracts"


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
        from .loader import Loader

        return Loader(root).load()

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
