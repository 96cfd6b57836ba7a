"""The list SQL files: each one parses as DuckDB SQL and translates to Spark SQL with sqlglot, names every
function it calls in a form Spark knows, and says what it builds, from what, with which parameters."""

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from bs_credit_pipeline.lists import gov_integrity, load_rules, sanctions, sqlfiles

RULES = load_rules()
# the rendered fragments of the files that have some, from the repository's rules
FRAGMENTS = {
    "watch_list": lambda: sanctions.watch_fragments(RULES),
    "integrity_score": lambda: {"persons": "TRUE"},
    "gov_integrity_records": lambda: {"kinds": gov_integrity.kinds_fragment(gov_integrity.load_rules())},
}


def _statements(name: str) -> list[str]:
    return sqlfiles.statements(name, **(FRAGMENTS[name]() if name in FRAGMENTS else {}))


@pytest.mark.parametrize("name", sqlfiles.names())
def test_file_translates_to_spark(name):
    for statement in _statements(name):
        tree = sqlglot.parse_one(statement, read="duckdb", error_level=ErrorLevel.RAISE)
        spark = tree.sql(dialect="spark", unsupported_level=ErrorLevel.RAISE)
        # Spark's own parser reads the result, and every function in it is one sqlglot knows for Spark
        # (an unknown name is passed through unchanged: a DuckDB-only function Spark would not have)
        unknown = {f.name for f in sqlglot.parse_one(spark, read="spark").find_all(exp.Anonymous)}
        assert not unknown, f"{name}.sql: functions unknown to Spark: {sorted(unknown)}\n{spark}"


@pytest.mark.parametrize("name", sqlfiles.names())
def test_file_has_a_header(name):
    header = sqlfiles.text(name).split("\n\n")[0]
    assert header.startswith("-- ") and "Inputs:" in header and "Parameters:" in header, name
    for fragment in sqlfiles.placeholders(name):  # each rendered fragment is explained in the header
        assert f"--   {fragment}" in sqlfiles.text(name), (name, fragment)
    assert set(sqlfiles.placeholders(name)) == set(FRAGMENTS[name]() if name in FRAGMENTS else ())


def test_statements_split_outside_strings_and_comments():
    sql = "SELECT ';' AS a; -- a comment; still one\nSELECT /* ; */ 2;\n\n"
    assert sqlfiles.split(sql) == ["SELECT ';' AS a", "-- a comment; still one\nSELECT /* ; */ 2"]


def test_a_missing_fragment_is_an_error():
    with pytest.raises(KeyError, match="watch_hits"):
        sqlfiles.render("watch_list", watch_fields="f")
