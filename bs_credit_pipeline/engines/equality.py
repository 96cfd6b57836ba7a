"""Cross-engine equality of a table: same row count and the same order-free content hash, with a readable diff.

Values are normalised before hashing so that equal data compares equal across engines: dates and times as ISO
text, floats to 12 significant digits, JSON text parsed and re-serialised with sorted keys, lists and structs
recursively.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from dataclasses import dataclass


def normal(value):
    """A comparable, hashable form of one value from either engine."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, str):
        if value[:1] in "[{":
            try:
                return json.dumps(json.loads(value), sort_keys=True, ensure_ascii=False)
            except ValueError:
                return value
        return value
    if isinstance(value, dict):
        return tuple(sorted((k, normal(v)) for k, v in value.items()))
    if hasattr(value, "asDict"):  # a Spark Row (struct)
        return normal(value.asDict())
    if isinstance(value, (list, tuple)):
        return tuple(normal(v) for v in value)
    return str(value)


@dataclass
class Comparison:
    table: str
    left_rows: int
    right_rows: int
    left_hash: str
    right_hash: str
    only_left: list
    only_right: list
    columns: list[str]

    @property
    def equal(self) -> bool:
        return self.left_rows == self.right_rows and self.left_hash == self.right_hash

    def diff(self, limit: int = 10) -> str:
        """The differing rows, one per line, each side labelled."""
        lines = [f"{self.table}: duckdb {self.left_rows} rows {self.left_hash[:12]},"
                 f" spark {self.right_rows} rows {self.right_hash[:12]}; columns {', '.join(self.columns)}"]
        lines += [f"  only duckdb: {row}" for row in self.only_left[:limit]]
        lines += [f"  only spark:  {row}" for row in self.only_right[:limit]]
        return "\n".join(lines)


def digest(rows: list[tuple]) -> str:
    h = hashlib.sha256()
    for line in sorted(repr(r) for r in rows):
        h.update(line.encode())
    return h.hexdigest()


def compare(table: str, columns: list[str], left: list[tuple], right_columns: list[str], right: list[tuple]
            ) -> Comparison:
    """Compare two row sets by column name (the right side reordered to the left's columns)."""
    index = [right_columns.index(c) if c in right_columns else None for c in columns]
    a = [tuple(normal(v) for v in r) for r in left]
    b = [tuple(normal(r[i]) if i is not None else "<missing column>" for i in index) for r in right]
    ca, cb = Counter(a), Counter(b)
    return Comparison(table, len(a), len(b), digest(a), digest(b), sorted((ca - cb).elements(), key=repr),
                      sorted((cb - ca).elements(), key=repr), columns)
