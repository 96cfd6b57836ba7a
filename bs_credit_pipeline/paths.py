"""Where the pipeline keeps its files: everything lives under BS_CREDIT_HOME (default ./var)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

MONTH_RE = re.compile(r"^(20\d{2})-(0[1-9]|1[0-2])$")
# Everything the pipeline writes is owner-only (umask 077): raw submissions, staging, reports, the warehouse, the
# Dagster instance. The home itself is 0750 and analytics.duckdb 0640, so the analysts' group can open the
# pseudonymised snapshot and nothing else (docs/PRIVACY.md).
UMASK = 0o077
HOME_MODE, PRIVATE_MODE, SNAPSHOT_MODE = 0o750, 0o700, 0o640


def owner_only_files() -> None:
    """Make every file and folder this process creates owner-only (the entry points call this first)."""
    os.umask(UMASK)
INBOX_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".xlsb", ".ods")


@dataclass(frozen=True)
class Home:
    """The directory layout under BS_CREDIT_HOME."""

    root: Path

    @classmethod
    def from_env(cls, override: str | os.PathLike | None = None) -> "Home":
        root = Path(override or os.environ.get("BS_CREDIT_HOME") or "var").resolve()
        return cls(root)

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def staging(self) -> Path:
        return self.root / "staging"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def analytics(self) -> Path:
        return self.root / "analytics.duckdb"

    @property
    def publish(self) -> Path:
        return self.root / "publish"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    def partition_staging(self, department: str, month: str) -> Path:
        return self.staging / department / month

    def partition_outbox(self, department: str, month: str) -> Path:
        return self.outbox / department / month

    def ensure(self) -> "Home":
        """Create the layout; the home 0750, every folder in it owner-only (also an existing home's)."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(HOME_MODE)
        for p in (self.inbox, self.outbox, self.staging, self.publish, self.dagster_home, self.secrets):
            p.mkdir(exist_ok=True)
            p.chmod(PRIVATE_MODE)
        for p in (self.warehouse, self.warehouse.with_name(self.warehouse.name + ".wal")):
            if p.exists():
                p.chmod(0o600)
        return self


def inbox_files(folder: Path) -> list[Path]:
    """Submitted files in one inbox folder, sorted by name; temporary Office lock files (~$x.xlsx) excluded."""
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in INBOX_SUFFIXES and not p.name.startswith(("~$", "."))
    )
