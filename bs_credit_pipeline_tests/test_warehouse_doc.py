"""docs/WAREHOUSE.md runs: every SQL block returns rows on the demo snapshot, the ten questions use no JSON
function, and the Python example works."""

from __future__ import annotations

import re

import duckdb
import pytest

from conftest import DEMO_TIMEOUT, REPO_ROOT

pytestmark = pytest.mark.timeout(DEMO_TIMEOUT)
DOC = (REPO_ROOT / "docs" / "WAREHOUSE.md").read_text(encoding="utf-8")
SQL = re.findall(r"```sql\n(.*?)```", DOC, flags=re.S)
QUESTIONS = DOC[DOC.index("### Ten questions"):DOC.index("### Connecting")]


@pytest.fixture(scope="module")
def snap(demo_home):
    conn = duckdb.connect(str(demo_home.analytics), read_only=True)
    yield conn
    conn.close()


def test_the_doc_has_the_ten_questions_without_json():
    questions = re.findall(r"```sql\n(.*?)```", QUESTIONS, flags=re.S)
    assert len(questions) == 10
    for sql in questions:
        assert not re.search(r"json|->|payload|unnest", sql, flags=re.I), sql
        assert "FROM analyst." in sql


@pytest.mark.parametrize("sql", SQL, ids=[s.strip().splitlines()[0][:60] for s in SQL])
def test_every_sql_block_returns_rows(snap, sql):
    assert snap.execute(sql).fetchall(), sql


def test_the_python_example_runs(demo_home):
    code = re.search(r"```python\n(.*?)```", DOC, flags=re.S).group(1)
    code = "\n".join(line.removeprefix("  ") for line in code.splitlines())
    scope = {}
    exec(code.replace("var/analytics.duckdb", str(demo_home.analytics)), scope)  # noqa: S102 - the doc's own code
    assert len(scope["fines"]) > 0
    scope["con"].close()
