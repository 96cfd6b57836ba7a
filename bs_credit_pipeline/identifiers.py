"""Identifier checks, normalisation, masking and pseudonyms for credit subjects (DOMAIN.md §2, §11).

Every column function takes a pyarrow Array / ChunkedArray, a pandas Series or a list of str/None and
works on the whole column at once (pyarrow.compute plus numpy on fixed-width byte matrices). Results
are pyarrow arrays of the same length; nulls stay null. Error/warning results hold a code from
messages.yaml or null (valid, or null input).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import yamlfile

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"  # indexed by (weighted sum mod 11)

# GB/T 2260 province-level codes (71 Taiwan; 81/82 Hong Kong/Macao and 83 Taiwan residence permits).
PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
    "61 62 63 64 65 71 81 82 83".split()
)
# Baoshan address codes no longer in GB/T 2260 (DOMAIN.md §3), from data_contracts/divisions.yaml.
DIVISIONS = Path(__file__).resolve().parents[1] / "data_contracts" / "divisions.yaml"
RETIRED_DIVISION_PREFIXES = tuple(
    str(d["prefix"]) for d in yamlfile.read(DIVISIONS)["retired"])
MIN_BIRTH_YEAR, MAX_BIRTH_YEAR = 1880, 2099  # our default: other years are typos, not dates

COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 端木 独孤 南宫 西门 "
    "澹台 公冶 宗政 濮阳 淳于 单于 太叔 申屠 仲孙 钟离 闻人 万俟 呼延 赫连 东郭 百里 司空 司寇 左丘 "
    "第五 拓跋 鲜于 闾丘 亓官 梁丘 公羊 谷梁 乐正 漆雕 壤驷 公良 巫马 微生 羊舌 段干 南门 东门".split()
)

USCC_ERRORS = ("E_USCC_LENGTH", "E_USCC_CHARSET", "E_USCC_CHECK", "E_USCC_ORGCODE_CHECK")
ORG_CODE_ERRORS = ("E_ORGCODE_LENGTH", "E_ORGCODE_CHARSET", "E_ORGCODE_CHECK")
ID_ERRORS = (
    "E_ID_MASKED", "E_ID_SCIENTIFIC", "E_ID_EXCEL_NUMBER", "E_ID_LENGTH", "E_ID_CHARSET",
    "E_ID_BIRTHDATE", "E_ID_FUTURE_BIRTH", "E_ID_CHECK",
)
ID_WARNINGS = ("W_ID_ADDRESS_UNKNOWN", "W_ID_ADDRESS_RETIRED", "W_ID_MAYBE_EXCEL_NUMBER")

PSEUDONYM_KEY_VAR = "BS_CREDIT_PSEUDONYM_KEY"
PSEUDONYM_MIN_KEY_BYTES = 16

_SPACE_CHARS = (
    " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff"
_TRIM_3_BYTES = np.array(sorted(int.from_bytes(ch.encode(), "big") for ch in _SPACE_CHARS + _INVISIBLE_CHARS
                                if len(ch.encode()) == 3), dtype=np.int32)
_INVISIBLE_RE = "[\u200b\u200c\u200d\u2060\ufeff]"
_CODE_SPACE_RE = r"[\s\p{Z}\x{200B}-\x{200D}\x{2060}\x{FEFF}\x{1C}-\x{1F}\x{85}]"
_MASK_RE = r"[*×●•#]|X{2,}"
_SCIENTIFIC_RE = r"^[0-9]+(\.[0-9]*)?E[+-]?[0-9]+$"
_DIGIT_RUN_RE = r"^[0-9]{16,19}(\.0+)?$"


def _lut(chars: str) -> np.ndarray:
    """Byte -> index of the character in `chars`, -1 for any other byte."""
    table = np.full(256, -1, dtype=np.int8)
    table[list(chars.encode())] = np.arange(len(chars))
    return table


_USCC_LUT = _lut(USCC_ALPHABET)
_ORG_LUT = _lut(ORG_ALPHABET)
_DIGIT_LUT = _lut("0123456789")
_ID_LAST_LUT = _lut("0123456789X")
_ID_CHECK_BYTES = np.frombuffer(ID_CHECK_CHARS.encode(), dtype=np.uint8)
_ORG_CHECK_BYTES = np.frombuffer(b"0123456789X0", dtype=np.uint8)  # indexed by 11 - (sum mod 11)


# Byte predicates selecting the rows that need the (slower) Unicode normalisation path; uint8 wraps.
_NFKC_CHANGED_CJK_PUNCT = np.array([0x80, 0xB6, 0xB8, 0xB9, 0xBA], dtype=np.uint8)  # U+3000, U+3036, U+3038-303A
_TEXT_DIRTY_LUT = np.ones(256, dtype=bool)
_TEXT_DIRTY_LUT[0x21:0x7F] = False  # visible ASCII
_TEXT_DIRTY_LUT[0x80:0xC0] = False  # continuation bytes follow their lead byte's verdict
_TEXT_DIRTY_LUT[0xE4:0xEA] = False  # U+4000-U+9FFF: CJK ideographs


def _text_dirty(data: np.ndarray) -> np.ndarray:
    """Bytes of characters that NFKC or trimming may change: controls, space, DEL and every non-ASCII character
    except the CJK ideographs U+3400-U+9FFF (lead bytes E3 90-BF, E4-E9) and the CJK punctuation U+3001-U+303F
    that NFKC keeps (〔〕《》、。 ...). Plain Chinese text then skips the normalisation pass."""
    dirty = _TEXT_DIRTY_LUT[data]
    e3 = np.flatnonzero(data == 0xE3)
    if len(e3):
        second = data[np.minimum(e3 + 1, len(data) - 1)]
        third = data[np.minimum(e3 + 2, len(data) - 1)]
        punct_kept = (second == 0x80) & ~np.isin(third, _NFKC_CHANGED_CJK_PUNCT)
        dirty[e3] = ~(punct_kept | (second >= 0x90))
    return dirty


def _code_dirty(data: np.ndarray) -> np.ndarray:
    """Controls, space, DEL, lower-case ASCII letters and every non-ASCII byte."""
    return ((data - np.uint8(0x21)) > 0x5D) | ((data - np.uint8(ord("a"))) < 26)


def _invisible_lead(data: np.ndarray) -> np.ndarray:
    """First UTF-8 byte of U+200B-U+2060 and U+FEFF."""
    return (data == 0xE2) | (data == 0xEF)


_POW10 = 10 ** np.arange(20, dtype=np.uint64)
_NULL_STR = pa.scalar(None, pa.string())


# ---------------------------------------------------------------------------------------------
# arrow <-> numpy plumbing


def _as_string_array(values) -> pa.StringArray:
    """Any supported column input as one pa.string() array."""
    if isinstance(values, pa.ChunkedArray):  # one chunk (a CSV column, a validation chunk's slice): no copy
        values = (values.chunk(0) if values.num_chunks == 1 else values.combine_chunks() if values.num_chunks
                  else pa.array([], values.type))
    elif not isinstance(values, pa.Array):
        values = pa.array(values, from_pandas=True)
    if values.type != pa.string():
        values = values.cast(pa.string())
    return values


def per_distinct(values, function) -> pa.Array:
    """`function` (element-wise, null to null) over the distinct values when a column repeats itself (enums, dates,
    authorities, boilerplate facts), else over the values."""
    values = _as_string_array(values)
    sample = values.slice(0, 10_000)
    if len(pc.unique(sample)) * 2 > len(sample):  # mostly distinct (names, numbers): not worth encoding
        return function(values)
    encoded = pc.dictionary_encode(values)
    if len(encoded.dictionary) * 2 > len(values):
        return function(values)
    return function(encoded.dictionary).take(encoded.indices)


def _by_distinct(function):
    """An element-wise column function run by `per_distinct` (codes repeat: authorities, a file's own subjects)."""
    @functools.wraps(function)
    def wrapper(values, *args):
        return per_distinct(values, lambda distinct: function(distinct, *args))
    return wrapper


def string_buffers(arr: pa.StringArray) -> tuple[np.ndarray, np.ndarray]:
    """(int32 offsets of the rows, the UTF-8 bytes they index) of a string array, without a copy."""
    _, off_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(off_buf, dtype=np.int32, count=len(arr) + 1, offset=arr.offset * 4)
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    return offsets, data


def _rows_with_bytes(arr: pa.StringArray, predicate) -> np.ndarray:
    """Boolean per row: some UTF-8 byte of the row satisfies the byte predicate (null and '' rows: False)."""
    offsets, data = string_buffers(arr)
    start = int(offsets[0])
    flagged = np.zeros(int(offsets[-1]) - start + 1, dtype=bool)  # one spare False for trailing empty rows
    flagged[:-1] = predicate(data[start:int(offsets[-1])])
    rows = np.logical_or.reduceat(flagged, offsets[:-1] - start) if len(arr) else np.zeros(0, dtype=bool)
    rows &= np.diff(offsets) > 0
    if arr.null_count:
        rows &= arr.is_valid().to_numpy(zero_copy_only=False)
    return rows


def rows_with_any_byte(values, chars: bytes) -> np.ndarray:
    """Boolean per row: its UTF-8 text holds one of the ASCII `chars` (null and '' rows: False). One pass over the
    column's bytes, whatever the number of `chars`."""
    lut = np.zeros(256, dtype=bool)
    lut[list(chars)] = True
    return _rows_with_bytes(_as_string_array(values), lut.__getitem__)


def _byte_lengths(arr: pa.StringArray) -> np.ndarray:
    """UTF-8 byte length per row, -1 for null."""
    offsets, _ = string_buffers(arr)
    lengths = np.diff(offsets)
    if arr.null_count:
        lengths = np.where(arr.is_valid().to_numpy(zero_copy_only=False), lengths, -1)
    return lengths


def _char_lengths(arr: pa.StringArray) -> np.ndarray:
    """Code-point length per row, -1 for null."""
    return pc.utf8_length(arr).fill_null(-1).to_numpy()


def _columns(arr: pa.StringArray, rows: np.ndarray, width: int) -> np.ndarray:
    """Column-major uint8 matrix (width, len(rows)): byte k of each given row (all exactly `width` bytes)."""
    if len(rows) == 0:
        return np.zeros((width, 0), dtype=np.uint8)
    if len(rows) != len(arr):
        mask = np.zeros(len(arr), dtype=bool)
        mask[rows] = True
        arr = arr.filter(pa.array(mask))
    offsets, data = string_buffers(arr)
    start = int(offsets[0])
    return np.ascontiguousarray(data[start:start + len(rows) * width].reshape(len(rows), width).T)


def _from_columns(cols: np.ndarray) -> pa.StringArray:
    width, n = cols.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(cols.T)))


