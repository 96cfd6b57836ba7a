"""What intake wrote for one (department, month) partition: staged files and their manifests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class StagedFile:
    """One received file in staging; the Parquet paths are None when intake wrote no such file."""

    manifest_path: Path
    rows: Path | None
    rejections: Path | None
    rejected: Path | None

    @classmethod
    def from_manifest(cls, manifest_path: str | Path) -> StagedFile:
        manifest_path = Path(manifest_path)
        stem = manifest_path.name.removesuffix(".manifest.json")
        folder = manifest_path.parent

        def present(suffix: str) -> Path | None:
            path = folder / f"{stem}{suffix}"
            return path if path.exists() else None

        return cls(manifest_path, present(".parquet"), present(".rejections.parquet"), present(".rejected.parquet"))

    @cached_property
    def manifest(self) -> dict:
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))

    @property
    def sha256(self) -> str:
        return self.manifest["sha256"]

    @property
    def purged(self) -> bool:
        """Its raw copies were removed by retention (retention.py): its records stay as loaded, frozen."""
        return bool(self.manifest.get("purged_at"))

    @property
    def kind(self) -> str | None:
        return self.manifest.get("kind")

    def row_columns(self) -> list[str]:
        """Column names of the valid-rows Parquet (empty when there is none)."""
        if not self.rows:
            return []
        described = duckdb.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(self.rows)]).fetchall()
        return [name for name, *_ in described]


def staged_files(staging_dir: str | Path, department: str, month: str) -> list[StagedFile]:
    """Every file intake staged for the partition, ordered by manifest file name."""
    folder = Path(staging_dir) / department / month
    return [StagedFile.from_manifest(p) for p in sorted(folder.glob("*.manifest.json"))]
