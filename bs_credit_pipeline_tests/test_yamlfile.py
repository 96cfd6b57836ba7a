"""yamlfile reads every YAML file the package ships exactly as PyYAML's pure-Python safe loader does (same values
and types: dates, 、-joined texts, quoted codes), with libyaml where it is installed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from bs_credit_pipeline import yamlfile

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted([*(REPO / "data_contracts").rglob("*.yaml"), *(REPO / "bs_credit_pipeline").rglob("*.yaml")])


def test_libyaml_is_used():
    assert yaml.__with_libyaml__ and yamlfile.LOADER is yaml.CSafeLoader


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(REPO)))
def test_shipped_file_reads_as_with_the_pure_python_loader(path):
    fast, pure = yamlfile.read(path), yaml.safe_load(path.read_text(encoding="utf-8"))
    assert fast == pure and repr(fast) == repr(pure)  # repr: date vs text, int vs text, order of keys


def test_scalars_and_errors(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("d: 2026-10-01\nt: 警告、罚款\ncode: '0123'\nn: 0123\nyes_: yes\n", encoding="utf-8")
    assert yamlfile.read(path) == {"d": dt.date(2026, 10, 1), "t": "警告、罚款", "code": "0123", "n": 83,
                                   "yes_": True}
    with pytest.raises(yaml.YAMLError) as caught:
        yamlfile.load("a: [1, 2\nb: 3\n")
    assert caught.value.problem_mark.line == 1