def _codes(index: np.ndarray, names: tuple[str, ...]) -> pa.StringArray:
    """int8 code index per row (-1 = null) -> string array of code names."""
    return pc.take(pa.array(names, pa.string()), pa.array(index, mask=index < 0))


def _weighted(values: np.ndarray, weights) -> np.ndarray:
    """Weighted sum over the rows of a (k, n) matrix of small ints (-1 marks a bad char; callers mask those)."""
    total = np.zeros(values.shape[1], dtype=np.int32)
    for row, weight in zip(values, weights, strict=True):
        total += row * np.int32(weight)
    return total


def _blank_to_null(arr: pa.StringArray) -> pa.StringArray:
    empty = _byte_lengths(arr) == 0
    return pc.if_else(pa.array(empty), _NULL_STR, arr) if empty.any() else arr


# ---------------------------------------------------------------------------------------------
# normalisation


def normalise_text(values) -> pa.StringArray:
    """NFKC, drop invisible characters (U+200B-D, U+2060, BOM), trim Unicode spaces; '' -> null."""
    arr = _as_string_array(values)
    dirty = _rows_with_bytes(arr, _text_dirty)
    if dirty.any():
        sub = pc.utf8_normalize(arr.filter(pa.array(dirty)), "NFKC")
        invisible = _rows_with_bytes(sub, _invisible_lead)
        if invisible.any():
            fixed = pc.replace_substring_regex(sub.filter(pa.array(invisible)), _INVISIBLE_RE, "")
            sub = pc.replace_with_mask(sub, pa.array(invisible), fixed)
        sub = pc.utf8_trim(sub, characters=_SPACE_CHARS + _INVISIBLE_CHARS)
        arr = pc.replace_with_mask(arr, pa.array(dirty), sub)
    return _blank_to_null(arr)


