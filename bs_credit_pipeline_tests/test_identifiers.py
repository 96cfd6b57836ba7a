"""Tests for bs_credit_pipeline.identifiers. Every identifier here is synthetic (generated check chars)."""

from __future__ import annotations

import datetime as dt
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from bs_credit_pipeline import identifiers as ids
from bs_credit_pipeline.demo import make_citizen_id, make_uscc

TODAY = dt.date(2026, 7, 1)
FAST = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

USCC_CHARS = ids.USCC_ALPHABET
# Registration authority + organisation type prefixes of GB 32100, letter-initial included.
USCC_PREFIXES = ["11", "12", "13", "19", "31", "51", "52", "53", "81", "91", "92", "93", "A1", "N1", "N2", "N3", "Y1"]
ID_DIVISIONS = ["530502", "530521", "530523", "530524", "530581", "530522", "533001", "533023", "110101", "440305"]


# --- strategies ------------------------------------------------------------------------------

@st.composite
def valid_usccs(draw) -> str:
    prefix = draw(st.sampled_from(USCC_PREFIXES))
    division = draw(st.text("0123456789", min_size=6, max_size=6))
    body = draw(st.text(USCC_CHARS, min_size=8, max_size=8))
    head = prefix + division + body + ids.org_code_check_char(body)
    return head + ids.uscc_check_char(head)


@st.composite
def valid_citizen_ids(draw) -> str:
    division = draw(st.sampled_from(ID_DIVISIONS))
    birth = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY))
    body = f"{division}{birth:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return body + ids.citizen_id_check_char(body)


def codes(result: pa.Array) -> list:
    assert isinstance(result, pa.Array)
    return result.to_pylist()


def id_ending_in_x(prefix: str = "53050219900101") -> str:
    return next(b + "X" for b in (f"{prefix}{i:03d}" for i in range(200)) if ids.citizen_id_check_char(b) == "X")


def single_substitutions(code: str, alphabet: str) -> list[str]:
    return [code[:i] + c + code[i + 1:] for i in range(len(code)) for c in alphabet if c != code[i]]


def adjacent_transpositions(code: str) -> list[str]:
    return [code[:i] + code[i + 1] + code[i] + code[i + 2:] for i in range(len(code) - 1) if code[i] != code[i + 1]]


def excel_reference(value: str) -> bool:
    """The brief's definition of a value produced by Excel's 15-significant-digit float."""
    return (value.isdigit() and 16 <= len(value) <= 19 and int(float(value)) == int(value)
            and float(f"{float(value):.15g}") == float(value))


# --- normalisation ---------------------------------------------------------------------------

def test_normalise_code_full_width_case_and_spaces():
    cid = make_citizen_id(1, birth=dt.date(1990, 1, 1))
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in cid)
    values = [full_width, cid.lower(), f"\u3000{cid[:6]} {cid[6:]}\u3000", f"{cid}  ", f"\u00a0{cid}\u200b",
              "  ", "", None]
    assert codes(ids.normalise_code(values)) == [cid.upper()] * 5 + [None, None, None]


def test_normalise_code_lowercase_x():
    cid = id_ending_in_x()
    assert codes(ids.normalise_code([cid.lower()])) == [cid]
    assert codes(ids.citizen_id_errors([cid.lower(), cid], TODAY)) == [None, None]


def test_normalise_text_trims_but_keeps_inner_spaces():
    values = ["\u3000 保山市 隆阳区\u200b ", "ＡＢＣ（１）", "a\u200bb", "\u00a0", None, "plain"]
    assert codes(ids.normalise_text(values)) == ["保山市 隆阳区", "ABC(1)", "ab", None, None, "plain"]



