"""Test-run plumbing for the suite's two xdist workers: read-only fixtures built once per run, and the scheduler
that keeps a module with an expensive module fixture on one worker and starts the longest tests first.

Session fixtures are per worker under xdist, so a home built in a session fixture was built by both workers.
`build_once` builds it in a folder of the run shared by the workers (the parent of the workers' base temp
folders, keyed by the run's id), under a file lock: the first worker to need it builds it, the other waits for
it and uses the same folder. Such a fixture is read-only: a test that changes it works on a copy.

pytest-xdist 3.8's `--dist loadgroup` does not group under pytest 9.2 (it renames items through the legacy
`_nodeid`, which pytest 9.2's structured node ids ignore: pytest-xdist issue 1386), so the grouping is done by
the scheduler here, from node ids alone (the controller does not collect).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
from xdist.scheduler import LoadScopeScheduling


def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this test run shared by its xdist workers (without xdist: this process's base temp folder)."""
    base = tmp_path_factory.getbasetemp()
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not run_id:
        return base
    folder = base.parent / f"shared-{run_id}"
    folder.mkdir(exist_ok=True)
    return folder


def build_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """The folder `name` of the run, built by `build(folder)` in the first worker that asks for it; the others
    wait for the build and get the same folder. A failed build fails every worker's users with its error (it is
    not run again)."""
    shared = run_folder(tmp_path_factory)
    folder, failed, done = shared / name, shared / f"{name}.failed", shared / f"{name}.done"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed, also if this worker dies
        try:
            if failed.exists():
                pytest.fail(f"building the shared {name} failed in another worker:\n{failed.read_text()}",
                            pytrace=False)
            if not done.exists():
                if folder.exists():  # a build interrupted with its worker
                    shutil.rmtree(folder)
                folder.mkdir()
                try:
                    with _environment_restored():
                        build(folder)
                except BaseException:
                    failed.write_text(traceback.format_exc()[-4000:], encoding="utf-8")
                    raise
                done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return folder


@contextlib.contextmanager
def _environment_restored():
    """A build may set variables (the CLI sets BS_CREDIT_HOME, DAGSTER_HOME): only the building worker would
    see them, so no worker does."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class OneWorkerModules(LoadScopeScheduling):
    """`--dist load` with the tests of the named modules as one unit of work (their module fixture is then built
    by one worker), every other test a unit of its own. xdist sends the largest unit first, then the others in
    collection order, each to whichever worker is nearly out of work."""

    def __init__(self, config: pytest.Config, log=None, *, modules: frozenset[str]):
        super().__init__(config, log)
        self.modules = modules

    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.split("::", 1)[0]
        return module if module.rsplit("/", 1)[-1] in self.modules else nodeid


def longest_first(items: list[pytest.Item], longest: list[str]) -> None:
    """Reorder items in place: those whose node id starts with an entry of `longest` first, in that order; the
    rest keep their order. On two workers the long tests then run side by side instead of one at the end."""
    def rank(item: pytest.Item) -> int:
        return next((i for i, prefix in enumerate(longest) if item.nodeid.startswith(prefix)), len(longest))

    items.sort(key=rank)  # stable