def trim_text(values) -> pa.StringArray:
    """Free text as written: only leading and trailing spaces (Unicode spaces, U+3000) and invisible characters
    trimmed; '' -> null. A row is trimmed only when its first or last byte could belong to such a character."""
    arr = _as_string_array(values)
    offsets, data = string_buffers(arr)
    lengths = np.diff(offsets)
    if not len(data) or not (lengths > 0).any():
        return _blank_to_null(arr)
    filled = lengths > 0
    first = data[np.minimum(offsets[:-1], len(data) - 1)]
    last = data[np.maximum(offsets[1:] - 1, 0)]
    # ASCII whitespace and controls, U+0085/U+00A0 (C2 xx), the 3-byte spaces and invisible characters (U+1680,
    # U+2000-U+2060, U+3000, U+FEFF) by their exact bytes: CJK punctuation (《》“” ...) shares their lead bytes.
    # Bytes read past a short row's own only add rows to trim (utf8_trim then changes nothing there).
    end2 = data[np.maximum(offsets[1:] - 2, 0)]
    end3 = data[np.maximum(offsets[1:] - 3, 0)]
    tail_space = (last <= 0x20) | ((end2 == 0xC2) & ((last == 0x85) | (last == 0xA0)))
    tail_space |= np.isin((end3.astype(np.int32) << 16) | (end2.astype(np.int32) << 8) | last, _TRIM_3_BYTES)
    second = data[np.minimum(offsets[:-1] + 1, len(data) - 1)]
    third = data[np.minimum(offsets[:-1] + 2, len(data) - 1)]
    head_space = (first <= 0x20) | (first == 0xC2)
    head_space |= np.isin((first.astype(np.int32) << 16) | (second.astype(np.int32) << 8) | third, _TRIM_3_BYTES)
    rows = filled & (head_space | tail_space)
    if rows.any():
        mask = pa.array(rows)
        arr = pc.replace_with_mask(arr, mask, pc.utf8_trim(arr.filter(mask), characters=_SPACE_CHARS + _INVISIBLE_CHARS))
    return _blank_to_null(arr)