def test_normalise_text_skips_only_characters_nfkc_and_trimming_keep():
    """The byte pre-filter may let a row skip normalisation only if NFKC and the trim leave it unchanged: checked
    for every BMP character, alone and between two ideographs, with Python's and Arrow's NFKC."""
    chars = [chr(c) for c in range(1, 0x10000) if not 0xD800 <= c <= 0xDFFF]
    arr = pa.array(chars + [f"保{c}山" for c in chars])
    clean = ~ids._rows_with_bytes(arr, ids._text_dirty)
    kept = arr.filter(pa.array(clean))
    assert kept.equals(pa.compute.utf8_normalize(kept, "NFKC"))
    trimmed = ids._SPACE_CHARS + ids._INVISIBLE_CHARS
    for text in kept.to_pylist():
        assert unicodedata.normalize("NFKC", text) == text and text.strip(trimmed) == text, repr(text)
    assert clean[:len(chars)].sum() > 20_000  # ASCII, CJK ideographs and most CJK punctuation take the fast path
    assert ids.normalise_text(["保市监罚〔2026〕1号", "某某\u3000公司", "ＡＢＣ"]).to_pylist() == [
        "保市监罚〔2026〕1号", "某某 公司", "ABC"]

@pytest.mark.parametrize("wrap", [
    lambda v: v,
    pa.array,
    lambda v: pa.chunked_array([pa.array(v[:2]), pa.array(v[2:])]),
    lambda v: pd.Series(v, dtype=object),
    lambda v: pd.Series(v, dtype="string"),
    lambda v: pa.array(v, pa.large_string()),
    lambda v: pa.array(v).dictionary_encode(),
])
def test_input_kinds(wrap):
    u = make_uscc(3)
    out = ids.uscc_errors(wrap([u, None, u.lower(), u[:-1]]))
    assert isinstance(out, pa.Array) and codes(out) == [None, None, None, "E_USCC_LENGTH"]


COLUMN_FUNCTIONS = [
    ids.normalise_text, ids.normalise_code, ids.uscc_errors, ids.org_code_errors, ids.citizen_id_warnings,
    ids.id15_to_18, ids.to_canonical_citizen_id, ids.uscc_org_code,
    ids.classify_code, ids.mask_name, ids.mask_id, lambda v: ids.citizen_id_errors(v, TODAY),
    lambda v: ids.pseudonymise(v, b"k" * 16),
]


@pytest.mark.parametrize("values", [[], [None, None], pa.chunked_array([], pa.string())])
def test_empty_and_null_columns(values):
    for fn in COLUMN_FUNCTIONS:
        result = fn(values)
        assert result.type == pa.string() and result.null_count == len(values) == len(result)


def test_sliced_array_input():
    u = make_uscc(4)
    arr = pa.array(["x", u, "91", u])[1:]
    assert codes(ids.uscc_errors(arr)) == [None, "E_USCC_LENGTH", None]


# --- USCC --------------------------------------------------------------------------------------

@FAST
@given(st.lists(valid_usccs(), min_size=1, max_size=50))
def test_valid_usccs_never_rejected(values):
    assert codes(ids.uscc_errors(values)) == [None] * len(values)
    assert codes(ids.uscc_org_code(values)) == [v[8:17] for v in values]
    assert codes(ids.org_code_errors(ids.uscc_org_code(values))) == [None] * len(values)


@FAST
@given(valid_usccs())
def test_uscc_substitutions_and_transpositions_caught(code):
    variants = single_substitutions(code, USCC_CHARS + "IOSVZ*") + adjacent_transpositions(code)
    assert None not in codes(ids.uscc_errors(variants))


def test_uscc_substitutions_exhaustive_over_sample():
    sample = [make_uscc(seed, prefix) for seed, prefix in enumerate(USCC_PREFIXES)]
    variants = [v for code in sample for v in single_substitutions(code, USCC_CHARS) + adjacent_transpositions(code)]
    errors = codes(ids.uscc_errors(variants))
    assert len(variants) > 9000 and None not in errors
    assert set(errors) <= {"E_USCC_CHARSET", "E_USCC_CHECK"}  # the mod-31 check alone catches every one


def test_uscc_error_codes():
    u = make_uscc(7)
    head = "91530502" + "12345678" + "1"  # the org code's check char should be 8
    wrong_org = head + ids.uscc_check_char(head)
    wrong_check = u[:-1] + next(c for c in USCC_CHARS if c != u[-1])
    values = [u, u[:17], u + "0", u[:3] + "A" + u[4:], u[:10] + "I" + u[11:], wrong_check, wrong_org, "保山" + u[2:]]
    assert codes(ids.uscc_errors(values)) == [
        None, "E_USCC_LENGTH", "E_USCC_LENGTH", "E_USCC_CHARSET", "E_USCC_CHARSET", "E_USCC_CHECK",
        "E_USCC_ORGCODE_CHECK", "E_USCC_CHARSET",
    ]


