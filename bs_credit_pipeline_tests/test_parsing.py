"""Date and number parsing of text cells."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from bs_credit_pipeline import parsing

EDGE_CASES = ["2026-10-03", "2026-02-29", "2024-02-29", "2026-02-30", "2026-04-31", "2026-13-01", "2026-00-10",
              "2026-10-00", "1900-01-01", "1899-12-31", "2099-12-31", "2100-01-01", "2101-01-01", "0000-01-01",
              " 2026-10-03 ", "2026-1-3", "2026/10/3", "2026.10.03", "2026年10月3日", "20261003", "46298",
              "2026-10-03 08:30:00", "2026-10-03x", "", None]


def test_iso_fast_path_agrees_with_the_general_patterns():
    values = pa.array(EDGE_CASES, pa.string())
    trimmed = pa.compute.utf8_trim_whitespace(values)
    assert parsing.parse_dates(values).equals(parsing._general_dates(trimmed))
    assert parsing.parse_dates(values).to_pylist()[:6] == [
        dt.date(2026, 10, 3), None, dt.date(2024, 2, 29), None, None, None]


@given(st.lists(st.one_of(st.dates(dt.date(1850, 1, 1), dt.date(2150, 12, 31)).map(dt.date.isoformat),
                          st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"), st.none()), max_size=50))
def test_parse_dates_is_the_general_parse(cells):
    values = pa.array(cells, pa.string())
    assert parsing.parse_dates(values).equals(parsing._general_dates(values))


def test_a_column_of_repeated_dates_parses_as_each_cell_alone():
    """Repeated cells are parsed once per distinct value (parsing.per_distinct): the same dates as cell by cell."""
    forms = ["2026-10-03", "2026/10/3", " 2026年10月3日 ", "20261003", "46298", "2026-02-30", "昨天", "", None,
             "2026-10-05 14:30:00", "1899-12-31"]
    column = pa.chunked_array([pa.array(forms * 50, pa.string()), pa.array(forms * 50, pa.string())])
    alone = [parsing.parse_dates(pa.array([cell], pa.string()))[0].as_py() for cell in forms]
    assert parsing.parse_dates(column).to_pylist() == alone * 100
