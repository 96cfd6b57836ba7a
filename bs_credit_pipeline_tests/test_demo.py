"""The demo's submissions do what each says it does, whatever day the demo runs."""

from __future__ import annotations

import datetime as dt

import pytest

from bs_credit_pipeline.contracts import Registry
from bs_credit_pipeline.demo import write_demo_inbox
from bs_credit_pipeline.intake import Intake
from bs_credit_pipeline.paths import Home

STATUS = {"全部通过": "accepted", "部分通过": "partial", "整体退回": "rejected"}


@pytest.mark.parametrize("today", [dt.date(2026, 12, 1), dt.date(2026, 11, 27), dt.date(2027, 3, 31)])
def test_every_demo_file_gets_the_outcome_it_announces(tmp_path, today):
    registry = Registry.load()
    intake = Intake(registry, Home(tmp_path / "home").ensure())
    for demo in write_demo_inbox(tmp_path / "inbox", registry, today):
        month, department = demo.path.parent.name, demo.path.parent.parent.name
        result = intake.run(demo.path, department=department, month=month, today=today, write_report=False)
        assert result.status == STATUS[demo.expectation[:4]], (demo.path.name, result.manifest["error_counts"])
