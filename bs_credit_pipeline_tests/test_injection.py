"""Formula-like text submitted by a department reaches no published file as a live spreadsheet formula."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pyarrow as pa

from bs_credit_pipeline.paths import Home
from bs_credit_pipeline.publish import neutralise_formulas
from bs_credit_pipeline_tests import faultkit
from bs_credit_pipeline_tests.test_intake import penalty_row

LIVE = re.compile(r"^[=+\-@\t\r]")
PAYLOADS = ['=HYPERLINK("http://example.com/x","点击查看")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)",
            "=1+1", "-", "+86 0875 1234567"]


def test_the_rule_itself():
    table = pa.table({"t": ["=1", "+1", "-1", "@a", "\t=1", "\r=1", "a=1", "", None, "1-1"], "n": list(range(10))})
    assert neutralise_formulas(table).column("t").to_pylist() == \
        ["'=1", "'+1", "'-1", "'@a", "'\t=1", "'\r=1", "a=1", "", None, "1-1"]


def test_no_live_formula_in_any_published_csv(tmp_path, monkeypatch):
    home = Home(tmp_path / "home")
    rows = []
    for i, text in enumerate(PAYLOADS):
        # in the columns that reach the public files: subject name, facts, content, legal basis
        rows.append(penalty_row(i, subject_name=f"{text}公司" if i % 2 else f"保山某公司{i}",
                                violation_facts=text, penalty_content=text, penalty_basis=f"{text}《食品安全法》"))
    faultkit.write_csv(home.inbox / "scjgj" / "2026-10" / "处罚.csv", rows)
    assert faultkit.run_here(home, monkeypatch) == 0

    folder = home.publish / faultkit.AS_OF.isoformat()
    live, neutralised = [], 0
    for path in sorted(folder.glob("*.csv")):
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))):
            live += [(path.name, cell) for cell in row if LIVE.match(cell)]
            neutralised += sum(1 for cell in row if cell[:1] == "'" and LIVE.match(cell[1:]))
    assert live == []
    assert neutralised >= 3 * len(PAYLOADS)  # the payloads did reach the files, neutralised
    for path in folder.glob("*.xlsx"):  # XLSX: text cells only, never a formula element
        with zipfile.ZipFile(path) as z:
            assert not any(b"<f>" in z.read(n) or b"<f " in z.read(n) for n in z.namelist() if n.endswith(".xml"))
