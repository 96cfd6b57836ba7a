"""State files are replaced whole; a torn or corrupt one is detected and rebuilt, with a warning, never a failure."""

from __future__ import annotations

import json
import logging

import pytest

from bs_credit_pipeline import faults
from bs_credit_pipeline.atomic import atomic_write_text
from bs_credit_pipeline.contracts import Registry
from bs_credit_pipeline.defs.run import RETIRED_STATE_FILE
from bs_credit_pipeline.loaded import loaded_fingerprints, to_load
from bs_credit_pipeline.paths import Home
from bs_credit_pipeline.pipeline import intake_partition, scan_inbox
from bs_credit_pipeline_tests import faultkit


@pytest.fixture
def home(loaded_home, tmp_path) -> Home:
    return faultkit.loaded_copy(loaded_home, tmp_path)


def test_what_is_loaded_is_read_from_the_warehouse_and_a_retired_state_file_goes(home, monkeypatch, capsys):
    """No side file says what is loaded: the warehouse's load records do. An earlier version's partitions.json,
    even torn, is removed and changes nothing: the next run reruns nothing."""
    assert set(loaded_fingerprints(home)) == {("scjgj", "2026-10"), ("scjgj", "2026-11")}
    assert to_load(home, scan_inbox(home, Registry.load())) == []
    legacy = home.staging / RETIRED_STATE_FILE
    legacy.write_text('{"scjgj|2026-10": "torn')
    assert faultkit.run_here(home, monkeypatch) == 0
    assert "处理分区 0 个" in capsys.readouterr().out and not legacy.exists()


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
