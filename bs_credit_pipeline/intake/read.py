"""Read a submitted file into string tables that keep exact Excel row numbers.

`read_workbook(path)` returns a `Workbook` or raises `FileRejected`; it never crashes or hangs on a bad file.

Cells, whatever the format, are text (`pa.string()`), blank cells are null:
- Excel (xlsx/xlsm, xls, xlsb, ods) is read by fastexcel (calamine) with every column as string. Numbers come
  as calamine prints them: `1.5`, `2`, and an ID typed into a General cell as the exact integer of the double
  Excel kept (15 significant digits, so the last digits are wrong: identifiers.py detects it). Dates come as
  `2026-10-03`, datetimes as `2026-10-05 14:30:00`, in the right calendar for 1904-date workbooks; a duration
  cell comes as a datetime counted from the epoch (`1904-01-11 15:10:10`). Error cells (#DIV/0!, #N/A) are
  null. A cell holding an empty string is `''`.
  Merged cells keep their value in the top-left cell only.
- CSV: decoded as utf-8-sig (BOM present), utf-8, utf-16 (BOM present) or gb18030, in that order; the
  delimiter is the most consistent of `, \\t ; |`; no header interpretation; empty fields (quoted or not) are
  null; a blank line is a row of nulls; short rows are padded with null.
- HTML saved as .xls: the first <table>; colspan / rowspan leave null cells; <br> is a newline; other
  whitespace collapses as a browser shows it.

Row numbers: Excel sheets are loaded from row 1 (fastexcel `skip_rows=0`), so table row i is Excel row i+1,
leading blank rows included; `col_offset` is the sheet column of c0 (calamine ranges start at the first used
column). CSV row numbers are the 1-based physical line on which the record starts; HTML row numbers are the
1-based <tr> index. CSV and HTML give one sheet named after the file stem. A file whose visible worksheets
hold no row at all (or only hidden sheets) is rejected with F_EMPTY.

Isolation: Excel files are read in a child process (`python -m bs_credit_pipeline.intake.read`, ~0.3 s CPU to
start) under RLIMIT_AS (`EXCEL_MEMORY_LIMIT`) and a wall-clock limit (`EXCEL_TIMEOUT_S`); the tables come back
as Arrow IPC files that the parent memory-maps (no copy). It is needed: every corpus file stays under 60 MB
peak RSS (calamine itself refuses or bounds the allocation bombs OOM_alloc*.xls and issue_594_dos.ods), but a
4.8 KB xlsx with cells at A1 and XFD1048576 makes calamine allocate a 17-billion-cell range (512 GiB) and
abort the whole process (SIGABRT), which no try/except can catch. A fork server was tried and dropped: its
children re-import the caller's __main__ (pytest, the dagster CLI) on every file. CSV and HTML are parsed
in-process (pyarrow / stdlib), bounded by `MAX_FILE_BYTES`. Measured costs: bench/RESULTS.md "Readers".
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import mmap
import os
import re
import resource
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.compute as pc

from ..imports import Refused

MAX_FILE_BYTES = 1024 * 1024 * 1024  # a 1 M-row CSV of 17 columns is ~370 MB
EXCEL_MEMORY_LIMIT = 8 * 1024**3  # address space of the Excel reading process
EXCEL_TIMEOUT_S = 600
MARKER_SHEET = "_bscredit"
# The reader child hands its tables over as Arrow IPC files: in memory (tmpfs) when the machine has one.
_IPC_DIR = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
_PACKAGE_PARENT = Path(__file__).resolve().parents[2]

F_UNREADABLE = "F_UNREADABLE"
F_ENCRYPTED = "F_ENCRYPTED"
F_EMPTY = "F_EMPTY"
F_UNSUPPORTED_FORMAT = "F_UNSUPPORTED_FORMAT"
F_TOO_LARGE = "F_TOO_LARGE"
F_NOT_A_FILE = "F_NOT_A_FILE"
F_NOT_FOUND = "F_NOT_FOUND"
F_ENCODING = "F_ENCODING"
F_LIMITS = "F_LIMITS"

# Bounds on a text file (CSV), so that any file gets its verdict within seconds and well under 1 GB: the widest
# contract has 35 columns (test_read_bounds_fit_every_contract), Excel allows 32 767 characters in a cell.
MAX_FIELDS = 1024  # fields in one row
MAX_FIELD_CHARS = 32_767  # characters in one field
MAX_LINE_BYTES = 1 << 20  # bytes in one line (a record may span lines when quoted)

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_DELIMITERS = (",", "\t", ";", "|")
_HTML_STARTS = (b"<html", b"<!doctype html", b"<table", b"<head", b"<meta", b"<body", b"<style", b"<!--")
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_OTHER_MAGICS = (  # what a file named .xlsx may really be: (Chinese name, English log name)
    (b"%PDF", ("PDF 文档", "PDF")), (b"\x89PNG", ("PNG 图片", "PNG image")), (b"\xff\xd8\xff", ("JPEG 图片", "JPEG image")),
    (b"GIF8", ("GIF 图片", "GIF image")), (b"Rar!", ("RAR 压缩包", "RAR archive")), (b"7z\xbc\xaf", ("7z 压缩包", "7z archive")),
    (b"\x1f\x8b", ("gzip 压缩包", "gzip archive")), (b"{\\rtf", ("RTF 文档", "RTF document")),
)
_FORMAT_NAMES = {"ods": "OpenDocument 表格（.ods）", "xlsb": "Excel 二进制工作簿（.xlsb）"}
_MAX_SPAN = 16384  # Excel's column limit: bounds HTML colspan/rowspan


@dataclass
class SheetData:
    name: str
    index: int  # 0-based position among all sheets of the workbook (hidden and chart sheets included)
    table: pa.Table  # every column pa.string(), named c0..cN
    row_numbers: np.ndarray  # int64, 1-based Excel row (CSV: line, HTML: <tr>) of each table row
    col_offset: int  # 0-based Excel column index of c0
    # Table column -> table rows of cells that were NUMBERS of 16+ digits in the workbook (an ID typed into a
    # General cell: Excel kept 15 significant digits). Excel formats only; CSV shows such damage in its text.
    numeric_cells: dict[int, np.ndarray] = field(default_factory=dict)


@dataclass
class Workbook:
    path: Path
    format: str  # "xlsx" | "xls" | "csv" | "html" | "ods" | "xlsb"
    sheets: list[SheetData]  # visible worksheets only
    hidden_sheets: list[str]  # hidden / very hidden worksheets: reported, never read
    encoding: str | None  # CSV / HTML only
    marker: str | None  # A1 of the hidden `_bscredit` sheet written by templates.py


class FileRejected(Exception):
    """File-level outcome: `code` is a messages.yaml code, `detail` an English log text without personal data,
    `fields` the Chinese message's placeholders (`what`: the format found, `encoding`)."""

    def __init__(self, code: str, detail: str, **fields: str):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.fields = fields


