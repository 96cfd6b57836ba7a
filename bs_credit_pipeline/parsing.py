"""Vectorised parsing of the text cells offices send: dates in every common form, amounts."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .identifiers import per_distinct

# 2026-10-03, 2026/10/3, 2026.10.03, 2026年10月3日, optionally followed by a time (datetime cells read as text).
_YMD = (
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[ T]\d{1,2}:\d{1,2}(?::\d{1,2}(?:\.\d+)?)?)?$"
)
_ISO = r"^(?:19|20)\d{2}-\d{2}-\d{2}$"  # within _MIN_YEAR.._MAX_YEAR
_COMPACT = r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$"
_SERIAL = r"^\d{1,5}(?:\.\d+)?$"
_EXCEL_EPOCH = np.datetime64("1899-12-30")
_MIN_YEAR, _MAX_YEAR = 1900, 2100
_NUMBER = r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)$"


def _as_array(values) -> pa.Array:
    if not isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = pa.array(values, type=pa.string(), from_pandas=True)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values


def _ymd(text: pa.Array, pattern: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    st = pc.extract_regex(text, pattern)
    parts = []
    for f in ("y", "m", "d"):
        part = pc.struct_field(st, f) if len(text) else pa.array([], pa.string())
        parts.append(pc.cast(pc.if_else(pc.is_null(st), None, part), pa.int64()).to_numpy(zero_copy_only=False))
    return tuple(np.nan_to_num(p.astype("float64"), nan=0).astype("int64") for p in parts)


def parse_dates(values) -> pa.Array:
    """Text cells → date32 (null where empty or unparseable). Serials use the 1900 system (1899-12-30 epoch).
    Parsed once per distinct cell where cells repeat (a month's decisions share a few dozen dates)."""
    return per_distinct(_as_array(values), _parse_dates)


def _parse_dates(values: pa.Array) -> pa.Array:
    """Cells already in ISO form (the template's and most systems' export) take a fast path; the others are parsed
    by the general patterns."""
    text = pc.utf8_trim_whitespace(values)
    iso = pc.fill_null(pc.match_substring_regex(text, _ISO), False)
    dates = _iso_dates(pc.if_else(iso, text, None))
    rest = pc.and_(pc.is_valid(text), pc.invert(iso))
    if pc.any(rest).as_py():
        dates = pc.replace_with_mask(dates, rest, _general_dates(text.filter(rest)))
    return dates


def _iso_dates(text: pa.Array) -> pa.Array:
    """YYYY-MM-DD cells → date32; strptime rolls 2026-02-30 over to March, so the day must survive the parse."""
    stamps = pc.strptime(text, "%Y-%m-%d", "s", error_is_null=True)
    day_kept = pc.equal(pc.day(stamps), pc.cast(pc.utf8_slice_codeunits(text, 8), pa.int64()))
    return pc.if_else(day_kept, pc.cast(stamps, pa.date32()), pa.scalar(None, pa.date32()))


def _general_dates(text: pa.Array) -> pa.Array:
    """Trimmed text cells in any accepted form → date32."""
    n = len(text)
    y, m, d = _ymd(text, _YMD)
    y2, m2, d2 = _ymd(text, _COMPACT)
    use2 = (y == 0) & (y2 > 0)
    y, m, d = np.where(use2, y2, y), np.where(use2, m2, m), np.where(use2, d2, d)
    ok = (y >= _MIN_YEAR) & (y <= _MAX_YEAR) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= 31)
    month = np.where(ok, (y - 1970) * 12 + m - 1, 0).astype("datetime64[M]")
    days = month.astype("datetime64[D]") + np.where(ok, d - 1, 0).astype("timedelta64[D]")
    # Calendar check: a day past the month's end (2026-02-30) would roll over into the next month.
    result = np.where(ok & (days.astype("datetime64[M]") == month), days, np.datetime64("NaT"))
    serial_mask = pc.fill_null(pc.match_substring_regex(text, _SERIAL), False).to_numpy(zero_copy_only=False)
    if serial_mask.any():
        numbers = pc.cast(pc.if_else(serial_mask, text, None), pa.float64()).to_numpy(zero_copy_only=False)
        days = np.floor(np.nan_to_num(numbers, nan=0)).astype("int64")
        serial_dates = _EXCEL_EPOCH + days.astype("timedelta64[D]")
        years = serial_dates.astype("datetime64[Y]").astype(int) + 1970
        good = serial_mask & (days >= 1) & (years >= _MIN_YEAR) & (years <= _MAX_YEAR) & ~use2 & (y == 0)
        result = np.where(good, serial_dates, result)
    out = pa.array(result, type=pa.date32(), from_pandas=True) if n else pa.array([], pa.date32())
    return out


def parse_numbers(values) -> pa.Array:
    """Text cells → float64 (null where empty or not a number). Thousands separators are accepted."""
    text = pc.replace_substring(pc.utf8_trim_whitespace(_as_array(values)), ",", "")
    ok = pc.fill_null(pc.match_substring_regex(text, _NUMBER), False)
    return pc.cast(pc.if_else(ok, text, None), pa.float64())


SHANGHAI = ZoneInfo("Asia/Shanghai")


def today_in_shanghai() -> dt.date:
    """Today's calendar date in Asia/Shanghai: every date rule is computed in that zone."""
    return dt.datetime.now(SHANGHAI).date()
