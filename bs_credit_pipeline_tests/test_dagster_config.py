"""In Dagster too, a configuration mistake is the same one line `bs-credit` prints, not a stack trace: a run fails
before any work with it, the inbox sensor skips with it."""

from __future__ import annotations

import dagster as dg

from bs_credit_pipeline.defs.intake import staged_submissions
from bs_credit_pipeline.defs.partitions import partition_key
from bs_credit_pipeline.defs.resources import PipelineResource
from bs_credit_pipeline.defs.sensors import inbox_sensor


def _failure_texts(result) -> list[str]:
    texts = []
    for event in result.all_events:
        data = event.event_specific_data
        error = getattr(data, "error", None)
        user = getattr(data, "user_failure_data", None)
        texts += [getattr(error, "message", "") or "", getattr(user, "description", "") or ""]
    return texts


def test_a_run_fails_before_any_work_with_the_one_line_message(tmp_path, monkeypatch):
    monkeypatch.delenv("BS_CREDIT_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("BS_CREDIT_PSEUDONYM_KEY_FILE", raising=False)
    home = tmp_path / "home"
    result = dg.materialize([staged_submissions], partition_key=partition_key("scjgj", "2026-10"),
                            resources={"pipeline": PipelineResource(home_dir=str(home))}, raise_on_error=False)
    assert not result.success
    assert any("缺少假名化密钥" in t and "bs-credit init" in t and " | " in t for t in _failure_texts(result))
    assert not home.exists()  # nothing was created


def test_the_sensor_skips_with_the_message(tmp_path):
    (tmp_path / "plain").write_text("x")
    resource = PipelineResource(home_dir=str(tmp_path / "plain" / "home"))
    skipped = inbox_sensor(dg.build_sensor_context(resources={"pipeline": resource}))
    assert isinstance(skipped, dg.SkipReason) and "是一个文件而不是文件夹" in skipped.skip_message


def test_thresholds_are_checked_before_work(tmp_path, monkeypatch, capsys):
    from bs_credit_pipeline.cli import main

    monkeypatch.setenv("BS_CREDIT_PSEUDONYM_KEY", "test-key-not-secret-0123")
    monkeypatch.setenv("BS_CREDIT_MAX_REJECT_RATE", "50%")
    assert main(["run", "--home", str(tmp_path / "home")]) == 2
    err = capsys.readouterr().err
    assert "BS_CREDIT_MAX_REJECT_RATE" in err and "0 到 1" in err and "Traceback" not in err
    assert not (tmp_path / "home").exists()
    monkeypatch.delenv("BS_CREDIT_MAX_REJECT_RATE")
    monkeypatch.setenv("BS_CREDIT_SENSOR_SECONDS", "1")
    resource = PipelineResource(home_dir=str(tmp_path / "home"))
    skipped = inbox_sensor(dg.build_sensor_context(resources={"pipeline": resource}))
    assert isinstance(skipped, dg.SkipReason) and "BS_CREDIT_SENSOR_SECONDS" in skipped.skip_message