def normalise_code(values) -> pa.StringArray:
    """normalise_text, then remove every internal space and upper-case ('' -> null)."""
    arr = _as_string_array(values)
    dirty = _rows_with_bytes(arr, _code_dirty)
    if dirty.any():
        sub = pc.utf8_normalize(arr.filter(pa.array(dirty)), "NFKC")
        sub = pc.utf8_upper(pc.replace_substring_regex(sub, _CODE_SPACE_RE, ""))
        arr = pc.replace_with_mask(arr, pa.array(dirty), sub)
    return _blank_to_null(arr)


# ---------------------------------------------------------------------------------------------
# scalar check characters (used by the generators and as readable reference)


def uscc_check_char(body17: str) -> str:
    """GB 32100 check character for the first 17 USCC characters."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(body8: str) -> str:
    """GB 11714 check character for the 8 body characters of an organisation code."""
    total = sum(ORG_ALPHABET.index(c) * w for c, w in zip(body8, ORG_WEIGHTS, strict=True))
    return "0123456789X0"[11 - total % 11]


def citizen_id_check_char(body17: str) -> str:
    """GB 11643 check character for the first 17 digits of a citizen ID."""
    return ID_CHECK_CHARS[sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS, strict=True)) % 11]


# ---------------------------------------------------------------------------------------------
# USCC and organisation code


def _org_check_ok(cols9: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(charset ok, check ok) per code of a (9, n) matrix of GB 11714 codes."""
    body = _ORG_LUT[cols9[:8]]
    charset = (body >= 0).all(axis=0) & (_ID_LAST_LUT[cols9[8]] >= 0)
    expected = _ORG_CHECK_BYTES[11 - _weighted(body, ORG_WEIGHTS) % 11]
    return charset, charset & (expected == cols9[8])


def _uscc_status(cols: np.ndarray) -> np.ndarray:
    """Per code of an (18, n) matrix: -1 valid, else index into USCC_ERRORS (1 charset, 2, 3)."""
    vals = _USCC_LUT[cols]
    charset = (vals.min(axis=0) >= 0) & ((cols[2:8] - np.uint8(ord("0"))).max(axis=0) <= 9)
    check = vals[17] == (31 - _weighted(vals[:17], USCC_WEIGHTS) % 31) % 31
    _, org_ok = _org_check_ok(cols[8:17])
    return np.select([~charset, ~check, ~org_ok], [1, 2, 3], -1).astype(np.int8)


@_by_distinct
def uscc_errors(values) -> pa.StringArray:
    """USCC (GB 32100-2015, with the embedded GB 11714 check) error code per value, null when valid."""
    arr = normalise_code(values)
    blen, clen = _byte_lengths(arr), _char_lengths(arr)
    out = np.where((clen >= 0) & (clen != 18), 0, -1).astype(np.int8)
    out[(clen == 18) & (blen != 18)] = 1
    rows = np.flatnonzero(blen == 18)
    out[rows] = _uscc_status(_columns(arr, rows, 18))
    return _codes(out, USCC_ERRORS)


