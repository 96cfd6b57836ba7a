"""The annotated report keeps its content across writers: each case's report, read back with openpyxl, equals the
content recorded with the previous writer (fixtures/report_content.json, see report_content.py), and prints as
required: A4 landscape, one page wide, header row repeated, sheet name and page number in the footer."""

from __future__ import annotations

import json

import pytest

from bs_credit_pipeline.intake.report import AUTHOR, SUMMARY_SHEET
from bs_credit_pipeline_tests import report_content as rc

RECORDED = json.loads(rc.RECORDING.read_text(encoding="utf-8"))
FOOTER = "&A　第 &P 页，共 &N 页"


@pytest.fixture(scope="module")
def corpus(request):
    try:
        return request.getfixturevalue("corpus_dir")
    except pytest.skip.Exception:
        return None


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_report_content_unchanged(name, corpus, tmp_path):
    cases = rc.cases(corpus)
    if name not in cases:
        pytest.skip("corpus not available")
    got = rc.report_content(rc.report_of(name, cases[name], tmp_path))
    want = RECORDED[name]
    assert [s["name"] for s in got["sheets"]] == [s["name"] for s in want["sheets"]]
    assert got["active"] == want["active"] == SUMMARY_SHEET
    for new, old in zip(got["sheets"], want["sheets"]):
        # Notes carry their author in bold above the text, as Excel writes a note typed by a user.
        assert new["comments"] == {
            cell: {"author": AUTHOR, "text": f"{AUTHOR}:\n{c['text']}"} for cell, c in old["comments"].items()
        }, new["name"]
        assert all(c["author"] == AUTHOR for c in old["comments"].values())
        printed = new.pop("print")
        assert printed == {"orientation": "landscape", "paper_size": 9, "fit_to_page": True, "fit_to_width": None,
                           "fit_to_height": 0, "footer": FOOTER,
                           "title_rows": None if new["name"] == SUMMARY_SHEET else "$1:$1"}, new["name"]
        old = {k: v for k, v in old.items() if k not in ("print", "comments")}
        new.pop("comments")
        assert new == old, new["name"]