# ---------------------------------------------------------------- format sniffing


def sniff_format(path) -> str:
    """Format from the file's bytes: xlsx | xls | xlsb | ods | html | csv; raises FileRejected."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(8192)
    if not head:
        raise FileRejected(F_EMPTY, "file is empty (0 bytes)")
    if head.startswith(_OLE2_MAGIC):
        return _sniff_ole2(path)
    if head.startswith(_ZIP_MAGICS):
        return _sniff_zip(path)
    for magic, what in _OTHER_MAGICS:
        if head.startswith(magic):
            raise FileRejected(F_UNSUPPORTED_FORMAT, f"not a spreadsheet: {what[1]}", what=what[0])
    return _sniff_text(head)


def _sniff_ole2(path: Path) -> str:
    if _ole2_has_stream(path, "EncryptedPackage"):
        raise FileRejected(F_ENCRYPTED, "password-protected Office file (OLE2 EncryptedPackage)")
    if _ole2_has_stream(path, "Workbook") or _ole2_has_stream(path, "Book"):
        return "xls"
    raise FileRejected(F_UNSUPPORTED_FORMAT, "OLE2 compound file without a workbook stream (e.g. a Word .doc)",
                       what="Word 等其他 Office 文档")


def _ole2_has_stream(path: Path, name: str) -> bool:
    """True if a compound-file directory entry (128-byte slot after the 512-byte header) is named `name`."""
    needle = name.encode("utf-16-le") + b"\0\0"
    size_field = len(needle).to_bytes(2, "little")
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        pos = m.find(needle, 512)
        while pos != -1:
            if (pos - 512) % 128 == 0 and m[pos + 64 : pos + 66] == size_field:
                return True
            pos = m.find(needle, pos + 1)
    return False


def _sniff_zip(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as z:
            names = {n.lower(): n for n in z.namelist()}
            mimetype = z.read(names["mimetype"])[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, ValueError) as e:
        raise FileRejected(F_UNREADABLE, f"corrupt or truncated zip container ({type(e).__name__})") from None
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if mimetype.startswith(_ODS_MIME) or ("content.xml" in names and not mimetype):
        return "ods"
    what = "Word 文档（.docx）" if "word/document.xml" in names else "PowerPoint 演示文稿" if "ppt/presentation.xml" in names \
        else "压缩包（.zip）"
    raise FileRejected(F_UNSUPPORTED_FORMAT, "zip file that is not a spreadsheet (no xl/workbook.xml)", what=what)


def _sniff_text(head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    lower = head.removeprefix(codecs.BOM_UTF8).lstrip().lower()
    if lower.startswith(b"<?xml"):
        if b"urn:schemas-microsoft-com:office:spreadsheet" in lower:
            raise FileRejected(F_UNSUPPORTED_FORMAT, "XML Spreadsheet 2003 file", what="XML 电子表格 2003")
        if b"<html" in lower:
            return "html"
        raise FileRejected(F_UNSUPPORTED_FORMAT, "XML file that is not a spreadsheet", what="XML 文件")
    if lower.startswith(_HTML_STARTS):
        return "html"
    if lower.startswith(b"mime-version:"):
        raise FileRejected(F_UNSUPPORTED_FORMAT, "MHT single-file web page", what="单个文件网页（.mht）")
    if b"\0" in head:
        if _looks_utf16(head):
            raise FileRejected(F_ENCODING, "UTF-16 text without a byte-order mark", encoding="UTF-16（缺少字节顺序标记 BOM）")
        raise FileRejected(F_ENCODING, "text with NUL bytes", encoding="含有空字符（NUL）的文本，可能是损坏的文件或其他程序的二进制文件")
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            return "csv"
        except UnicodeDecodeError:
            continue
    raise FileRejected(F_ENCODING, "text in an unknown encoding", encoding="无法识别的编码")


def _looks_utf16(head: bytes) -> bool:
    """Text in UTF-16 (either byte order) without a BOM: it decodes to printable text with line breaks or commas."""
    sample = head[: len(head) // 2 * 2]
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
        if "\0" not in text and printable >= 0.95 * len(text) and any(ch in text for ch in "\n,\t"):
            return True
    return False


# ---------------------------------------------------------------- entry point


def read_workbook(path) -> Workbook:
    """Read any submitted file; raises FileRejected for a file-level problem."""
    path = Path(path)
    if path.is_dir():
        raise FileRejected(F_NOT_A_FILE, "path is a directory")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise FileRejected(F_NOT_FOUND, "no such file") from None
    except OSError as e:
        raise FileRejected(F_UNREADABLE, f"cannot stat file: {e.strerror}") from None
    if size == 0:
        raise FileRejected(F_EMPTY, "file is empty (0 bytes)")
    if size > MAX_FILE_BYTES:
        raise FileRejected(F_TOO_LARGE, f"file has {size} bytes, limit {MAX_FILE_BYTES}")
    try:
        fmt = sniff_format(path)
        if fmt == "csv":
            wb = _read_csv(path)
        elif fmt == "html":
            wb = _read_html(path)
        else:
            wb = _read_excel(path, fmt)
    except FileRejected:
        raise
    except MemoryError:
        raise FileRejected(F_TOO_LARGE, "out of memory while reading") from None
    except Exception as e:  # any reader failure is a file-level outcome, never a crash; its text may quote cells
        raise FileRejected(F_UNREADABLE, f"reader failed ({type(e).__name__})") from None
    if not any(s.table.num_rows for s in wb.sheets):
        raise FileRejected(F_EMPTY, f"no visible sheet has any cell ({len(wb.hidden_sheets)} hidden sheets)")
    return wb


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else ""


def _string_table(columns: list[pa.Array]) -> pa.Table:
    return pa.table(
        [c if c.type == pa.string() else c.cast(pa.string()) for c in columns],
        names=[f"c{i}" for i in range(len(columns))],
    )


# ---------------------------------------------------------------- Excel (child process)


def _read_excel(path: Path, fmt: str) -> Workbook:
    with tempfile.TemporaryDirectory(prefix="bs-credit-read-", dir=_IPC_DIR) as tmp:
        pythonpath = os.pathsep.join(filter(None, [str(_PACKAGE_PARENT), os.environ.get("PYTHONPATH")]))
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "bs_credit_pipeline.intake.read", str(path), fmt, tmp],
                env={**os.environ, "PYTHONPATH": pythonpath},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=EXCEL_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            raise FileRejected(F_UNREADABLE, f"reading took longer than {EXCEL_TIMEOUT_S} s") from None
        result = Path(tmp) / "result.json"
        if proc.returncode != 0 or not result.exists():
            raise FileRejected(
                F_TOO_LARGE, f"reader process died (exit code {proc.returncode}), memory limit {EXCEL_MEMORY_LIMIT}"
            )
        outcome = json.loads(result.read_text(encoding="utf-8"))
        if outcome[0] == "rejected":
            raise FileRejected(outcome[1], outcome[2], **outcome[3])
        _, sheets, hidden, marker = outcome
        return Workbook(
            path=path,
            format=fmt,
            sheets=[
                SheetData(name, index, _string_table(_load_ipc(ipc).columns), np.arange(1, n + 1, dtype=np.int64), off,
                          {int(j): np.asarray(rows, dtype=np.int64) for j, rows in numeric})
                for name, index, ipc, n, off, numeric in sheets
            ],
            hidden_sheets=hidden,
            encoding=None,
            marker=marker,
        )


def _load_ipc(path: str) -> pa.Table:
    """Memory-mapped, zero-copy; the mapping outlives the deleted temporary file."""
    with pa.memory_map(path) as source:
        return pa.ipc.open_file(source).read_all()


def _excel_child(path: str, fmt: str, outdir: str) -> None:
    """Child process body: read, write Arrow IPC files and result.json (atomically) into outdir."""
    resource.setrlimit(resource.RLIMIT_AS, (EXCEL_MEMORY_LIMIT, EXCEL_MEMORY_LIMIT))
    try:
        outcome = ["ok", *_excel_to_ipc(path, fmt, outdir)]
    except FileRejected as e:
        outcome = ["rejected", e.code, e.detail, e.fields]
    except MemoryError:
        outcome = ["rejected", F_TOO_LARGE, f"out of memory (limit {EXCEL_MEMORY_LIMIT} bytes)", {}]
    except Exception as e:
        text = _first_line(e)
        fields = {}
        if re.search("password|encrypt", text, re.I):
            code = F_ENCRYPTED
        elif fmt in _FORMAT_NAMES:  # formats we read when they are simple; say what to send instead
            code, fields = F_UNSUPPORTED_FORMAT, {"what": _FORMAT_NAMES[fmt]}
        elif re.search("limit exceeded", text, re.I):
            code = F_TOO_LARGE
        else:
            code = F_UNREADABLE
        outcome = ["rejected", code, f"reader failed ({type(e).__name__})", fields]  # the text may quote cell values
    tmp = os.path.join(outdir, "result.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(outcome, f, ensure_ascii=False)
    os.replace(tmp, os.path.join(outdir, "result.json"))


def _excel_to_ipc(path: str, fmt: str, outdir: str):
    """Read visible worksheets into Arrow IPC files; returns (sheets, hidden sheet names, marker)."""
    import fastexcel

    reader = fastexcel.read_excel(path)
    kinds = _xlsx_sheet_kinds(path) if fmt == "xlsx" else _calamine_sheet_kinds(path)
    sheets, hidden, marker = [], [], None
    for index, name in enumerate(reader.sheet_names):
        is_worksheet, visible, part = kinds.get(name, (True, True, None))
        if name == MARKER_SHEET:
            marker = _marker(reader, index)
        elif not is_worksheet:
            continue
        elif not visible:
            hidden.append(name)
        else:
            # Which cells are numbers: in an xlsx, the long numbers found in the sheet's XML; else (or when the
            # XML is unusual) a second parse with a boolean dtype, on another thread while this one reads the text.
            with ThreadPoolExecutor(max_workers=1) as pool:
                typed = pool.submit(_numeric_flags, path, index, part)
                sheet = reader.load_sheet(index, header_row=None, dtypes="string", skip_rows=0)
                batch = _dates_as_shown(sheet.to_arrow())
                columns = sheet.selected_columns
                del sheet  # calamine's copy of the cells
                flags = typed.result()
            numeric = _numeric_long_numbers(batch, [c.absolute_index for c in columns], flags)
            ipc = os.path.join(outdir, f"{index}.arrow")
            with pa.OSFile(ipc, "wb") as sink, pa.ipc.new_file(sink, batch.schema) as writer:
                writer.write_batch(batch)
            sheets.append((name, index, ipc, batch.num_rows, columns[0].absolute_index if columns else 0, numeric))
    return sheets, hidden, marker


_LONG_DIGITS = r"^[0-9]{16,20}$"


def _numeric_flags(path: str, index: int, part: str | None = None) -> dict[int, np.ndarray]:
    """Absolute column index -> per row: the cell is a number (or a boolean), from a boolean-typed parse; for an xlsx
    sheet (its `part`), only the numbers that can have lost digits, from the sheet's XML (`_long_number_cells`), up
    to the last such row."""
    found = _long_number_cells(path, part) if part else None
    if found is not None:
        rows = 1 + max((r for cells in found.values() for r in cells), default=0)
        flags = {}
        for j, cells in found.items():
            flags[j] = np.zeros(rows, dtype=bool)
            flags[j][cells] = True
        return flags
    import fastexcel

    sheet = fastexcel.read_excel(path).load_sheet(index, header_row=None, skip_rows=0, dtypes="boolean")
    return {info.absolute_index: col.is_valid().to_numpy(zero_copy_only=False)
            for info, col in zip(sheet.selected_columns, sheet.to_arrow().columns)}


# Number values that may be 10^15 or more in an xlsx cell: 16+ digits before any point, or any exponent form
# (`1.10101199001011E+17`, LibreOffice's `1.10101199001011E+017`); `_numeric_long_numbers` then keeps the cells whose
# text has 16-20 digits, as for a parsed sheet. The cell's start tag is at most three tags back (`<f>` between).
_LONG_VALUE = re.compile(rb"v>([0-9]{16,}[0-9.]*|[0-9]*\.?[0-9]+[eE][+-]?[0-9]+)</")
_CELL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s>/]")
_CELL_ATTR = re.compile(rb'\s(r|t)\s*=\s*["\']([^"\']*)["\']')
_CELL_REF = re.compile(rb"([A-Z]{1,3})([0-9]{1,7})$")
_XML_CHUNK = 1 << 24
_XML_CARRY_MAX = 1 << 26  # a cell longer than this (none is): the boolean parse instead


def _long_number_cells(path: str, part: str) -> dict[int, list[int]] | None:
    """Absolute column -> 0-based rows of the number cells whose value has 16 or more digits before the point, read
    from the worksheet XML in chunks (no cell is built; ~15 % of a boolean-typed parse's CPU and none of its memory).
    None when the XML is not as expected (a cell without its reference, a cell across an unusually long stretch):
    the caller then parses the sheet."""
    found: dict[int, list[int]] = {}
    with zipfile.ZipFile(path) as z, z.open(part) as xml:
        carry = b""
        while True:
            data = xml.read(_XML_CHUNK)
            buf = carry + data
            end = len(buf) if not data else buf.rfind(b"c>") + 2  # whole cells only (`</c>`, `</x:c>`)
            if end < 2:
                if len(buf) > _XML_CARRY_MAX:
                    return None
                carry = buf
                continue
            for m in _LONG_VALUE.finditer(buf, 0, end):
                cell = _cell_of(buf, m.start())
                if cell is None:
                    return None
                if cell[2] in (b"", b"n"):
                    found.setdefault(cell[0], []).append(cell[1])
            carry = buf[end:]
            if not data:
                return found


def _cell_of(buf: bytes, at: int) -> tuple[int, int, bytes] | None:
    """(absolute column, 0-based row, type attribute) of the cell whose value starts at `at`."""
    start = at
    for _ in range(4):
        start = buf.rfind(b"<", 0, start)
        if start < 0:
            return None
        if _CELL_TAG.match(buf, start):
            close = buf.find(b">", start)
            attrs = dict(_CELL_ATTR.findall(buf, start, close))
            ref = _CELL_REF.match(attrs.get(b"r", b""))
            if ref is None:
                return None
            column = 0
            for letter in ref.group(1):
                column = column * 26 + letter - 64
            return column - 1, int(ref.group(2)) - 1, attrs.get(b"t", b"")
    return None


def _numeric_long_numbers(batch: pa.RecordBatch, absolute: list[int], flags: dict[int, np.ndarray]) -> list[list]:
    """[[column, [rows]], ...] of the cells that were numbers with more than 15 significant digits (read as text,
    a number shows the digits of the double it is: 16 or more digits mean digits were lost)."""
    found = []
    for j, col in enumerate(batch.columns):
        numeric = flags.get(absolute[j])
        if col.type != pa.string() or numeric is None or not numeric.any():
            continue
        size = pc.binary_length(col)  # cheap first: only 16-20 byte cells can be such digits
        sized = np.flatnonzero(pc.fill_null(pc.and_(pc.greater_equal(size, 16), pc.less_equal(size, 20)), False)
                               .to_numpy(zero_copy_only=False))
        sized = sized[(sized < len(numeric)) & numeric[np.minimum(sized, len(numeric) - 1)]]  # rows past its end: no
        if not len(sized):
            continue
        shaped = pc.fill_null(pc.match_substring_regex(col.take(pa.array(sized)), _LONG_DIGITS), False)
        rows = sized[shaped.to_numpy(zero_copy_only=False)]
        if len(rows):
            found.append([j, rows.tolist()])
    return found


_MIDNIGHT = " 00:00:00"


def _dates_as_shown(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Date cells as Excel shows them (2026-10-03, not fastexcel's 2026-10-03 00:00:00): the report and its
    messages quote what the officer sees."""
    columns = []
    for col in batch.columns:
        if col.type == pa.string() and pc.any(pc.match_substring(col, _MIDNIGHT)).as_py():
            col = pc.replace_substring_regex(col, rf"^(\d{{4}}-\d{{2}}-\d{{2}}){_MIDNIGHT}$", r"\1")
        columns.append(col)
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def _marker(reader, index: int) -> str | None:
    sheet = reader.load_sheet(index, header_row=None, dtypes="string", skip_rows=0, n_rows=1)
    columns = sheet.selected_columns
    if not columns or columns[0].absolute_index != 0:
        return None
    values = sheet.to_arrow().column(0).to_pylist()
    return values[0].strip() if values and values[0] else None


def _xlsx_sheet_kinds(path: str) -> dict[str, tuple[bool, bool, str | None]]:
    """name -> (is a worksheet, is visible, its part in the package), from xl/workbook.xml and its relationships
    (no cell data)."""
    with zipfile.ZipFile(path) as z:
        names = {n.lower(): n for n in z.namelist()}
        workbook = ElementTree.fromstring(z.read(names["xl/workbook.xml"]))
        rels_name = names.get("xl/_rels/workbook.xml.rels")
        rels = ElementTree.fromstring(z.read(rels_name)) if rels_name else None
    types, parts = {}, {}
    for rel in rels.iter() if rels is not None else ():
        if _local(rel.tag) == "Relationship":
            types[rel.get("Id")] = rel.get("Type", "").rsplit("/", 1)[-1]
            target = rel.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else "xl/" + target
            parts[rel.get("Id")] = names.get(os.path.normpath(target).lower())
    kinds = {}
    for el in workbook.iter():
        if _local(el.tag) == "sheet":
            rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
            kinds[el.get("name")] = (types.get(rid, "worksheet") == "worksheet", el.get("state", "visible") == "visible",
                                     parts.get(rid))
    return kinds


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _calamine_sheet_kinds(path: str) -> dict[str, tuple[bool, bool, None]]:
    """name -> (is a worksheet, is visible, None) via python-calamine (opens the workbook a second time)."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    workbook = CalamineWorkbook.from_path(path)
    try:
        return {
            m.name: (m.typ == SheetTypeEnum.WorkSheet, m.visible == SheetVisibleEnum.Visible, None)
            for m in workbook.sheets_metadata
        }
    finally:
        workbook.close()


# ---------------------------------------------------------------- CSV


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        chain = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        chain = ("utf-16",)
    else:
        chain = ("utf-8", "gb18030")
    for encoding in chain:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise FileRejected(F_UNSUPPORTED_FORMAT, f"text is not valid {' / '.join(chain)}")


def _read_csv(path: Path) -> Workbook:
    encoding, body = _csv_utf8(path.read_bytes())
    if not body or body.isspace():
        raise FileRejected(F_EMPTY, "text file holds only whitespace")
    delimiter = _sniff_delimiter(body[:65536].decode("utf-8", errors="ignore"))
    _check_lines(body, delimiter)
    parsed = _csv_arrow(body, delimiter)
    table, rows = parsed if parsed is not None else _csv_stdlib(body.decode("utf-8"), delimiter)
    _check_fields(table)
    sheet = SheetData(path.stem[:31], 0, table, rows, 0)
    return Workbook(path, "csv", [sheet], [], encoding, None)


def _limits(detail: str, limit: str) -> FileRejected:
    return FileRejected(F_LIMITS, detail, limit=limit)


def _check_lines(body: bytes, delimiter: str) -> None:
    """Line length and the first line's field count, before any parsing (a 50 MB line of 17 M fields would
    otherwise take minutes and gigabytes). Every window of half the limit must hold a line break, else the line
    around it is measured: a few hundred memchr calls for a normal file."""
    half = MAX_LINE_BYTES // 2
    for start in range(0, len(body), half):
        if body.find(b"\n", start, start + half) == -1:
            end = body.find(b"\n", start + half)
            line = (len(body) if end == -1 else end) - body.rfind(b"\n", 0, start) - 1
            if line > MAX_LINE_BYTES:
                raise _limits("a line is longer than the limit", f"有一行超过 {MAX_LINE_BYTES // (1 << 20)} MB")
    first = body[: body.find(b"\n")] if b"\n" in body else body
    if first.count(delimiter.encode()) + 1 > MAX_FIELDS:
        raise _limits("first line has too many fields", f"一行超过 {MAX_FIELDS} 列")


def _check_fields(table: pa.Table) -> None:
    if table.num_columns > MAX_FIELDS:
        raise _limits("a row has too many fields", f"一行超过 {MAX_FIELDS} 列")
    for col in table.columns:
        if _max_bytes(col) <= MAX_FIELD_CHARS:  # no more characters than bytes: nothing to count
            continue
        longest = pc.max(pc.utf8_length(col)).as_py() if len(col) else None
        if longest is not None and longest > MAX_FIELD_CHARS:
            raise _limits("a field is longer than the limit", f"有单元格超过 {MAX_FIELD_CHARS} 个字符")


def _max_bytes(col: pa.ChunkedArray) -> int:
    """The longest value's UTF-8 byte length (nulls count 0), from the offsets alone."""
    longest = 0
    for chunk in col.chunks:
        if len(chunk):
            offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32, count=len(chunk) + 1, offset=chunk.offset * 4)
            longest = max(longest, int(np.diff(offsets).max()))
    return longest


