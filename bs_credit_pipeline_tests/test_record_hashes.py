"""The record id and content hash of every record kind, recomputed here by hand (docs/WAREHOUSE.md, core.credit_record):
they are stored in the warehouse and compared at every load, so their algorithms and inputs must never drift.

- `_natural_key`: kind, subject id and the contract's natural-key columns (dates as YYYY-MM-DD, null as ''), joined
  by U+001F;
- `_record_id`: the first 32 hex digits of the SHA-256 of the natural key's UTF-8 bytes;
- `_content_hash`: the MD5 (32 hex digits) of every contract column in contract order, each as text (dates
  YYYY-MM-DD, decimals as the shortest text that reads back as the same double: 1.5, 5000.0; integers in
  decimal; null as ''), joined by U+001F, UTF-8.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib

import pyarrow.parquet as pq
import pytest

from bs_credit_pipeline.contracts import Registry
from bs_credit_pipeline.intake import Intake
from bs_credit_pipeline.paths import Home
from bs_credit_pipeline.templates import example_row

REGISTRY = Registry.load()
SEP = "\x1f"


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)  # the example rows' decimals (1.5) print alike in Python and DuckDB
    return str(value)


@pytest.mark.parametrize("kind", sorted(REGISTRY.contracts))
def test_record_id_and_content_hash_of_every_kind(tmp_path, kind):
    contract = REGISTRY.contracts[kind]
    department = next(d.code for d in REGISTRY.departments.values() if kind in d.kinds)
    row = example_row(contract)
    path = tmp_path / f"{contract.title}.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([[c.header for c in contract.columns], [row[c.name] or None for c in contract.columns]])
    result = Intake(REGISTRY, Home(tmp_path / "home").ensure()).run(
        path, department=department, month="2026-10", today=dt.date(2026, 11, 27), write_report=False)
    assert result.manifest["rows_loaded"] == 1, result.manifest
    staged = pq.read_table(result.staged_path).to_pylist()[0]

    key = SEP.join([kind, staged["_subject_id"], *(_text(staged[name]) for name in contract.natural_key)])
    assert staged["_natural_key"] == key
    assert staged["_record_id"] == hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    content = SEP.join(_text(staged[c.name]) for c in contract.columns)
    assert staged["_content_hash"] == hashlib.md5(content.encode("utf-8")).hexdigest()