def _org_code_form(arr: pa.StringArray) -> pa.StringArray:
    """Drop the optional hyphen before the check character (XXXXXXXX-X)."""
    return pc.replace_substring_regex(arr, r"^(.{8})-(.)$", r"\1\2")


@_by_distinct
def org_code_errors(values) -> pa.StringArray:
    """GB 11714 organisation code error code per value (hyphen before the check char allowed)."""
    arr = _org_code_form(normalise_code(values))
    blen, clen = _byte_lengths(arr), _char_lengths(arr)
    out = np.where((clen >= 0) & (clen != 9), 0, -1).astype(np.int8)
    out[(clen == 9) & (blen != 9)] = 1
    rows = np.flatnonzero(blen == 9)
    charset, check = _org_check_ok(_columns(arr, rows, 9))
    out[rows] = np.select([~charset, ~check], [1, 2], -1)
    return _codes(out, ORG_CODE_ERRORS)


@_by_distinct
def uscc_org_code(values) -> pa.StringArray:
    """Embedded organisation code (pos 9-17) of 18-character codes, else null."""
    arr = normalise_code(values)
    return pc.if_else(pc.equal(pc.utf8_length(arr), 18), pc.utf8_slice_codeunits(arr, 8, 17), _NULL_STR)


# ---------------------------------------------------------------------------------------------
# citizen ID


def _date_ok(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    dim = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(month, 0, 12)]
    dim = dim + ((month == 2) & leap)
    return (year >= MIN_BIRTH_YEAR) & (year <= MAX_BIRTH_YEAR) & (month >= 1) & (month <= 12) & (day >= 1) & (
        day <= dim)


def _digits_value(digits: np.ndarray, dtype=np.int32) -> np.ndarray:
    """Integer value of a (k, n) matrix of decimal digits (most significant first)."""
    value = np.zeros(digits.shape[1], dtype=dtype)
    for row in digits:
        value = value * dtype(10) + row.astype(dtype)
    return value


