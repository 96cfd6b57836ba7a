"""The analyst marts of the snapshot (schema analyst): typed per-kind views, labels, history, quality, ranking."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import duckdb
import pytest

from bs_credit_pipeline.analyst import catalog, marts
from bs_credit_pipeline.contracts import Registry
from bs_credit_pipeline.demo import nightly_dates
from bs_credit_pipeline.warehouse import privacy
from conftest import DEMO_AS_OF, DEMO_TIMEOUT

pytestmark = pytest.mark.timeout(DEMO_TIMEOUT)


@pytest.fixture(scope="module")
def snap(demo_home):
    conn = duckdb.connect(str(demo_home.analytics), read_only=True)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def registry():
    return Registry.load()


def rows(conn, sql, *params):
    return conn.execute(sql, list(params)).fetchall()


def test_amount_columns_carry_their_unit_and_the_contract_unit_is_converted(registry):
    labels = catalog.load(registry)
    columns = {c.name: c for c in registry.contracts["admin_penalty"].columns}
    assert marts.field_column(columns["fine_amount"], labels) == ("fine_amount_yuan", "DECIMAL(18,2)")
    assert marts.field_column(columns["decision_date"], labels) == ("decision_date", "DATE")
    hours = {c.name: c for c in registry.contracts["volunteer_service"].columns}["hours"]
    assert marts.field_column(hours, labels) == ("hours", "DECIMAL(18,2)")
    repair = {c.name: c for c in registry.contracts["credit_repair"].columns}
    assert marts.field_column(repair["obligation_fulfilled"], labels) == ("obligation_fulfilled", "BOOLEAN")


def test_per_kind_views_are_typed(snap, registry):
    types = dict(rows(snap, "SELECT column_name, data_type FROM duckdb_columns() "
                            "WHERE schema_name = 'analyst' AND table_name = 'admin_penalty'"))
    assert (types["fine_amount_yuan"], types["decision_date"], types["display_last_day"]) == (
        "DECIMAL(18,2)", "DATE", "DATE")
    assert "fine_amount" not in types and "payload" not in types
    repair = dict(rows(snap, "SELECT column_name, data_type FROM duckdb_columns() "
                             "WHERE schema_name = 'analyst' AND table_name = 'credit_repair'"))
    assert repair["obligation_fulfilled"] == "BOOLEAN"
    views = {v for (v,) in rows(snap, "SELECT view_name FROM duckdb_views() WHERE schema_name = 'analyst'")}
    assert set(registry.contracts) <= views


def test_fine_in_yuan_agrees_with_the_decision_text(snap):
    # The demo's penalty texts state each fine as 罚款人民币<元>元（<万元>万元）; the contract field is in 万元.
    fined = rows(snap, "SELECT fine_amount_yuan, penalty_content FROM analyst.admin_penalty "
                       "WHERE fine_amount_yuan IS NOT NULL")
    assert len(fined) > 5
    for yuan, text in fined:
        stated = re.search(r"罚款人民币([\d,]+)元", text)
        assert stated and Decimal(stated.group(1).replace(",", "")) == yuan, (yuan, text)


def test_status_display_days_and_provenance(snap):
    got = rows(snap, """SELECT count(*), count(*) FILTER (WHERE a.display_last_day = s.display_max_end - 1),
                               count(*) FILTER (WHERE a.status = s.status AND a.status_zh IS NOT NULL),
                               count(*) FILTER (WHERE a.file_name IS NOT NULL AND a.excel_row IS NOT NULL),
                               count(*) FILTER (WHERE a.status_as_of = ?)
                        FROM analyst.record a JOIN mart.record_status s USING (record_id)
                        WHERE s.display_max_end IS NOT NULL""", DEMO_AS_OF)
    total, last_day, status, provenance, as_of = got[0]
    assert total > 20 and last_day == status == provenance == as_of == total
    # a record's reason text and document number come from its contract fields (analyst.yaml `reasons`)
    (n,) = rows(snap, "SELECT count(*) FROM analyst.admin_penalty "
                      "WHERE reason_text = violation_type AND document_no = decision_no")[0]
    assert n == rows(snap, "SELECT count(*) FROM analyst.admin_penalty")[0][0]


def test_subject_classes(snap):
    got = dict(rows(snap, "SELECT subject_class, count(*) FROM analyst.record GROUP BY ALL"))
    assert got.get("person", 0) > 0 and got.get("enterprise", 0) > 0 and got.get("government_body", 0) > 0
    wrong = rows(snap, """SELECT subject_id, subject_class FROM analyst.record WHERE
                          (subject_class = 'government_body') <> (subject_type = 'org' AND subject_id LIKE '11%')
                          OR (subject_class = 'person') <> (subject_type = 'person')""")
    assert wrong == []


def test_list_history_spans_every_nightly_date(snap):
    dates = [d for (d,) in rows(snap, "SELECT DISTINCT as_of FROM analyst.list_history ORDER BY 1")]
    assert [d.isoformat() for d in dates] == [d.isoformat() for d in nightly_dates(dates[-1])]
    assert dates[-1] == DEMO_AS_OF
    changed = rows(snap, "SELECT count(DISTINCT as_of) FROM analyst.list_change WHERE change = 'removed'")[0][0]
    assert changed >= 1  # entries leave lists over the year, not only join
    # sizes agree with the history rows
    assert rows(snap, """SELECT count(*) FROM analyst.list_size s WHERE entries <> (
                            SELECT count(*) FROM analyst.list_history h
                            WHERE h.as_of = s.as_of AND h.list_name = s.list_name)""")[0][0] == 0


def test_list_entries_name_reason_documents_and_last_day(snap):
    black = rows(snap, "SELECT subject_name, reason_text, document_no, rule_title, display_last_day, listed_until "
                       "FROM analyst.list_entry WHERE list_name = 'black_list' AND as_of = ?", DEMO_AS_OF)
    assert black and all(name and reason and doc and rule for name, reason, doc, rule, _, _ in black)
    assert all(until is None or (until - last).days == 1 for *_, last, until in black)


def test_timeline_of_one_subject(snap):
    (subject,) = rows(snap, "SELECT subject_id FROM analyst.list_change WHERE list_name = 'black_list' "
                            "AND subject_type = 'org' LIMIT 1")[0]
    events = rows(snap, "SELECT event, event_date FROM analyst.subject_timeline WHERE subject_id = ? "
                        "ORDER BY event_date", subject)
    assert {"record", "listed"} <= {e for e, _ in events}


def test_quality_counts_fully_rejected_months_as_100_percent(snap):
    rejected = rows(snap, """SELECT department, month FROM ops.submission WHERE status <> 'superseded'
                             GROUP BY ALL HAVING bool_and(file_error_code IS NOT NULL)""")
    assert rejected  # the demo has departments whose every file of a month was rejected as a whole
    for department, month in rejected:
        got = rows(snap, "SELECT reject_rate, reject_rate_pct FROM analyst.data_quality "
                         "WHERE department = ? AND month = ?", department, month)
        assert [tuple(map(float, r)) for r in got] == [(1.0, 100.0)]
    (ranked,) = rows(snap, "SELECT count(*) FROM analyst.data_quality_error WHERE error_rank = 1")[0]
    assert ranked > 0


def _months(first: str, last: str) -> list[str]:
    y, m = map(int, first.split("-"))
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def test_timeliness_knows_who_was_expected(snap, registry):
    expected = dict(rows(snap, "SELECT department, expected_from FROM analyst.department"))
    assert set(expected) == set(registry.departments)
    cells = {(d, m): (e, st, due) for d, m, e, st, due in rows(
        snap, "SELECT department, month, expected, status, deadline FROM analyst.timeliness")}
    assert len(cells) == len(rows(snap, "SELECT * FROM analyst.timeliness"))  # one row per department and month
    last = f"{DEMO_AS_OF:%Y-%m}"
    for department, first in expected.items():
        for month in _months(first, last) if first else []:
            assert cells[(department, month)][0], (department, month)
    sent = {d for (d,) in rows(snap, "SELECT DISTINCT department FROM ops.submission")}
    silent = [d for d, first in expected.items() if first and d not in sent]
    assert silent  # departments that never sent a file are there, month by month
    for department in silent:
        for month in _months(expected[department], last):
            year, mon = map(int, month.split("-"))
            due = dt.date(year + mon // 12, mon % 12 + 1, 10)  # scorecard.yaml: the 10th of the next month
            assert cells[(department, month)][1:] == ("missing" if DEMO_AS_OF > due else "pending", due)


def test_government_bodies_ranked_city_wide_within_their_level(snap):
    bodies = rows(snap, "SELECT as_of, level, evaluated_id, score, rank, stars_count, stars "
                        "FROM analyst.gov_ranking WHERE evaluated_type = 'body'")
    assert len({b[2] for b in bodies}) >= 4
    for as_of, level, _, score, rank, stars_count, stars in bodies:
        higher = sum(1 for a, lv, _, s, *_ in bodies if a == as_of and lv == level and s > score)
        assert rank == higher + 1 and stars_count == len(stars)
    assert len({b[1] for b in bodies if b[4] == 1}) == len({b[1] for b in bodies})  # not every body is rank 1
    assert any(b[4] > 1 for b in bodies)


def test_every_table_and_column_is_labelled(snap):
    total, labelled = rows(snap, """SELECT count(*), count(comment) FROM duckdb_columns()
                                    WHERE NOT internal AND database_name = current_database()""")[0]
    assert labelled / total >= 0.95
    assert rows(snap, "SELECT table_name, column_name FROM duckdb_columns() "
                      "WHERE schema_name = 'analyst' AND comment IS NULL") == []
    assert rows(snap, "SELECT view_name FROM duckdb_views() WHERE schema_name = 'analyst' AND comment IS NULL") == []
    assert rows(snap, "SELECT table_name FROM duckdb_tables() WHERE comment IS NULL") == []
    fine = rows(snap, "SELECT label, unit, contract_field, legal_basis, description FROM analyst.data_dictionary "
                      "WHERE table_name = 'admin_penalty' AND \"column\" = 'fine_amount_yuan'")
    assert fine[0][:3] == ("罚款金额", "元", "admin_penalty.fine_amount") and "行政处罚法" in fine[0][3]
    assert "万元" in fine[0][4]


def test_every_analyst_column_has_a_privacy_class(snap, registry):
    labels = catalog.load(registry)
    kinds = {k: {marts.field_column(c, labels)[0] for c in ct.columns} for k, ct in registry.contracts.items()}
    columns = rows(snap, "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'analyst'")
    privacy.check_analyst(columns, kinds)
    declared = {t.split(".", 1)[1] for t in privacy.declarations() if t.startswith("analyst.")}
    assert declared <= {t for t, _ in columns}  # no stale declaration
    with pytest.raises(privacy.Undeclared, match="analyst.record.new_column"):
        privacy.check_analyst([("record", "new_column")], kinds)