def _csv_utf8(data: bytes) -> tuple[str, bytes]:
    """(encoding, the text as UTF-8 bytes); plain UTF-8 is validated by Arrow without building a str."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", _valid_utf8(data[3:], "utf-8-sig")
    if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return "utf-8", _valid_utf8(data, "utf-8")
        except FileRejected:
            pass
    text, encoding = _decode(data)
    return encoding, text.encode("utf-8")


def _valid_utf8(data: bytes, encoding: str) -> bytes:
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    try:
        pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)]).validate(full=True)
    except pa.ArrowInvalid:
        raise FileRejected(F_UNSUPPORTED_FORMAT, f"text is not valid {encoding}") from None
    return data


def _sniff_delimiter(sample: str) -> str:
    """The candidate whose per-line count is most often the same non-zero number (ties: first candidate)."""
    lines = [line for line in sample.splitlines()[:50] if line.strip()]
    best, best_score = ",", (0, 0)
    for d in _DELIMITERS:
        counts = [line.count(d) for line in lines if d in line]
        if counts:
            mode = max(set(counts), key=counts.count)
            score = (counts.count(mode), mode)
            if score > best_score:
                best, best_score = d, score
    return best


def _line_breaks(buf: bytes, end: int) -> int:
    if buf.find(b"\r", 0, end) == -1:
        return buf.count(b"\n", 0, end)
    return buf.count(b"\n", 0, end) + buf.count(b"\r", 0, end) - buf.count(b"\r\n", 0, end)


_BARE_CR = re.compile(rb"\r(?!\n)")


def _csv_arrow(body: bytes, delimiter: str) -> tuple[pa.Table, np.ndarray] | None:
    """Fast path; None when line numbers cannot be derived safely (ragged rows, odd quoting). `body` is valid UTF-8
    (`_csv_utf8` checked or re-encoded it), so the reader does not check it again."""
    end = len(body)
    while end and body[end - 1] in b"\r\n":
        end -= 1
    if b"\r" in body and _BARE_CR.search(body):
        return None  # bare CRs (old Mac line ends, CRs inside cells): the stdlib reader decides
    has_quote = body.find(b'"', 0, end) != -1
    first_end = body.find(b"\n", 0, end)
    first_line_fields = body.count(delimiter.encode(), 0, first_end if first_end >= 0 else end) + 1
    try:
        table = pacsv.read_csv(
            pa.py_buffer(body).slice(0, end),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=has_quote, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in range(first_line_fields)},
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
                check_utf8=False,
            ),
        )
    except pa.ArrowInvalid:
        return None
    if any(t != pa.string() for t in table.schema.types):  # first record spans lines: more fields than typed
        return None
    # One chunk per column instead of one per 1 MB block: every later pass works on whole columns.
    table = _combined(table)
    n = table.num_rows
    if not has_quote:  # every record is one physical line (a blank line is a record too)
        return _string_table(table.columns), np.arange(1, n + 1, dtype=np.int64)
    lines = _line_breaks(body, end) + 1
    if n == lines:
        return _string_table(table.columns), np.arange(1, n + 1, dtype=np.int64)
    extra = np.zeros(n, dtype=np.int64)
    for col in table.columns:
        breaks = pc.subtract(
            pc.add(pc.count_substring(col, "\n"), pc.count_substring(col, "\r")), pc.count_substring(col, "\r\n")
        )
        extra += pc.fill_null(breaks, 0).to_numpy(zero_copy_only=False)
    spans = extra + 1
    rows = np.concatenate(([1], 1 + np.cumsum(spans)[:-1])).astype(np.int64)
    if n == 0 or rows[-1] + spans[-1] - 1 != lines:
        return None
    return _string_table(table.columns), rows


def _combined(table: pa.Table) -> pa.Table:
    """`table.combine_chunks()` with the columns on threads (Arrow copies without the GIL): copying a fresh 400 MB
    file is mostly page faults, 0.2-0.9 s on one thread (bench/RESULTS.md)."""
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return pa.table(list(pool.map(lambda column: column.combine_chunks(), table.columns)), names=table.column_names)


def _csv_stdlib(text: str, delimiter: str) -> tuple[pa.Table, np.ndarray]:
    """Slow path with exact physical line numbers; ragged rows padded with null."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records, numbers, start = [], [], 1
    try:
        for record in reader:
            if len(record) > MAX_FIELDS:
                raise _limits(f"row near line {start} has too many fields", f"一行超过 {MAX_FIELDS} 列")
            records.append(record)
            numbers.append(start)
            start = reader.line_num + 1
    except csv.Error as e:
        if "field limit" in str(e):
            raise _limits(f"field longer than the limit near line {reader.line_num}",
                          f"有单元格超过 {MAX_FIELD_CHARS} 个字符") from None
        raise FileRejected(F_UNREADABLE, f"CSV parse error near line {reader.line_num} ({type(e).__name__})") from None
    return _rows_to_table(records), np.asarray(numbers, dtype=np.int64)