def test_org_code_errors():
    body = "12345678"
    code = body + ids.org_code_check_char(body)
    assert code == "123456788"  # 3+14+27+40+25+48+28+16 = 201; 11 - 201 % 11 = 8
    values = [code, f"{body}-{code[-1]}", code.lower(), "1234567", f"{body}-{code[-1]}0", "1234567*8", "12345678Y",
              "123456780", None]
    assert codes(ids.org_code_errors(values)) == [
        None, None, None, "E_ORGCODE_LENGTH", "E_ORGCODE_LENGTH", "E_ORGCODE_CHARSET", "E_ORGCODE_CHARSET",
        "E_ORGCODE_CHECK", None,
    ]


def test_org_code_check_x_and_zero():
    bodies = ["".join(np.random.default_rng(s).choice(list("0123456789"), 8)) for s in range(400)]
    checks = {ids.org_code_check_char(b) for b in bodies}
    assert {"X", "0"} <= checks
    assert codes(ids.org_code_errors([b + ids.org_code_check_char(b) for b in bodies])) == [None] * 400


def test_org_code_digit_substitutions_and_transpositions_caught():
    # mod 11 over digits: a letter differing by 11, 22 or 33 can slip, so only digit changes are guaranteed.
    bodies = ["".join(np.random.default_rng(s).choice(list("0123456789"), 8)) for s in range(30)]
    sample = [b + ids.org_code_check_char(b) for b in bodies]
    variants = [v for c in sample for v in single_substitutions(c, "0123456789") + adjacent_transpositions(c)]
    variants = [v for v in variants if v.isdigit()]  # a check char X swapped into the body can slip
    assert len(variants) > 2000 and None not in codes(ids.org_code_errors(variants))


def test_uscc_parts():
    u = make_uscc(11, prefix="12", division="530581")
    assert codes(ids.uscc_org_code([u, "x"])) == [u[8:17], None]


# --- citizen ID --------------------------------------------------------------------------------

@FAST
@given(st.lists(valid_citizen_ids(), min_size=1, max_size=50))
def test_valid_citizen_ids_never_rejected(values):
    assert codes(ids.citizen_id_errors(values, TODAY)) == [None] * len(values)
    first_generation = [v[:6] + v[8:17] for v in values if "1900" <= v[6:10] <= "1999"]
    assert codes(ids.citizen_id_errors(first_generation, TODAY)) == [None] * len(first_generation)


@FAST
@given(valid_citizen_ids())
def test_citizen_id_substitutions_and_transpositions_caught(code):
    variants = single_substitutions(code, "0123456789X*") + adjacent_transpositions(code)
    assert None not in codes(ids.citizen_id_errors(variants, TODAY))


def test_citizen_id_substitutions_exhaustive_over_sample():
    rng = np.random.default_rng(5)
    sample = [make_citizen_id(rng, d, male=bool(i % 2)) for i, d in enumerate(ID_DIVISIONS * 3)]
    variants = [v for c in sample for v in single_substitutions(c, "0123456789X") + adjacent_transpositions(c)]
    errors = codes(ids.citizen_id_errors(variants, TODAY))
    assert len(variants) > 5000 and None not in errors


