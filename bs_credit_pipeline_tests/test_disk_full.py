"""A full disk during the load, the list build or the snapshot: one clear line (exit 4); the warehouse and the
snapshot are the old ones, never broken; the next run, with space again, completes."""

from __future__ import annotations

import hashlib
import subprocess

import pytest

from bs_credit_pipeline import faults
from bs_credit_pipeline.cli import main
from bs_credit_pipeline_tests import faultkit


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("point", ["load.before_commit", "lists.before_commit", "snapshot.before_swap",
                                   "state.before_rename"])
def test_no_space_at_a_write_leaves_the_old_state_and_one_line(loaded_home, tmp_path, monkeypatch, capsys, point):
    home = faultkit.loaded_copy(loaded_home, tmp_path)
    faultkit.inbox_v2(home)  # work for the load
    before, snapshot = faultkit.outcome(home), _digest(home.analytics)
    for var in ("BS_CREDIT_HOME", "DAGSTER_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("BS_CREDIT_PSEUDONYM_KEY", faultkit.KEY)
    monkeypatch.setattr(faults, "_hits", {})
    monkeypatch.setenv("BS_CREDIT_FAULT", f"{point}:enospc")
    code = main(["run", "--home", str(home.root), "--as-of", faultkit.AS_OF.isoformat()])
    err = capsys.readouterr().err
    assert code == 4 and "Traceback" not in err
    assert "磁盘空间不足" in err.strip().splitlines()[-1]
    after = faultkit.outcome(home)
    if point in ("load.before_commit", "state.before_rename"):  # nothing of v2 committed (state: the manifest)
        assert after == before and _digest(home.analytics) == snapshot
    else:  # v2 loaded; the lists or the snapshot are wholly the old ones
        assert after["lists"] == before["lists"] or point != "lists.before_commit"
        assert _digest(home.analytics) == snapshot and after["leftovers"] == []
    monkeypatch.delenv("BS_CREDIT_FAULT")
    assert main(["run", "--home", str(home.root), "--as-of", faultkit.AS_OF.isoformat()]) == 0


def test_a_really_full_file_system(loaded_home, tmp_path):
    """The home on a small tmpfs, filled up before a run that has work to do (needs permission to mount): the
    run stops before any work (Dagster's SQLite storage would otherwise fail with a bare "disk I/O error")."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160m", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
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
        after = faultkit.outcome(home)
        assert after["records"] == before["records"] and _digest(home.analytics) == snapshot
        assert faultkit.run(home).returncode == 0
        assert len(faultkit.outcome(home)["records"]) > len(before["records"])
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
