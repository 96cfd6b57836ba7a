import os
from pathlib import Path

import pytest
from hypothesis import settings

from bs_credit_pipeline.parsing import today_in_shanghai

# CI explores the same examples on every run (a red CI is then reproducible); local runs keep exploring.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The shared bad-input spreadsheet corpus (../shared/corpus/spreadsheets beside the repo). Missing, its tests
    are skipped on a developer's machine and fail under CI (CI=true), where they must run."""
    path = (REPO_ROOT / ".." / "shared" / "corpus" / "spreadsheets").resolve()
    if not path.is_dir():
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"corpus not found at {path}: CI must run the corpus tests", pytrace=False)
        pytest.skip(f"corpus not found at {path}")
    return path


@pytest.fixture(scope="session")
def loaded_home(tmp_path_factory):
    """A home `bs-credit run` loaded with faultkit's inbox v1 (read-only: tests take faultkit.loaded_copy)."""
    from bs_credit_pipeline.paths import Home
    from bs_credit_pipeline_tests import faultkit

    home = Home(tmp_path_factory.mktemp("loaded") / "home")
    faultkit.inbox_v1(home)
    result = faultkit.run(home)
    assert result.returncode == 0, result.stderr[-2000:]
    return home


@pytest.fixture
def world():
    """The hand-built fixture world of the list tests (lists_world), in memory."""
    import lists_world

    conn = lists_world.connect()
    lists_world.populate(conn)
    yield conn
    conn.close()


@pytest.fixture
def status_conn(tmp_path):
    """A migrated warehouse with an empty mart.record_status, for tests that write record statuses by hand."""
    import lists_world

    conn = lists_world.connect(tmp_path / "w.duckdb")
    conn.execute(lists_world.RECORD_STATUS_DDL)
    yield conn
    conn.close()


# The demo as of today (its files are received now: an earlier as-of would see none of them as delivered).
DEMO_AS_OF = today_in_shanghai()


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory):
    """`bs-credit demo --as-of DEMO_AS_OF` run once per session (nightly jobs a year back, so the snapshot has
    list history); read-only: tests that change it take a copy. Its first user waits for it: modules using it
    allow DEMO_TIMEOUT seconds per test."""
    from bs_credit_pipeline import cli
    from bs_credit_pipeline.paths import Home

    home = Home(tmp_path_factory.mktemp("demo") / "home")
    assert cli.main(["demo", "--home", str(home.root), "--as-of", DEMO_AS_OF.isoformat()]) == 0
    return home


DEMO_TIMEOUT = 900  # the demo runs the nightly job twice and the list build thrice: minutes on a loaded machine


def spark_missing() -> str | None:
    """Why the Spark tests cannot run here (no Java runtime, or no pyspark), else None."""
    import importlib.util
    import shutil

    if shutil.which("java") is None:
        return "Spark tests skipped: no Java runtime (install Debian's openjdk-17-jre-headless; .ci/run does)"
    if importlib.util.find_spec("pyspark") is None:
        return "Spark tests skipped: pyspark not installed (pip install -c requirements.lock -e '.[spark]')"
    return None


def pytest_collection_modifyitems(config, items):
    reason = spark_missing()
    if reason:
        for item in items:
            if "spark" in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory):
    """One local[2] SparkSession for the whole test session (engines/spark.session)."""
    from bs_credit_pipeline.engines import spark as engine

    spark = engine.session("local[2]", tmp_path_factory.mktemp("spark"))
    yield spark
    spark.stop()