def test_citizen_id_error_codes():
    cid = make_citizen_id(8, birth=dt.date(1990, 1, 1))
    def with_check(body: str) -> str:
        return body + ids.citizen_id_check_char(body)
    wrong_check = cid[:-1] + next(c for c in "0123456789X" if c != cid[-1])
    cases = {
        cid: None,
        "5305021990****1234": "E_ID_MASKED",
        "530502********123X": "E_ID_MASKED",
        "530502××××××××1234": "E_ID_MASKED",
        "530502XXXXXXXX1234": "E_ID_MASKED",
        "5.30502E+17": "E_ID_SCIENTIFIC",
        "1.10101199001011E+17": "E_ID_SCIENTIFIC",
        "5.305021990010112e+17": "E_ID_SCIENTIFIC",
        "110101199001011008": "E_ID_EXCEL_NUMBER",
        "53050219900101123": "E_ID_LENGTH",
        "5305021990010": "E_ID_LENGTH",
        "53050219900101123A": "E_ID_CHARSET",
        "5305021990010X1234": "E_ID_CHARSET",
        "53050290010112A": "E_ID_CHARSET",
        with_check("53050219900229123"): "E_ID_BIRTHDATE",
        with_check("53050219001301123"): "E_ID_BIRTHDATE",
        with_check("53050219000229123"): "E_ID_BIRTHDATE",
        with_check("53050217990101123"): "E_ID_BIRTHDATE",
        with_check("53050220000229123"): None,
        with_check(f"530502{TODAY:%Y%m%d}123"): None,
        with_check(f"530502{TODAY + dt.timedelta(days=1):%Y%m%d}123"): "E_ID_FUTURE_BIRTH",
        "530502900230123": "E_ID_BIRTHDATE",
        "530502900101123": None,
        wrong_check: "E_ID_CHECK",
        None: None,
    }
    assert dict(zip(cases, codes(ids.citizen_id_errors(list(cases), TODAY)))) == cases


def test_excel_damage_detected():
    rng = np.random.default_rng(9)
    damaged = []
    for _ in range(300):
        cid = make_citizen_id(rng, rng.choice(ID_DIVISIONS))
        if cid.endswith("X"):
            continue
        read_back = str(int(float(f"{float(cid):.15g}")))  # what pandas/openpyxl give for the General cell
        if read_back != cid and ids.citizen_id_check_char(read_back[:17]) != read_back[-1]:
            damaged.append(read_back)
    assert len(damaged) > 200
    assert set(codes(ids.citizen_id_errors(damaged, TODAY))) == {"E_ID_EXCEL_NUMBER"}
    assert codes(ids.citizen_id_errors([f"{damaged[0]}.0", "110101199001011008"], TODAY)) == ["E_ID_EXCEL_NUMBER"] * 2


excel_shaped = st.integers(10**15, 10**19 - 1).map(lambda n: int(float(f"{float(n):.15g}")))


@FAST
@given(st.lists(st.integers(10**15, 10**19 - 1) | excel_shaped, min_size=1, max_size=40))
def test_excel_number_matches_reference_definition(numbers):
    values = [str(n) for n in numbers if len(str(n)) != 18]
    result = codes(ids.citizen_id_errors(values, TODAY))
    assert result == ["E_ID_EXCEL_NUMBER" if excel_reference(v) else "E_ID_LENGTH" for v in values]


@FAST
@given(valid_citizen_ids())
def test_excel_number_18_digits_matches_reference(cid):
    read_back = str(int(float(f"{float(cid[:17] + '0'):.15g}")))
    assert excel_reference(read_back)
    check_ok = ids.citizen_id_check_char(read_back[:17]) == read_back[-1]
    # the rounding may carry into the birth date; a value whose check char still fits is not flagged as Excel
    assert (codes(ids.citizen_id_errors([read_back], TODAY))[0] == "E_ID_EXCEL_NUMBER") == (not check_ok)


def test_citizen_id_warnings():
    values = [
        make_citizen_id(1, "530502"), make_citizen_id(1, "530581"), make_citizen_id(1, "530522"),
        make_citizen_id(1, "533001"), "533022900101123", make_citizen_id(1, "990101"),
        "5305021990****1234", "abc", None,
    ]
    assert codes(ids.citizen_id_warnings(values)) == [
        None, None, "W_ID_ADDRESS_RETIRED", "W_ID_ADDRESS_RETIRED", "W_ID_ADDRESS_RETIRED",
        "W_ID_ADDRESS_UNKNOWN", None, None, None,
    ]
    assert codes(ids.citizen_id_errors(values[:6], TODAY)) == [None] * 6  # warnings never reject