def _rows_to_table(records: list[list[str | None]]) -> pa.Table:
    width = max((len(r) for r in records), default=0)
    columns = [
        pa.array([(r[j] or None) if j < len(r) else None for r in records], type=pa.string()) for j in range(width)
    ]
    return _string_table(columns)


# ---------------------------------------------------------------- HTML saved as .xls


def _read_html(path: Path) -> Workbook:
    data = path.read_bytes()
    text, encoding = _decode_html(data)
    parser = _FirstTableParser()
    parser.feed(text)
    parser.close()
    if not parser.found:
        raise FileRejected(F_EMPTY, "HTML file without a <table>")
    records = parser.rows
    sheet = SheetData(path.stem[:31], 0, _rows_to_table(records), np.arange(1, len(records) + 1, dtype=np.int64), 0)
    return Workbook(path, "html", [sheet], [], encoding, None)


_GB_ALIASES = {"gb2312", "gbk", "x-gbk", "cp936", "gb_2312-80", "euc-cn"}


def _decode_html(data: bytes) -> tuple[str, str]:
    match = re.search(rb"""charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", data[:4096], re.I)
    if match:
        declared = match.group(1).decode("ascii").lower()
        declared = "gb18030" if declared in _GB_ALIASES else declared
        try:
            return data.decode(declared), declared
        except (LookupError, UnicodeDecodeError):
            pass
    return _decode(data)


class _FirstTableParser(HTMLParser):
    """Rows of the first top-level <table>; nested tables' text joins the enclosing cell."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str | None]] = []
        self.found = False
        self._done = False
        self._depth = 0
        self._row: list[str | None] | None = None
        self._cell: list[str] | None = None
        self._colspan = 1
        self._rowspans: dict[int, int] = {}  # column -> rows still covered by a rowspan from above
        self._pending_rowspan = 1

    def handle_starttag(self, tag, attrs):
        if self._done:
            return
        if tag == "table":
            self._depth += 1
            self.found = True
        elif self._depth != 1:
            if tag == "br" and self._cell is not None:
                self._cell.append("\u2028")
        elif tag == "tr":
            self._end_row()
            self._row = []
        elif tag in ("td", "th"):
            if self._row is None:
                self._row = []
            self._end_cell()
            a = dict(attrs)
            self._colspan = _span(a.get("colspan"))
            self._pending_rowspan = _span(a.get("rowspan"))
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\u2028")

    def handle_endtag(self, tag):
        if self._done:
            return
        if tag == "table":
            if self._depth == 1:
                self._end_row()
                self._done = True
            self._depth = max(self._depth - 1, 0)
        elif self._depth == 1 and tag in ("td", "th"):
            self._end_cell()
        elif self._depth == 1 and tag == "tr":
            self._end_row()

    def handle_data(self, data):
        if self._cell is not None and not self._done:
            self._cell.append(data)

    def _fill_rowspans(self):
        while len(self._row) in self._rowspans:
            col = len(self._row)
            self._row.append(None)
            self._rowspans[col] -= 1
            if not self._rowspans[col]:
                del self._rowspans[col]

    def _end_cell(self):
        if self._cell is None:
            return
        self._fill_rowspans()
        col = len(self._row)
        self._row.append(_cell_text(self._cell))
        self._row.extend([None] * (self._colspan - 1))
        if self._pending_rowspan > 1:
            for c in range(col, col + self._colspan):
                self._rowspans[c] = self._pending_rowspan - 1
        self._cell = None

    def _end_row(self):
        if self._row is None:
            return
        self._end_cell()
        for col in sorted(c for c in self._rowspans if c >= len(self._row)):
            self._row.extend([None] * (col - len(self._row)))
            self._fill_rowspans()
        self.rows.append(self._row)
        self._row = None


def _span(value: str | None) -> int:
    try:
        return min(max(int(value or 1), 1), _MAX_SPAN)
    except ValueError:
        return 1


def _cell_text(parts: list[str]) -> str | None:
    """Browser-like whitespace collapsing; <br> (U+2028 marker) becomes a newline."""
    lines = re.sub(r"[ \t\r\n\f]+", " ", "".join(parts)).split("\u2028")
    text = "\n".join(line.strip() for line in lines).strip()
    return text or None


if __name__ == "__main__":  # the isolated Excel reader: python -m bs_credit_pipeline.intake.read PATH FORMAT OUTDIR
    # pyarrow imports pandas on its first array conversion where pandas is installed: 0.3 s CPU, half of this
    # process's start, for a reader that never makes a DataFrame.
    sys.meta_path.insert(0, Refused("pandas"))
    _excel_child(*sys.argv[1:4])
