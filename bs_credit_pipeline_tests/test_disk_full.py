"""A full disk during the load or the snapshot: one clear line (exit 4); the warehouse and the snapshot are the
old ones, never broken (that the next run completes is test_kill's subject)."""

from __future__ import annotations

import hashlib

import pytest

from bs_credit_pipeline import faults
from bs_credit_pipeline_tests import faultkit


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("point", ["load.before_commit", "snapshot.before_swap"])
def test_no_space_at_a_write_leaves_the_old_state_and_one_line(loaded_home, tmp_path, monkeypatch, capsys, point):
    home = faultkit.loaded_copy(loaded_home, tmp_path)
    faultkit.inbox_v2(home)  # work for the load
    before, snapshot = faultkit.outcome(home), _digest(home.analytics)
    monkeypatch.setattr(faults, "_hits", {})
    code = faultkit.run_here(home, monkeypatch, BS_CREDIT_FAULT=f"{point}:enospc")
    err = capsys.readouterr().err
    assert code == 4 and "Traceback" not in err
    assert "磁盘空间不足" in err.strip().splitlines()[-1]
    after = faultkit.outcome(home)
    if point == "load.before_commit":  # nothing of v2 committed
        assert after == before
    assert _digest(home.analytics) == snapshot and after["leftovers"] == []  # the old snapshot, whole


def test_a_really_full_file_system(loaded_home, tmp_path):
    """The home on a small tmpfs, filled up before a run that has work to do (needs permission to mount): the
    run stops before any work (Dagster's SQLite storage would otherwise fail with a bare "disk I/O error")."""
    with faultkit.tmpfs(tmp_path / "disk", "size=160m") as mount:
        home = faultkit.loaded_copy(loaded_home, mount)
        faultkit.inbox_v2(home)
        before, snapshot = faultkit.outcome(home), _digest(home.analytics)
        filler = mount / "filler"
        with filler.open("wb") as f:  # fill every free byte
            try:
                while True:
                    f.write(b"\0" * (1 << 16))
                    f.flush()
            except OSError:
                pass
        result = faultkit.run(home)
        assert result.returncode == 4 and "Traceback" not in result.stderr, result.stderr[-3000:]
        assert "磁盘空间不足" in result.stderr.strip().splitlines()[-1]
        filler.unlink()
        assert faultkit.outcome(home) == before and _digest(home.analytics) == snapshot