def test_id15_to_18_and_canonical():
    old = "530502900101123"
    new = "53050219900101123" + ids.citizen_id_check_char("53050219900101123")
    assert new[-1] == ric.calc_check_digit(new)
    assert codes(ids.id15_to_18([old, new, "abc", None, "53050290010112X"])) == [new, new, "abc", None, "53050290010112X"]
    x_id = id_ending_in_x()
    assert codes(ids.to_canonical_citizen_id([f" {old}\u3000", x_id.lower(), "５３０５０２９００１０１１２３"])) == [
        new, x_id, new]


# --- classification ----------------------------------------------------------------------------

def test_classify_code():
    rng = np.random.default_rng(12)
    person = make_citizen_id(rng, "530524")
    org = make_uscc(rng, "91", "530581")
    letter_org = make_uscc(rng, "N1", "530521")
    org_code = org[8:17]
    values = [org, letter_org, person, person[:6] + person[8:17], org_code, f"{org_code[:8]}-{org_code[8]}",
              "5305021990****1234", "5.30502E+17", "110101199001011008", "abc", None]
    assert codes(ids.classify_code(values)) == [
        "uscc", "uscc", "citizen_id", "citizen_id", "org_code", "org_code", "citizen_id", "citizen_id",
        "citizen_id", None, None,
    ]


def test_classify_damaged_values():
    rng = np.random.default_rng(21)
    person = make_citizen_id(rng, "530502", dt.date(1990, 1, 1))
    year_typo = person[:6] + "1390" + person[10:]  # fails both checks, no valid date, province prefix
    org = make_uscc(rng, "91", "530502")
    digit_org = next(u for u in (make_uscc(rng, "92", "530524") for _ in range(200)) if u.isdigit())
    values = [year_typo, person[:17], org[:17], digit_org[:-1] + ("1" if digit_org[-1] != "1" else "2"),
              digit_org[:17], "53050219900101123.0"]
    assert codes(ids.classify_code(values)) == ["citizen_id", "citizen_id", "uscc", "uscc", "uscc", "citizen_id"]
    assert codes(ids.citizen_id_errors([person[:6] + "8137" + person[10:]], TODAY)) == ["E_ID_BIRTHDATE"]


def test_classify_all_digit_uscc():
    rng = np.random.default_rng(13)
    digit_usccs = [u for u in (make_uscc(rng, "12", "530502") for _ in range(400)) if u.isdigit()]
    assert len(digit_usccs) > 20
    result = codes(ids.classify_code(digit_usccs))
    assert result.count("uscc") >= len(digit_usccs) - 1  # an ID-valid collision is possible, but rare


@FAST
@given(st.lists(valid_citizen_ids() | valid_usccs(), min_size=1, max_size=30))
def test_classify_valid_codes(values):
    # An 18-digit value that is both a valid USCC and a valid citizen ID (birth date included) counts as an ID.
    valid_id = codes(ids.citizen_id_errors(values, TODAY))
    expected = ["citizen_id" if error is None else "uscc" for error in valid_id]
    assert codes(ids.classify_code(values)) == expected


# --- masking and pseudonyms --------------------------------------------------------------------

def test_mask_name():
    values = ["张三", "李小龙", "欧阳娜娜", "司马光", "诸葛亮", "欧阳", "张", " 王五 ", "买买提·艾力", None]
    assert codes(ids.mask_name(values)) == ["张*", "李**", "欧阳**", "司马*", "诸葛*", "欧*", "*", "王*", "买*****", None]
    assert codes(ids.mask_name(["张三", None], keep_surname=False, char="某")) == ["某某", None]


def test_mask_id():
    cid = make_citizen_id(14, "530502")
    assert codes(ids.mask_id([cid, cid.lower(), "530502900101123", "1234567890", None])) == [
        f"530502********{cid[-4:]}", f"530502********{cid[-4:]}", "530502*****1123", "**********", None]
    assert codes(ids.mask_id([cid], keep_head=3, keep_tail=0, char="#")) == [cid[:3] + "#" * 15]


def test_pseudonymise():
    key, other = b"k" * 32, b"o" * 32
    cid = make_citizen_id(15)
    tokens = codes(ids.pseudonymise([cid, cid, None, make_citizen_id(16)], key))
    assert tokens[0] == tokens[1] and tokens[2] is None and tokens[3] != tokens[0]
    assert tokens[0].startswith("P_") and len(tokens[0]) == 34 and cid not in tokens[0]
    assert codes(ids.pseudonymise(pa.chunked_array([[cid]]), key)) == tokens[:1]
    assert codes(ids.pseudonymise([cid], other)) != tokens[:1]
    with pytest.raises(ValueError):
        ids.pseudonymise([cid], b"")


