"""Every command, given a user's or the environment's mistake: the documented exit code, one line saying what to do
(Chinese and English), no traceback, the warehouse unchanged and nothing written outside the home."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from bs_credit_pipeline.cli import main
from bs_credit_pipeline.paths import Home
from bs_credit_pipeline_tests import faultkit

ROOT = os.geteuid() == 0
LOCK_HOLDER = "import sys, time\nfrom bs_credit_pipeline.locking import writer_lock\n" \
              "with writer_lock(sys.argv[1]):\n    print('ready', flush=True)\n    time.sleep(600)\n"


@pytest.fixture
def world(loaded_home, tmp_path, monkeypatch):
    """A loaded home (copy), a clean working directory, no BS_CREDIT_* settings but the key."""
    home = faultkit.loaded_copy(loaded_home, tmp_path)
    for var in [v for v in os.environ if v.startswith(("BS_CREDIT", "DAGSTER"))]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("BS_CREDIT_PSEUDONYM_KEY", faultkit.KEY)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    sample = next(home.inbox.rglob("*.csv"))
    return {"home": home, "cwd": cwd, "tmp": tmp_path, "sample": sample, "monkeypatch": monkeypatch}


def _file_below_file(w):
    (w["tmp"] / "plain").write_text("x")
    return str(w["tmp"] / "plain" / "home")


def _no_key(w):
    w["monkeypatch"].delenv("BS_CREDIT_PSEUDONYM_KEY")
    return str(w["home"].root)


def _short_key(w):
    w["monkeypatch"].setenv("BS_CREDIT_PSEUDONYM_KEY", "short")
    return str(w["home"].root)


def _open_key_file(w):
    w["monkeypatch"].delenv("BS_CREDIT_PSEUDONYM_KEY")
    key = w["home"].root / "secrets" / "pseudonym.key"
    key.parent.mkdir(exist_ok=True)
    key.write_text("k" * 64)
    key.chmod(0o644)
    return str(w["home"].root)


def _key_file_is_a_folder(w):
    w["monkeypatch"].delenv("BS_CREDIT_PSEUDONYM_KEY")
    w["monkeypatch"].setenv("BS_CREDIT_PSEUDONYM_KEY_FILE", str(w["tmp"]))
    return str(w["home"].root)


def _bad_wait(w):
    w["monkeypatch"].setenv("BS_CREDIT_LOCK_WAIT", "ten minutes")
    return str(w["home"].root)


def _no_room(w):
    w["monkeypatch"].setenv("BS_CREDIT_MIN_FREE_MB", str(2**40))
    return str(w["home"].root)


def _home(w):
    return str(w["home"].root)


def _empty_home(w):
    return str(w["tmp"] / "new-home")


# (command, argv after the command with {home} and {sample}, how the home is prepared, exit code, words of the line)
CASES = [
    ("run", ["--as-of", "2026/12/01"], _home, 2, "YYYY-MM-DD"),
    ("run", ["--as-of", "2026-02-30"], _home, 2, "YYYY-MM-DD"),
    ("run", ["--as-of", "1899-01-01"], _home, 2, "YYYY-MM-DD"),
    ("demo", ["--as-of", "2026-13-01"], _home, 2, "YYYY-MM-DD"),
    ("run", [], _file_below_file, 2, "是一个文件"),
    ("run", [], _no_key, 2, "bs-credit init"),
    ("run", [], _short_key, 2, "太短"),
    ("run", [], _open_key_file, 2, "chmod 600"),
    ("run", [], _key_file_is_a_folder, 2, "不是文件"),
    ("run", [], _bad_wait, 2, "BS_CREDIT_LOCK_WAIT"),
    ("run", [], _no_room, 4, "磁盘空间不足"),
    ("check", ["{sample}"], _no_room, 4, "磁盘空间不足"),
    ("demo", [], _file_below_file, 2, "是一个文件"),
    ("init", [], _file_below_file, 2, "是一个文件"),
    ("ui", [], _file_below_file, 2, "是一个文件"),
    ("check", ["{sample}"], _file_below_file, 2, "是一个文件"),
    ("check", ["{tmp}/missing.xlsx"], _home, 2, "找不到文件"),
    ("check", ["{tmp}"], _home, 2, "是一个文件夹"),  # a directory is not 找不到文件 (issue 15)
    ("lookup", ["530502199001011234"], _home, 2, "--operator"),
    ("lookup", ["530502199001011234", "--operator", "王科员", "--purpose", " "], _home, 2, "--purpose"),
    ("lookup", ["530502199001011234", "--operator", "王科员", "--purpose", "核查"], _no_key, 2, "bs-credit init"),
    ("lookup", ["530502199001011234", "--operator", "王科员", "--purpose", "核查"], _empty_home, 2, "bs-credit run"),
    ("lookup", ["530502199001011234", "--operator", "王科员", "--purpose", "核查"], _file_below_file, 2, "是一个文件"),
    ("template", ["不存在的类别"], None, 2, "未知的数据类别"),
    ("template", ["行政处罚", "-o", "{tmp}/no/such/folder/t.xlsx"], None, 2, "不存在或不可写"),
    ("template", ["行政处罚", "-o", "{tmp}"], None, 2, "是一个文件夹"),
]


def _digest(home: Home) -> str | None:
    return hashlib.sha256(home.warehouse.read_bytes()).hexdigest() if home.warehouse.exists() else None


def _check_one_line(capsys, code: int, words: str, got: int) -> None:
    out, err = capsys.readouterr()
    assert got == code, err
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], err
    if code != 2 or ("找不到文件" not in words and "未知的数据类别" not in words):
        assert " | " in lines[0]  # Chinese for the operator | English for the log


@pytest.mark.parametrize("command,argv,prepare,code,words", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_user_mistakes_end_in_one_line_and_change_nothing(world, capsys, command, argv, prepare, code, words):
    home = world["home"]
    before = _digest(home)
    args = [a.format(sample=world["sample"], tmp=world["tmp"]) for a in argv]
    if prepare is not None:
        args += ["--home", prepare(world)]
    _check_one_line(capsys, code, words, main([command, *args]))
    assert _digest(home) == before
    assert list(world["cwd"].iterdir()) == []
    assert not (world["tmp"] / "new-home").exists()


@pytest.mark.skipif(ROOT, reason="root reads and writes regardless of permissions")
def test_unreadable_file_and_read_only_home(world, capsys):
    home = world["home"]
    before = _digest(home)
    home.root.chmod(0o555)
    try:
        _check_one_line(capsys, 2, "不可写", main(["run", "--home", str(home.root)]))
    finally:
        home.root.chmod(0o755)
    assert _digest(home) == before


def test_read_only_home_on_a_read_only_file_system(world, capsys, tmp_path):
    """A home on a read-only mount (as root, where permissions do not stop writes)."""
    with faultkit.tmpfs(tmp_path / "ro", "ro,size=1m") as mount:
        _check_one_line(capsys, 2, "不可写", main(["run", "--home", str(mount / "home")]))


def test_a_locked_warehouse_fails_in_bounded_time_naming_the_holder(world, capsys):
    home = world["home"]
    before = _digest(home)
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(home.root)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "ready"
    world["monkeypatch"].setenv("BS_CREDIT_LOCK_WAIT", "1")
    try:
        for argv in (["run"], ["lookup", "530502199001011234", "--operator", "王科员", "--purpose", "核查"]):
            got = main([*argv, "--home", str(home.root)])
            out, err = capsys.readouterr()
            assert got == 3 and "Traceback" not in err
            assert f"PID {holder.pid}" in err.strip().splitlines()[-1]
    finally:
        holder.kill()
        holder.communicate()
    assert _digest(home) == before
