import os
from pathlib import Path

import pytest
from hypothesis import settings

from bs_credit_pipeline.parsing import today_in_shanghai
from bs_credit_pipeline_tests.sharedkit import OneWorkerModules, build_once, longest_first

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
    """A home `bs-credit run` loaded with faultkit's inbox v1, built once per test run (read-only: tests take
    faultkit.loaded_copy)."""
    from bs_credit_pipeline.paths import Home
    from bs_credit_pipeline_tests import faultkit

    def build(folder: Path) -> None:
        home = Home(folder / "home")
        faultkit.inbox_v1(home)
        result = faultkit.run(home)
        assert result.returncode == 0, result.stderr[-2000:]

    return Home(build_once(tmp_path_factory, "loaded", build) / "home")


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
    """`bs-credit demo --as-of DEMO_AS_OF` run once per test run (nightly jobs a year back, so the snapshot has
    list history); read-only: tests that change it take a copy. Its first users wait for it: modules using it
    allow DEMO_TIMEOUT seconds per test."""
    from bs_credit_pipeline import cli
    from bs_credit_pipeline.paths import Home

    def build(folder: Path) -> None:
        assert cli.main(["demo", "--home", str(folder / "home"), "--as-of", DEMO_AS_OF.isoformat()]) == 0

    return Home(build_once(tmp_path_factory, "demo", build) / "home")


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


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory):
    """One local[2] SparkSession for the whole test session (engines/spark.session), set for tiny data: on the demo
    most of Spark's CPU goes to compiling code, not running it. Without whole-stage code generation and with the
    JVM's quick C1 compiler only, two list builds on the demo lake took 91 instead of 139 JVM CPU s (127 instead of
    295 s wall, load 12)."""
    from bs_credit_pipeline.engines import spark as engine

    tiny = {"spark.sql.codegen.wholeStage": "false",
            "spark.driver.extraJavaOptions": engine.SPARK_CONF["spark.driver.extraJavaOptions"]
            + " -XX:TieredStopAtLevel=1"}
    spark = engine.session("local[2]", tmp_path_factory.mktemp("spark"), conf=tiny)
    yield spark
    spark.stop()


# Scheduling on the suite's xdist workers (sharedkit). Modules whose tests share one expensive module fixture run
# on one worker: the scenario suite's home (intake, load and ~80 nightly builds) and the Spark equality tests
# (one JVM, one session, one demo lake).
ONE_WORKER_MODULES = frozenset({"test_scenarios.py", "test_spark_equality.py"})
# The longest tests (node id prefixes, longest first, from `--durations`): started first, so that the two workers
# run them side by side and finish together. The first demo_home user builds the demo.
LONGEST = [
    "bs_credit_pipeline_tests/test_spark_equality.py::",
    "bs_credit_pipeline_tests/test_privacy.py::test_demo_leaks_no_name_or_id",
    "bs_credit_pipeline_tests/test_kill.py::test_a_first_load_killed",
    "bs_credit_pipeline_tests/test_kill.py::test_a_resubmission_killed",
    "bs_credit_pipeline_tests/test_run.py::test_run_loads_good_files_next_to_a_corrupt_one",
    "bs_credit_pipeline_tests/test_privacy.py::test_persons_in_every_role_leak_nothing",
    "bs_credit_pipeline_tests/test_daemon.py::",
    "bs_credit_pipeline_tests/test_synonyms_reach_the_lists.py::",
    "bs_credit_pipeline_tests/test_stop.py::",
    "bs_credit_pipeline_tests/test_privacy.py::",
    "bs_credit_pipeline_tests/test_arrival.py::",
    "bs_credit_pipeline_tests/test_warehouse_snapshot.py::test_reader_keeps_reading_across_snapshot_builds",
    "bs_credit_pipeline_tests/test_warehouse_crash.py::",
    "bs_credit_pipeline_tests/test_locking.py::",
    "bs_credit_pipeline_tests/test_injection.py::",
    "bs_credit_pipeline_tests/test_state_files.py::",
    "bs_credit_pipeline_tests/test_dagster.py::",
    "bs_credit_pipeline_tests/test_demo.py::",
]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    reason = spark_missing()
    if reason:
        for item in items:
            if "spark" in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))
    longest_first(items, LONGEST)


@pytest.hookimpl(optionalhook=True)  # -p no:xdist: no such hook
def pytest_xdist_make_scheduler(config, log):
    """`-n N` (`--dist load`, as `make test` runs) schedules with sharedkit.OneWorkerModules; other modes as xdist
    does."""
    if config.getvalue("dist") == "load":
        return OneWorkerModules(config, log, modules=ONE_WORKER_MODULES)
    return None