def test_pseudonym_key_from_env(monkeypatch):
    monkeypatch.delenv("BS_CREDIT_PSEUDONYM_KEY", raising=False)
    with pytest.raises(ids.PseudonymKeyMissing, match="BS_CREDIT_PSEUDONYM_KEY"):
        ids.pseudonym_key_from_env()
    monkeypatch.setenv("BS_CREDIT_PSEUDONYM_KEY", "short")
    with pytest.raises(ids.PseudonymKeyMissing, match="shorter"):
        ids.pseudonym_key_from_env()
    monkeypatch.setenv("BS_CREDIT_PSEUDONYM_KEY", "s3cret-key-of-enough-length")
    assert ids.pseudonym_key_from_env() == b"s3cret-key-of-enough-length"


# --- generators ------------------------------------------------------------------------------

def test_generators():
    female = make_citizen_id(17, "530523", dt.date(1985, 6, 1), male=False)
    assert female[:14] == "53052319850601" and int(female[16]) % 2 == 0
    assert int(make_citizen_id(17, male=True)[16]) % 2 == 1
    assert make_uscc(18) == make_uscc(18)
    made = [make_uscc(s, p) for s, p in enumerate(USCC_PREFIXES)] + [make_citizen_id(s) for s in range(20)]
    assert codes(ids.uscc_errors(made[:len(USCC_PREFIXES)])) == [None] * len(USCC_PREFIXES)
    assert codes(ids.citizen_id_errors(made[len(USCC_PREFIXES):], TODAY)) == [None] * 20


# --- python-stdnum as a second opinion -------------------------------------------------------

def test_stdnum_agrees_where_it_is_right():
    rng = np.random.default_rng(19)
    digit_prefix = [p for p in USCC_PREFIXES if p[0].isdigit()]
    usccs = [make_uscc(rng, rng.choice(digit_prefix), "530502") for _ in range(50)]
    assert all(uscc.is_valid(u) for u in usccs)
    mixed = usccs + [v for u in usccs[:10] for v in single_substitutions(u, USCC_CHARS)[::7] + adjacent_transpositions(u)]
    assert [e is None for e in codes(ids.uscc_errors(mixed))] == [uscc.is_valid(v) for v in mixed]

    # stdnum checks the address code against the birth year; 110101 and 5330xx are fine for 1984-1999.
    people = [make_citizen_id(rng, rng.choice(["110101", "533001"]),
                                  dt.date(1984, 1, 1) + dt.timedelta(days=int(rng.integers(0, 5000)))) for _ in range(50)]
    assert all(ric.is_valid(p) for p in people)
    mixed = people + [v for p in people[:10] for v in single_substitutions(p, "0123456789X")[::5]
                      + adjacent_transpositions(p)]
    assert [e is None for e in codes(ids.citizen_id_errors(mixed, TODAY))] == [ric.is_valid(v) for v in mixed]


def test_where_stdnum_is_wrong():
    rng = np.random.default_rng(20)
    # 1. letter-initial USCCs (A1 military, N1-N3 rural collectives, Y1 other) are valid; stdnum rejects them.
    letter = [make_uscc(rng, p) for p in ("A1", "N1", "N2", "N3", "Y1")]
    assert codes(ids.uscc_errors(letter)) == [None] * 5
    assert not any(uscc.is_valid(u) for u in letter)
    # 2. stdnum skips the embedded GB 11714 check: a wrong org-code check char with a matching pos-18 char.
    good = make_uscc(rng, "91", "530502")
    wrong_digit = next(c for c in "0123456789X" if c != good[16])
    head = good[:16] + wrong_digit
    forged = head + ids.uscc_check_char(head)
    assert uscc.is_valid(forged)
    assert codes(ids.uscc_errors([forged])) == ["E_USCC_ORGCODE_CHECK"]
    # 3. Baoshan residents born before 2000/2015 carry the current codes 530502 / 530581 after re-issue;
    #    stdnum 2.2 rejects them because the county did not exist in their birth year.
    changed = [make_citizen_id(rng, "530502", dt.date(1990, 5, 1)),
               make_citizen_id(rng, "530581", dt.date(2008, 3, 3))]
    assert not any(ric.is_valid(p) for p in changed)
    assert codes(ids.citizen_id_errors(changed, TODAY)) == [None, None]
    assert codes(ids.citizen_id_warnings(changed)) == [None, None]


