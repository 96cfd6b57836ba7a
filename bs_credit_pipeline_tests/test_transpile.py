"""The DuckDB -> Spark SQL layer (engines/transpile.py): each named transform, and parameter binding. Pure sqlglot:
no Java needed; that Spark runs the output is what test_spark_equality.py checks."""

import datetime as dt

import pytest

from bs_credit_pipeline.engines.transpile import NotPortable, parse, spark_sql, to_spark


def spark(sql: str, params=None) -> str:
    return "; ".join(spark_sql(to_spark(t, sql, params)) for t in parse(sql))


def test_parameters_become_literals():
    assert spark("SELECT * FROM t WHERE d = ? AND k = ? AND s = ?", [dt.date(2026, 12, 1), ["a"], "it's"]) == (
        "SELECT * FROM t WHERE d = CAST('2026-12-01' AS DATE) AND k = ARRAY('a') AND s = 'it\\'s'")
    out = spark("SELECT * FROM t WHERE d = $as_of AND n = $n", {"as_of": dt.date(2026, 12, 1), "n": 3})
    assert out == "SELECT * FROM t WHERE d = CAST('2026-12-01' AS DATE) AND n = 3"
    with pytest.raises(NotPortable, match=r"\$missing"):
        spark("SELECT $missing", {"as_of": 1})


def test_list_bool_aggregates():
    assert spark("SELECT list_bool_and(l), list_bool_or(l) FROM t") == "SELECT ARRAY_MIN(l), ARRAY_MAX(l) FROM t"


def test_len_of_a_list_is_size_length_of_a_string_stays():
    assert spark("SELECT len(hits), length(name) FROM t") == "SELECT SIZE(hits), LENGTH(name) FROM t"


def test_json_extract_of_a_path_list():
    assert spark("SELECT json_extract_string(p, ['$.a', '$.b']) FROM t") == (
        "SELECT ARRAY(GET_JSON_OBJECT(p, '$.a'), GET_JSON_OBJECT(p, '$.b')) FROM t")


def test_json_wildcard_field_list():
    assert spark("SELECT CAST(json_extract_string(r, '$[*].record_id') AS VARCHAR[]) FROM t") == (
        "SELECT TRANSFORM(FROM_JSON(r, 'array<struct<record_id:string>>'), e -> e.record_id) FROM t")


def test_nested_to_json_is_serialised_once():
    out = spark("SELECT to_json(list({'d': d, 'i': to_json({'a': a})})) FROM t")
    assert out.count("TO_JSON") == 1


def test_months_and_years_become_add_months():
    assert spark("SELECT d + to_months(m), d - to_months(3), d + to_years(2) FROM t") == (
        "SELECT ADD_MONTHS(d, m), ADD_MONTHS(d, -(3)), ADD_MONTHS(d, 12 * (2)) FROM t")


def test_ordered_list_aggregate_keeps_its_order():
    assert spark("SELECT list(r ORDER BY r) FROM t") == (
        "SELECT TRANSFORM(ARRAY_SORT(COLLECT_LIST(STRUCT(r AS k0, r AS v))), s -> s.v) FROM t")


def test_list_has_any_and_timezone_and_cte_hints():
    assert spark("SELECT list_has_any(a, ['x']) FROM t") == "SELECT ARRAYS_OVERLAP(a, ARRAY('x')) FROM t"
    assert spark("SELECT timezone('Asia/Shanghai', ts) FROM t") == (
        "SELECT FROM_UTC_TIMESTAMP(ts, 'Asia/Shanghai') FROM t")
    assert spark("WITH x AS MATERIALIZED (SELECT 1 AS a) SELECT a FROM x") == "WITH x AS (SELECT 1 AS a) SELECT a FROM x"


def test_engine_of_a_duckdb_connection():
    import duckdb

    from bs_credit_pipeline.lists import engine

    assert engine.name(duckdb.connect()) == "duckdb"
