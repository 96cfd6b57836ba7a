"""The one Excel writer of the project: rust_xlsxwriter through its Python binding (``rvgsrust_xlsxwriter``).

Cells of whole tables go from Arrow columns straight to the writer (``write_dataframe``, no Python per cell);
Python touches only the cells it annotates. What the binding lacks is here: formats from a dict, the printed page
set-up shared by every report, notes without the binding's defaults, and the very hidden sheet state.
"""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pyarrow as pa
from rvgsrust_xlsxwriter import Note, Workbook

__all__ = ["Workbook", "new_format", "note", "print_setup", "make_very_hidden", "write_table"]

A4 = 9  # Excel's paper size code
FOOTER = "&C&A　第 &P 页，共 &N 页"  # sheet name, page n of N
BORDERS = {1: "thin", 2: "medium"}


def new_format(wb: Workbook, spec: dict[str, Any]) -> Any:
    """A format from an xlsxwriter-style dict (bold, italic, font_size, font_color, bg_color, border, bottom,
    text_wrap, valign, align, num_format)."""
    fmt = wb.add_format()
    for key, value in spec.items():
        if key == "bold" and value:
            fmt.set_bold()
        elif key == "italic" and value:
            fmt.set_italic()
        elif key == "text_wrap" and value:
            fmt.set_text_wrap()
        elif key == "font_size":
            fmt.set_font_size(value)
        elif key == "font_color":
            fmt.set_font_color(value)
        elif key == "bg_color":
            fmt.set_background_color(value)
        elif key == "border":
            fmt.set_border(BORDERS[value])
        elif key == "bottom":
            fmt.set_bottom_border(BORDERS[value])
        elif key == "valign":
            fmt.set_vertical_align(value)
        elif key == "align":
            fmt.set_align(value)
        elif key == "num_format":
            fmt.set_num_format(value)
        else:
            raise ValueError(f"unsupported format key: {key}")
    return fmt


def note(text: str, *, x_scale: float = 1.0, y_scale: float = 1.0) -> Note:
    """A cell note (Excel's comment) ``x_scale``/``y_scale`` times the default 128 × 74 pixels. Excel shows the
    worksheet's note author (``set_default_note_author``) in bold above the text, as it does for a typed note."""
    n = Note(text)
    n.set_width(round(128 * x_scale))
    n.set_height(round(74 * y_scale))
    return n


def print_setup(ws: Any, *, header_rows: int = 1) -> None:
    """How every report and template prints: A4 landscape, one page wide, header rows repeated on each page,
    the sheet name and page number in the footer."""
    ws.set_paper_size(A4)
    ws.set_landscape()
    ws.set_print_fit_to_pages(1, 0)
    if header_rows:
        ws.set_repeat_rows(0, header_rows - 1)
    ws.set_footer(FOOTER)


def write_table(ws: Any, row: int, col: int, table: pa.Table, cell_format: Any,
                header_format: Any | None = None) -> None:
    """Write a table of strings from (row, col), every cell in `cell_format`; with `header_format`, the column
    names first. Nulls stay empty cells."""
    formats = {name: cell_format for name in table.column_names}
    if header_format is None:
        ws.write_dataframe(row, col, table, write_header=False, column_formats=formats)
    else:
        ws.write_dataframe(row, col, table, header_format=header_format, write_header=True, column_formats=formats)


_HIDDEN_STATE = re.compile(r'(<sheet\b[^>]*\bname="{name}"[^>]*\bstate=")hidden(")')


def make_very_hidden(path: str | os.PathLike, sheet_name: str) -> None:
    """Mark the hidden sheet `sheet_name` of a written workbook very hidden (Excel's menus cannot unhide it):
    the binding writes ``state="hidden"``; xl/workbook.xml is rewritten with ``state="veryHidden"``."""
    path = Path(path)
    tmp = path.with_name(path.name + ".vh")
    pattern = re.compile(_HIDDEN_STATE.pattern.format(name=re.escape(_xml_escape(sheet_name))))
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/workbook.xml":
                text, n = pattern.subn(r"\1veryHidden\2", data.decode("utf-8"))
                if n != 1:
                    raise ValueError(f"no hidden sheet named {sheet_name!r} in {path.name}")
                data = text.encode("utf-8")
            dst.writestr(info, data)
    shutil.move(tmp, path)


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
