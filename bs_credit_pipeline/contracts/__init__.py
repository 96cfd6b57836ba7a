"""Data contracts: load the YAML of ``data_contracts/`` into frozen dataclasses and check it on load.

One contract per record kind (``kinds/<kind>.yaml``), the department registry (``departments.yaml``), the
key-domain catalog (``domains.yaml``) and the message catalog (``messages.yaml``). Adding a kind, a domain
specialisation or a department needs YAML only; every mistake in the YAML is reported with its file.
The format is documented in docs/CONTRACTS.md. Modules: `model` (the dataclasses), `registry` (look-ups),
`loader` (files, domains, messages, departments) and `kinds` (record-kind contracts and their checks).
"""

from .model import (
    CHECK_MESSAGES, CHECK_TYPES, COLUMN_TYPES, KNOWN_CHECKS, PROMOTE_KEYS, TYPE_MESSAGES, VALUES_FROM,
    ColumnSpec, Contract, ContractError, Department, Domain, DomainSpec, Message, Occupation, SubjectSpec,
    normalise_header,
)
from .registry import DEFAULT_DIR, ENV_VAR, Registry

__all__ = [
    "CHECK_MESSAGES", "CHECK_TYPES", "COLUMN_TYPES", "DEFAULT_DIR", "ENV_VAR", "KNOWN_CHECKS", "PROMOTE_KEYS",
    "TYPE_MESSAGES", "VALUES_FROM", "ColumnSpec", "Contract", "ContractError", "Department", "Domain",
    "DomainSpec", "Message", "Occupation", "Registry", "SubjectSpec", "normalise_header",
]
