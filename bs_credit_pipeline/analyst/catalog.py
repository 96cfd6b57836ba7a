"""data_contracts/analyst.yaml: labels, units and descriptions of the snapshot's columns, status names, subject
classes, lists and the reason / document fields of each record kind; checked against the contracts on load."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import yamlfile
from ..contracts import Registry

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "data_contracts" / "analyst.yaml"


class CatalogError(ValueError):
    """analyst.yaml is malformed or names a contract field that does not exist."""


@dataclass(frozen=True)
class Label:
    label: str
    unit: str | None = None
    description: str | None = None

    @classmethod
    def parse(cls, text: str) -> Label:
        """`label | unit | description`, unit and description optional (a description may hold more '|')."""
        label, unit, description = (str(text).split("|", 2) + ["", ""])[:3]
        return cls(label.strip(), unit.strip() or None, description.strip() or None)

    def comment(self) -> str:
        """The COMMENT text: 标签（单位）：说明."""
        head = f"{self.label}（{self.unit}）" if self.unit else self.label
        return f"{head}：{self.description}" if self.description else head


@dataclass(frozen=True)
class Catalog:
    units: dict[str, dict]                   # contract unit -> {suffix, factor, label}
    subject_classes: list[dict]              # [{code, zh, uscc_prefixes}]
    statuses: dict[str, dict[str, str]]      # scope -> status -> Chinese
    lists: dict[str, dict]                   # list_name -> {zh, polarity}
    reasons: dict[str, dict]                 # kind -> {reason: field, documents: [fields]}
    tables: dict[str, dict]                  # 'schema.table' -> {label, description}
    columns: dict[str, Label]                # column name -> label shared by every table
    table_columns: dict[str, dict[str, Label]]

    def label(self, table: str, column: str) -> Label | None:
        """The label of `column` of 'schema.table' (a table's own entry first)."""
        return self.table_columns.get(table, {}).get(column) or self.columns.get(column)


def load(registry: Registry, path: Path = DEFAULT_PATH) -> Catalog:
    raw = yamlfile.read(path)
    catalog = Catalog(
        units=raw["units"], subject_classes=raw["subject_classes"], statuses=raw["statuses"], lists=raw["lists"],
        reasons=raw["reasons"], tables=raw["tables"],
        columns={name: Label.parse(text) for name, text in raw["columns"].items()},
        table_columns={t: {c: Label.parse(x) for c, x in cols.items()} for t, cols in raw["table_columns"].items()})
    problems = []
    for kind, contract in registry.contracts.items():
        fields = {c.name for c in contract.columns}
        spec = catalog.reasons.get(kind)
        if spec is None:
            problems.append(f"reasons: no entry for kind {kind}")
            continue
        problems += [f"reasons.{kind}: {f} is no field of the contract"
                     for f in [spec["reason"], *spec["documents"]] if f not in fields]
        problems += [f"{kind}.{c.name}: unit {c.unit} has no entry in units" for c in contract.columns
                     if c.unit and c.unit not in catalog.units]
    problems += [f"reasons: {kind} is no record kind" for kind in catalog.reasons if kind not in registry.contracts]
    if problems:
        raise CatalogError(f"{path}: " + "; ".join(problems))
    return catalog
