"""Inline SVG charts for the monthly report (matplotlib, no pyplot state; text drawn as paths, so the SVG needs
no font where it is viewed). Chinese labels need a CJK font where the report is written: the first of
CJK_FONTS that is installed; without one, charts label departments and lists by their codes and their axes
and legends in English (report.CHART_TEXT_EN)."""

from __future__ import annotations

import io
import re
from functools import cache

from matplotlib import font_manager, rcParams
from matplotlib.figure import Figure

# Debian packages: fonts-noto-cjk, fonts-wqy-zenhei, fonts-wqy-microhei, fonts-droid-fallback, fonts-arphic-uming
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
             "Droid Sans Fallback", "AR PL UMing CN")
COLOURS = ("#2b6cb0", "#c53030", "#2f855a", "#b7791f", "#6b46c1", "#4a5568")


@cache
def cjk_font() -> str | None:
    """The family name of an installed CJK font, or None. matplotlib lists the system's fonts once, in a cache it
    never refreshes: fonts installed after that (fonts-noto-cjk on a running server) are added from the system's
    font folders here, so the charts get Chinese labels without deleting matplotlib's cache."""
    manager = font_manager.fontManager
    found = _first_cjk(manager)
    if found is None:
        known = {f.fname for f in manager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in known:
                try:
                    manager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # a file FreeType cannot read: not a font to draw with
                    continue
        found = _first_cjk(manager)
    return found


def _first_cjk(manager: font_manager.FontManager) -> str | None:
    installed = {f.name for f in manager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _figure(width: float, height: float) -> Figure:
    rcParams["svg.fonttype"] = "path"
    rcParams["svg.hashsalt"] = "bs-credit-report"  # the same data gives the same file
    font = cjk_font()
    rcParams["font.family"] = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    rcParams["axes.unicode_minus"] = False
    return Figure(figsize=(width, height), dpi=96, layout="constrained")


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    return re.sub(r"^.*?(<svg\b)", r"\1", text, count=1, flags=re.S)  # drop the XML prolog and DOCTYPE


def label_or_code(label: str, code: str) -> str:
    """A Chinese label where a CJK font can draw it, else the code."""
    return label if cjk_font() else code


def hbar(labels: list[str], series: dict[str, list[float]], xlabel: str, percent: bool = False) -> str:
    """Horizontal bars, one group per label (top to bottom), one bar per series."""
    n = max(len(labels), 1)
    fig = _figure(7.2, 0.9 + 0.32 * n * max(len(series), 1))
    ax = fig.add_subplot()
    height = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        ys = [n - 1 - k + (i - (len(series) - 1) / 2) * height for k in range(len(labels))]
        ax.barh(ys, values, height=height, label=name, color=COLOURS[i % len(COLOURS)])
        for y, v in zip(ys, values):
            ax.text(v, y, f" {v:.1f}%" if percent else f" {v:g}", va="center", fontsize=8)
    ax.set_yticks(range(n), list(reversed(labels)) if labels else [])
    ax.set_xlabel(xlabel)
    ax.spines[["top", "right"]].set_visible(False)
    if len(series) > 1:
        ax.legend(loc="lower right", fontsize=8)
    return _svg(fig)


def lines(dates: list, series: dict[str, list[float]], ylabel: str) -> str:
    """One line per series over the dates."""
    fig = _figure(7.2, 3.2)
    ax = fig.add_subplot()
    for i, (name, values) in enumerate(series.items()):
        ax.plot(dates, values, marker="o", label=name, color=COLOURS[i % len(COLOURS)])
    ax.set_ylabel(ylabel)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    return _svg(fig)
