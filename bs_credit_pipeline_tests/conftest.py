from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The shared bad-input spreadsheet corpus (../shared/corpus/spreadsheets beside the repo)."""
    path = (REPO_ROOT / ".." / "shared" / "corpus" / "spreadsheets").resolve()
    if not path.is_dir():
        pytest.skip(f"corpus not found at {path}")
    return path
