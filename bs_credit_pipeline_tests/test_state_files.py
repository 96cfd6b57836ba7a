"""State files are replaced whole; a torn or corrupt one is detected and rebuilt, with a warning, never a failure."""

from __future__ import annotations

import json
import logging

import pytest

from bs_credit_pipeline import faults
from bs_credit_pipeline.atomic import atomic_write_text
from bs_credit_pipeline.contracts import Registry
from bs_credit_pipeline.defs.run import STATE_FILE, read_state
from bs_credit_pipeline.paths import Home
from bs_credit_pipeline.pipeline import intake_partition, scan_inbox
from bs_credit_pipeline_tests import faultkit


@pytest.fixture
def home(loaded_home, tmp_path) -> Home:
    return faultkit.loaded_copy(loaded_home, tmp_path)


def test_a_torn_partition_state_is_rebuilt_from_the_warehouse(home, caplog):
    path = home.staging / STATE_FILE
    good = json.loads(path.read_text())
    assert len(good) == 2
    path.write_text(path.read_text()[: len(path.read_text()) // 2])  # a write cut short
    with caplog.at_level(logging.WARNING):
        assert read_state(home) == good
    assert "rebuilt from the warehouse" in caplog.text
    for corrupt in ("", "[1, 2]", '{"scjgj|2026-10": 3}', "\xff\xfe"):
        path.write_text(corrupt, encoding="latin-1")
        assert read_state(home) == good


def test_a_run_after_a_torn_state_file_reruns_nothing(home, monkeypatch, capsys, caplog):
    path = home.staging / STATE_FILE
    path.write_bytes(path.read_bytes()[:7])
    with caplog.at_level(logging.WARNING):
        assert faultkit.run_here(home, monkeypatch) == 0
    assert "处理分区 0 个" in capsys.readouterr().out and "rebuilt from the warehouse" in caplog.text
    assert len(json.loads(path.read_text())) == 2


def test_a_torn_manifest_sends_its_file_through_intake_again(home, caplog):
    registry = Registry.load()
    folder = next(f for f in scan_inbox(home, registry) if f.month == "2026-10")
    manifest = next((home.staging / "scjgj" / "2026-10").glob("*.manifest.json"))
    whole = json.loads(manifest.read_text())
    manifest.write_text(manifest.read_text()[:40])
    with caplog.at_level(logging.WARNING):
        results = intake_partition(home, registry, folder)
    assert [r.manifest["sha256"] for r in results] == [whole["sha256"]]
    assert "unreadable" in caplog.text
    again = json.loads(manifest.read_text())
    assert {k: again[k] for k in ("rows_read", "rows_loaded", "status")} == \
           {k: whole[k] for k in ("rows_read", "rows_loaded", "status")}


def test_a_failed_atomic_write_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "state.json"
    atomic_write_text(target, '{"old": 1}')
    monkeypatch.setattr(faults, "_hits", {})
    monkeypatch.setenv("BS_CREDIT_FAULT", "state.before_rename:enospc")
    with pytest.raises(OSError):
        atomic_write_text(target, '{"new": 2}')
    assert target.read_text() == '{"old": 1}' and [p.name for p in tmp_path.iterdir()] == ["state.json"]