def _id18_parts(cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For an (18, n) matrix: (shape ok, birth yyyymmdd or 0 when no valid date, check ok)."""
    digits = cols[:17] - np.uint8(ord("0"))  # wraps above 9 for non-digits
    shape = (digits.max(axis=0) <= 9) & (_ID_LAST_LUT[cols[17]] >= 0)
    year, month, day = _digits_value(digits[6:10]), _digits_value(digits[10:12]), _digits_value(digits[12:14])
    birth = np.where(_date_ok(year, month, day), year * 10000 + month * 100 + day, 0)
    check = _ID_CHECK_BYTES[_weighted(digits, ID_WEIGHTS) % 11] == cols[17]
    return shape, birth, check


def _id15_to_18_columns(cols15: np.ndarray) -> np.ndarray:
    century = np.broadcast_to(np.frombuffer(b"19", np.uint8)[:, None], (2, cols15.shape[1]))
    body = np.concatenate([cols15[:6], century, cols15[6:]])
    check = _ID_CHECK_BYTES[_weighted(body - np.uint8(ord("0")), ID_WEIGHTS) % 11]
    return np.concatenate([body, check[None, :]])


def _excel_rounded(values: np.ndarray) -> np.ndarray:
    """True where an integer equals a double that round-trips through 15 significant digits.

    Vectorised form of: int(float(v)) == v and float(f"{float(v):.15g}") == float(v).
    """
    v = values.astype(np.uint64)
    f = v.astype(np.float64)
    exact = f.astype(np.uint64) == v
    ndigits = np.searchsorted(_POW10, v, side="right")
    q = _POW10[np.clip(ndigits - 15, 0, 19)]
    quot, rem, half = v // q, v % q, q // 2
    up = (rem > half) | ((rem == half) & (quot % 2 == 1) & (q > 1))
    rounded = (quot + up.astype(np.uint64)) * q
    return exact & (rounded.astype(np.float64) == f)


@_by_distinct
def citizen_id_errors(values, today: dt.date) -> pa.StringArray:
    """Citizen ID (GB 11643-1999, 15- or 18-digit) error code per value, null when valid.

    Precedence: masked, scientific notation, Excel number damage (a check failure on a value that is a
    15-significant-digit double), length, charset, birth date, future birth, check character.
    """
    err = {code: i for i, code in enumerate(ID_ERRORS)}
    arr = normalise_code(values)
    blen, clen = _byte_lengths(arr), _char_lengths(arr)
    out = np.full(len(arr), -1, dtype=np.int8)
    today_int = today.year * 10000 + today.month * 100 + today.day
    handled = np.zeros(len(arr), dtype=bool)

    rows18 = np.flatnonzero(blen == 18)
    cols18 = _columns(arr, rows18, 18)
    shape, birth, check = _id18_parts(cols18)
    if not shape.all():
        rows18, cols18, birth, check = rows18[shape], cols18[:, shape], birth[shape], check[shape]
    handled[rows18] = True
    excel = np.zeros(len(rows18), dtype=bool)
    suspects = ~check & (cols18[17] != ord("X"))
    if suspects.any():
        excel[suspects] = _excel_rounded(_digits_value(cols18[:, suspects] - np.uint8(ord("0")), np.uint64))
    out[rows18] = np.select(  # Excel rounding may also carry into the birth-date digits
        [excel, birth == 0, birth > today_int, ~check],
        [err["E_ID_EXCEL_NUMBER"], err["E_ID_BIRTHDATE"], err["E_ID_FUTURE_BIRTH"], err["E_ID_CHECK"]],
        -1,
    )

    rows15 = np.flatnonzero(blen == 15)
    cols15 = _columns(arr, rows15, 15)
    ok15 = (_DIGIT_LUT[cols15] >= 0).all(axis=0)
    rows15, cols15 = rows15[ok15], cols15[:, ok15]
    handled[rows15] = True
    _, birth15, _ = _id18_parts(_id15_to_18_columns(cols15))
    out[rows15] = np.select(
        [birth15 == 0, birth15 > today_int], [err["E_ID_BIRTHDATE"], err["E_ID_FUTURE_BIRTH"]], -1
    )

    rest = np.flatnonzero(~handled & (clen >= 0))
    if len(rest):
        sub = arr.take(pa.array(rest))
        masked = pc.match_substring_regex(sub, _MASK_RE).to_numpy(zero_copy_only=False)
        scientific = pc.match_substring_regex(sub, _SCIENTIFIC_RE).to_numpy(zero_copy_only=False)
        run = pc.match_substring_regex(sub, _DIGIT_RUN_RE).to_numpy(zero_copy_only=False)
        excel_rest = np.zeros(len(rest), dtype=bool)
        if run.any():
            digits = pc.replace_substring_regex(sub.filter(pa.array(run)), r"\.0+$", "")
            excel_rest[run] = _excel_rounded(pc.cast(digits, pa.uint64()).to_numpy())
        sub_len = clen[rest]
        out[rest] = np.select(
            [masked, scientific, excel_rest, (sub_len != 15) & (sub_len != 18)],
            [err["E_ID_MASKED"], err["E_ID_SCIENTIFIC"], err["E_ID_EXCEL_NUMBER"], err["E_ID_LENGTH"]],
            err["E_ID_CHARSET"],
        )
    return _codes(out, ID_ERRORS)


@_by_distinct
def citizen_id_warnings(values) -> pa.StringArray:
    """Address-code warning per value (never a rejection): unknown province, or retired Baoshan code."""
    arr = normalise_code(values)
    clen = _char_lengths(arr)
    head = pc.utf8_slice_codeunits(arr, 0, 6)
    digits = pc.ascii_is_decimal(head).fill_null(False).to_numpy(zero_copy_only=False)
    shaped = ((clen == 15) | (clen == 18)) & digits
    province = pc.is_in(pc.utf8_slice_codeunits(head, 0, 2), value_set=pa.array(sorted(PROVINCE_CODES)))
    retired = np.zeros(len(arr), dtype=bool)
    for prefix in RETIRED_DIVISION_PREFIXES:
        retired |= pc.starts_with(head, prefix).fill_null(False).to_numpy(zero_copy_only=False)
    unknown = ~province.fill_null(False).to_numpy(zero_copy_only=False)
    excel = _maybe_excel_number(arr, clen)  # first: it may name somebody else, the others are harmless
    return _codes(np.select([excel, shaped & unknown, shaped & retired], [2, 0, 1], -1).astype(np.int8), ID_WARNINGS)


def _maybe_excel_number(arr: pa.StringArray, clen: np.ndarray) -> np.ndarray:
    """18 digits that look like a number Excel kept to 15 significant digits, whatever the check char says.

    One damaged ID in eleven still passes the check char and would name somebody else; a genuine ID looks like
    this about once in a thousand, so it is a warning (the row loads) asking the officer to verify it.
    """
    digits = (clen == 18) & pc.ascii_is_decimal(arr).fill_null(False).to_numpy(zero_copy_only=False)
    out = np.zeros(len(arr), dtype=bool)
    rows = np.flatnonzero(digits)
    if len(rows):
        values = np.array(arr.take(pa.array(rows)).to_pylist(), dtype=np.uint64)
        out[rows] = _excel_rounded(values) | (values % 1000 == 0)
    return out


def id15_to_18(values) -> pa.StringArray:
    """Convert 15-digit first-generation IDs to 18 digits (insert '19', add check char); others unchanged."""
    arr = _as_string_array(values)
    rows = np.flatnonzero(_byte_lengths(arr) == 15)
    cols = _columns(arr, rows, 15)
    digits = (_DIGIT_LUT[cols] >= 0).all(axis=0)
    if not digits.any():
        return arr
    mask = np.zeros(len(arr), dtype=bool)
    mask[rows[digits]] = True
    return pc.replace_with_mask(arr, pa.array(mask), _from_columns(_id15_to_18_columns(cols[:, digits])))


@_by_distinct
def to_canonical_citizen_id(values) -> pa.StringArray:
    """Normalised (NFKC, no spaces, upper-case X) citizen ID, 15-digit IDs converted to 18 digits."""
    return id15_to_18(normalise_code(values))


# ---------------------------------------------------------------------------------------------
# classification and divisions


_PROVINCE_RE = "(?:" + "|".join(sorted(PROVINCE_CODES)) + ")"


def _pair_in(first: np.ndarray, second: np.ndarray, pairs) -> np.ndarray:
    """Per column: the two bytes (first, second) form one of the given 2-character strings."""
    return np.isin(first.astype(np.int32) * 256 + second, [ord(a) * 256 + ord(b) for a, b in pairs])


def _classify_index(arr: pa.StringArray) -> np.ndarray:
    """0 uscc, 1 citizen_id, 2 org_code, -1 unknown, per row of a normalised array."""
    blen, clen = _byte_lengths(arr), _char_lengths(arr)
    out = np.full(len(arr), -1, dtype=np.int8)
    rows18 = np.flatnonzero(blen == 18)
    cols = _columns(arr, rows18, 18)
    id_shape, birth, id_check = _id18_parts(cols)
    uscc_ok = _uscc_status(cols) == -1
    id_ok = id_shape & id_check & (birth > 0)
    # Failing both checks: a province prefix makes it an ID, unless it reads as 省-prefixed USCC
    # (pos 3-4 a province too) with no date-like pos 7-14.
    province = _pair_in(cols[0], cols[1], PROVINCE_CODES)
    century = _pair_in(cols[6], cols[7], ("18", "19", "20"))
    uscc_like = _pair_in(cols[2], cols[3], PROVINCE_CODES) & (birth == 0) & ~century
    out[rows18] = np.where(id_ok | (id_shape & ~uscc_ok & province & ~uscc_like), 1, 0)
    out[(clen == 18) & (blen != 18)] = 0
    decided = np.zeros(len(arr), dtype=bool)
    decided[rows18[id_shape | uscc_ok]] = True
    rest = np.flatnonzero(~decided & (clen >= 0))
    if len(rest):
        sub = arr.take(pa.array(rest))

        def matches(pattern: str) -> np.ndarray:
            return pc.match_substring_regex(sub, pattern).to_numpy(zero_copy_only=False)

        out[rest[matches(r"^[0-9A-Z]{16,20}$|^[0-9]{16,19}\.0+$")]] = 0
        person = matches(f"^[0-9]{{15}}$|^{_PROVINCE_RE}[0-9]{{14,17}}(\\.0+)?$|{_SCIENTIFIC_RE}")
        out[rest[person | (matches(_MASK_RE) & (clen[rest] >= 15))]] = 1
        out[rest[matches(r"^[0-9A-Z]{8}-?[0-9A-Z]$")]] = 2
    return out


@_by_distinct
def classify_code(values) -> pa.StringArray:
    """'uscc' | 'citizen_id' | 'org_code' | null by shape, for columns that may hold any of them.

    An 18-character value passing the ID checks (birth date included) is a citizen ID, else one passing
    the USCC checks is a USCC. Digit strings failing both (and 16-19 digit runs) are citizen IDs when they
    start with a province code (for 18 digits: unless pos 3-4 is a province code too and pos 7-14 looks
    like no date), else USCCs; so are other 16-20 character codes. 15 digits, masked and
    scientific-notation values are citizen IDs; 9 characters (or 8-hyphen-1) are organisation codes.
    """
    return _codes(_classify_index(normalise_code(values)), ("uscc", "citizen_id", "org_code"))


# ---------------------------------------------------------------------------------------------
# public masking and keyed pseudonyms


def mask_name(values, keep_surname: bool = True, char: str = "*") -> pa.StringArray:
    """Mask a person's name: 张三 -> 张*, 欧阳娜娜 -> 欧阳** (compound surnames), single char -> *."""
    arr = normalise_text(values)
    length = _char_lengths(arr)
    keep = np.zeros(len(arr), dtype=np.int64)
    if keep_surname:
        compound = pc.is_in(pc.utf8_slice_codeunits(arr, 0, 2), pa.array(sorted(COMPOUND_SURNAMES)))
        compound = compound.fill_null(False).to_numpy(zero_copy_only=False)
        keep = np.select([length <= 1, compound & (length > 2)], [0, 2], 1)
    head = pc.if_else(pa.array(keep == 2), pc.utf8_slice_codeunits(arr, 0, 2),
                      pc.if_else(pa.array(keep == 1), pc.utf8_slice_codeunits(arr, 0, 1), ""))
    stars = pc.binary_repeat(pa.scalar(char), pa.array(np.maximum(length - keep, 0)))
    return pc.if_else(arr.is_valid(), pc.binary_join_element_wise(head, stars, ""), _NULL_STR)


def mask_id(values, keep_head: int = 6, keep_tail: int = 4, char: str = "*") -> pa.StringArray:
    """Mask an identifier: 530502********123X; values no longer than head + tail are masked entirely."""
    arr = normalise_code(values)
    length = _char_lengths(arr)
    short = length <= keep_head + keep_tail
    head = pc.if_else(pa.array(short), "", pc.utf8_slice_codeunits(arr, 0, keep_head))
    tail = pc.utf8_slice_codeunits(arr, -keep_tail) if keep_tail else pc.utf8_slice_codeunits(arr, 0, 0)
    tail = pc.if_else(pa.array(short), "", tail)
    hidden = np.where(short, np.maximum(length, 0), length - keep_head - keep_tail)
    stars = pc.binary_repeat(pa.scalar(char), pa.array(hidden))
    return pc.if_else(arr.is_valid(), pc.binary_join_element_wise(head, stars, tail, ""), _NULL_STR)


def pseudonymise(values, key: bytes, prefix: str = "P_") -> pa.StringArray:
    """Keyed token per value: prefix + first 32 hex of HMAC-SHA256(key, utf-8 value); null stays null.

    Deterministic for a given key, so pass canonical identifiers (to_canonical_citizen_id) to give one
    person one token across months.
    """
    if not key:
        raise ValueError("pseudonymisation key is empty")
    encoded = _as_string_array(values).dictionary_encode()
    distinct = encoded.dictionary.to_pylist()
    tokens = pa.array([prefix + hmac.digest(key, v.encode(), hashlib.sha256).hex()[:32] for v in distinct], pa.string())
    return tokens.take(encoded.indices)


class PseudonymKeyMissing(RuntimeError):
    """The pseudonymisation key environment variable is unset or too short."""


def pseudonym_key_from_env(var: str = PSEUDONYM_KEY_VAR) -> bytes:
    """The HMAC key from environment variable `var` (UTF-8 bytes, at least 16); never stored anywhere."""
    key = os.environ.get(var, "").encode()
    if len(key) < PSEUDONYM_MIN_KEY_BYTES:
        state = "is not set" if not key else f"is shorter than {PSEUDONYM_MIN_KEY_BYTES} bytes"
        raise PseudonymKeyMissing(
            f"environment variable {var} {state}; set it to a secret of at least "
            f"{PSEUDONYM_MIN_KEY_BYTES} characters (the same value every month) to pseudonymise citizen IDs"
        )
    return key