def test_excel_rounded_id_that_passes_the_check_char_gets_a_warning():
    """One damaged ID in eleven passes the check char; it is loaded, but the officer is asked to verify it."""
    today = dt.date(2026, 11, 27)
    for seed in range(5000):
        original = make_citizen_id(seed, birth=dt.date(1980, 1, 1))
        if not original.isdigit():
            continue
        damaged = str(int(float(f"{int(original):.15g}")))
        if ids.citizen_id_errors([damaged], today)[0].as_py() is None:
            break
    assert damaged != original
    assert codes(ids.citizen_id_warnings([damaged, original, "533001197202161000"])) == [
        "W_ID_MAYBE_EXCEL_NUMBER", None, "W_ID_MAYBE_EXCEL_NUMBER"]


def test_rows_with_any_byte_matches_the_substring_search_it_replaces():
    """Chunked input, nulls, '' and non-ASCII text: the same rows as `match_substring` for '.' or 'e' (any case)."""
    import pyarrow.compute as pc

    cells = ["110101199001011008.0", "1.10101E+17", "91530500MA6K0001X", None, "", "abcé", "e", " 1.1e5 ", "ＥＥ", "x."]
    column = pa.chunked_array([pa.array(cells[:4], pa.string()), pa.array(cells[4:], pa.string())])
    expected = pc.or_(pc.match_substring(column, "."), pc.match_substring(column, "e", ignore_case=True))
    assert ids.rows_with_any_byte(column, b".eE").tolist() == pc.fill_null(expected, False).to_pylist()
    assert ids.rows_with_any_byte(pa.array([], pa.string()), b".").tolist() == []


def test_code_checks_on_a_repeated_column_give_what_they_give_cell_by_cell():
    """Columns that repeat themselves are checked once per distinct value (identifiers.per_distinct): the same
    codes, classes and conversions as the undecorated functions on every row."""
    today = dt.date(2026, 11, 27)
    person = make_citizen_id(7, birth=dt.date(1980, 1, 1))
    cells = [make_uscc(1), make_uscc(2)[:-1] + "0", person, person[:6] + person[8:17], "5305021980****123X",
             "5.30502E+17", "MA6N0PAK" + ids.org_code_check_char("MA6N0PAK"), " ｍａ６ｎ ", "", None, "合计"]
    column = pa.chunked_array([pa.array(cells * 40, pa.string()), pa.array(cells * 60, pa.string())])
    for function, args in [(ids.uscc_errors, ()), (ids.org_code_errors, ()), (ids.uscc_org_code, ()),
                           (ids.citizen_id_errors, (today,)), (ids.citizen_id_warnings, ()),
                           (ids.to_canonical_citizen_id, ()), (ids.classify_code, ())]:
        assert function(column, *args).to_pylist() == function.__wrapped__(column, *args).to_pylist(), function


def test_trim_text_trims_spaces_and_keeps_cjk_punctuation_that_shares_their_lead_bytes():
    """《》“”。、 share the first UTF-8 byte of U+3000 and U+2000-U+2060: only the spaces and invisible characters
    go, at either end, in rows of any length (the row filter reads bytes by position)."""
    import random

    alphabet = list("a 中《》“”〔〕。、\u3000\u2028\u200b\ufeff\u00a0\u0085\t\u1680\u205f\u2060\u202f") + [""]
    rng = random.Random(20)
    cells = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 4))) for _ in range(3000)] + [None]
    strip = ids._SPACE_CHARS + ids._INVISIBLE_CHARS
    assert ids.trim_text(pa.array(cells, pa.string())).to_pylist() == [
        (c.strip(strip) or None) if c is not None else None for c in cells]
