"""`bs-credit report`: the monthly overview renders in a real headless browser (Debian's chromium) with its charts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings

import pytest
from matplotlib import font_manager

from bs_credit_pipeline import cli
from bs_credit_pipeline.analyst import charts
from bs_credit_pipeline.analyst.report import default_month
from conftest import DEMO_AS_OF, DEMO_TIMEOUT

pytestmark = pytest.mark.timeout(DEMO_TIMEOUT)


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail("chromium is not installed: CI must render the report (.ci/run installs it)", pytrace=False)
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


def test_report_renders_with_its_charts(demo_home, tmp_path, capsys):
    browser = _chromium()
    month = default_month(DEMO_AS_OF)
    out = tmp_path / "report.html"
    assert cli.main(["report", "--home", str(demo_home.root), "--output", str(out)]) == 0
    assert f"（{month}，" in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # self-contained: nothing to fetch
    assert not re.search(r"\b[PR]_[0-9a-f]{32}", page)  # no person, no record token
    for heading in ("各部门报送情况", "主要数据问题", "逾期和未报送的部门", "名单规模及变化", "政务诚信"):
        assert heading in page
    run = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", out.as_uri()],
                         capture_output=True, text=True, timeout=180)
    dom = run.stdout
    assert "保山市公共信用信息月度概览" in dom, run.stderr[-2000:]
    figures = re.findall(r'<figure class="chart">(.*?)</figure>', dom, flags=re.S)
    assert len(figures) >= 3  # reject rates, rows, errors (when the month has errors), list sizes
    for figure in figures:
        assert "<svg" in figure and figure.count("<path") > 5  # drawn charts, text as paths
    shot = tmp_path / "page.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1000,2400",
                    f"--screenshot={shot}", out.as_uri()], capture_output=True, timeout=180, cwd=tmp_path)
    from PIL import Image

    colours = Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours and len(colours) > 50  # painted, not blank


def test_report_errors_are_clear(tmp_path, capsys):
    assert cli.main(["report", "--home", str(tmp_path / "nowhere")]) == 2
    assert "找不到分析快照" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        cli.main(["report", "--month", "2026-13", "--home", str(tmp_path)])
    assert exit_.value.code == 2
    assert "YYYY-MM" in capsys.readouterr().err


@pytest.mark.parametrize("cjk", [True, False], ids=["cjk-font", "no-cjk-font"])
def test_chart_texts_are_never_empty_boxes(demo_home, tmp_path, monkeypatch, cjk):
    """Every text in the charts is drawn: Chinese with a CJK font; without one, codes and English (a glyph the
    font lacks would be an empty box, which matplotlib warns about)."""
    if cjk and charts.cjk_font() is None:
        pytest.skip("no CJK font on this machine (apt-get install fonts-noto-cjk)")
    if not cjk:
        monkeypatch.setattr(charts, "cjk_font", lambda: None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cli.main(["report", "--home", str(demo_home.root), "--output", str(tmp_path / "r.html")]) == 0
    assert not [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_cjk_font_installed_after_matplotlibs_font_cache_is_found(monkeypatch):
    """matplotlib never refreshes its list of the system's fonts: a CJK font installed later is still used."""
    charts.cjk_font.cache_clear()
    try:
        font = charts.cjk_font()
        if font is None:
            pytest.skip("no CJK font on this machine (apt-get install fonts-noto-cjk)")
        manager = font_manager.fontManager
        files = {f.fname for f in manager.ttflist if f.name in charts.CJK_FONTS}
        monkeypatch.setattr(manager, "ttflist", [f for f in manager.ttflist if f.fname not in files])
        charts.cjk_font.cache_clear()
        assert charts.cjk_font() == font
    finally:
        charts.cjk_font.cache_clear()
