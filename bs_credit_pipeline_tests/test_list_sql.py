"""The list SQL files: each one parses as DuckDB SQL and translates to Spark SQL with sqlglot, names every
function it calls in a form Spark knows, and says what it builds, from what, with which parameters."""

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from bs_credit_pipeline.lists import display, gov_integrity, load_rules, sanctions, sqlfiles

RULES = load_rules()
# the rendered fragments of the files that have some, from the repository's rules
FRAGMENTS = {
    "watch_list": lambda: sanctions.watch_fragments(RULES),
    "integrity_score": lambda: {"persons": "TRUE"},
    "display_base": lambda: display.base_fragments(RULES["display_periods"]),
    "record_status": lambda: display.status_fragments(RULES["display_periods"]),
    "repair_decision": lambda: display.repair_fragments(RULES["display_periods"], RULES["repairs"]),
    "objection_state": lambda: display.objection_fragments(RULES["repairs"]),
    "gov_integrity_records": lambda: gov_integrity.record_fragments(gov_integrity.load_rules()),
}

# DuckDB functions sqlglot passes through unchanged that the Spark engine's transpile step translates
# (date + to_months(n) -> add_months(date, n))
TRANSLATED_BY_ENGINE = {"TO_MONTHS"}


def _statements(name: str) -> list[str]:
    return sqlfiles.statements(name, **(FRAGMENTS[name]() if name in FRAGMENTS else {}))


@pytest.mark.parametrize("name", sqlfiles.names())
def test_file_translates_to_spark(name):
    for statement in _statements(name):
        tree = sqlglot.parse_one(statement, read="duckdb", error_level=ErrorLevel.RAISE)
        spark = tree.sql(dialect="spark", unsupported_level=ErrorLevel.RAISE)
        # Spark's own parser reads the result, and every function in it is one sqlglot knows for Spark
        # (an unknown name is passed through unchanged: a DuckDB-only function Spark would not have)
        unknown = {f.name.upper() for f in sqlglot.parse_one(spark, read="spark").find_all(exp.Anonymous)}
        unknown -= TRANSLATED_BY_ENGINE
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


def test_a_file_runs_by_hand_after_the_printed_prelude(world, capsys):
    """docs/WAREHOUSE.md "List SQL": the prelude printed by rule_tables plus the files' own text, run as scripts
    (the relations they make dropped first), give the table the nightly build gives."""
    import datetime as dt

    from bs_credit_pipeline.lists import build_all, rule_tables

    build_all(world, dt.date(2026, 6, 15), RULES)
    built = world.execute("SELECT * FROM mart.green_channel").fetchall()
    assert built
    rule_tables.main(["--as-of", "2026-06-15"])
    prelude = capsys.readouterr().out
    world.execute("DROP TABLE IF EXISTS temp_red_item")
    world.execute("DROP TABLE IF EXISTS rule_green_channel")
    world.execute("DELETE FROM mart.green_channel")
    for name in ("red_list", "green_channel"):  # green_channel reads red_list's temp_red_item
        world.execute(prelude + sqlfiles.text(name))
    assert world.execute("SELECT * FROM mart.green_channel").fetchall() == built


class _OtherEngine:
    """A DuckDB connection presented as another engine: the steps take the path any engine but DuckDB takes
    (full rebuilds, no write-back into core), with DuckDB running the statements."""
    engine = "other"

    def __init__(self, conn):
        self._conn = conn

    def __getattr__(self, name):
        return getattr(self._conn, name)


def test_the_full_rebuild_path_gives_the_tables_of_the_incremental_one(world):
    import datetime as dt

    from bs_credit_pipeline.lists import MART_TABLES, build_all
    from bs_credit_pipeline.lists import points
    from bs_credit_pipeline.pipeline import evaluation_step

    rules = dict(RULES, points=points.load_rules())
    steps = [evaluation_step(points)]
    tables = (*MART_TABLES, "integrity_score")

    def snapshot(conn) -> dict:
        return {t: sorted(conn.execute(f"SELECT * FROM mart.{t}").fetchall(), key=repr) for t in tables}
    nights = (dt.date(2026, 6, 1), dt.date(2026, 6, 15))
    for as_of in nights:  # the second night updates record_status and the scores in place
        build_all(world, as_of, rules, extra_steps=steps)
    incremental = snapshot(world)
    assert world.execute("SELECT changes_since FROM mart.build_basis WHERE table_name = 'record_status'"
                         ).fetchone()[0] == nights[0]
    other = _OtherEngine(world)
    build_all(other, nights[1], rules, extra_steps=steps)
    assert snapshot(world) == incremental
