"""The lake's file operations, on a local or mounted folder (LocalFiles, here) or on an object-store URI through
Hadoop's FileSystem in the Spark JVM (engines/hadoop.HadoopFiles): the same few operations, on paths relative to
the lake root ("core/credit_record/department=fy/month=2026-10").

Replacing a folder is `swap`: the new folder, finished under <lake>/.scratch, is renamed into place and the old one
removed afterwards. On a local file system, HDFS and ABFS (hierarchical namespace) a rename is atomic, so a reader
sees the old or the new folder; on S3 and GCS a folder rename is a copy and delete, not atomic.
"""

from __future__ import annotations

import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCRATCH = ".scratch"


def is_uri(root: Path | str) -> bool:
    """Whether a lake root is a URI (scheme://...) rather than a local path."""
    return isinstance(root, str) and "://" in root


def lake_files(root: Path | str, spark=None):
    """The file operations of the lake at `root`: a local path (LocalFiles), or a URI (HadoopFiles: needs the
    Spark session whose JVM holds Hadoop's FileSystem and the cluster's file-system settings)."""
    if not is_uri(root):
        return LocalFiles(Path(root))
    if spark is None:
        raise ValueError(f"the lake {root} is a URI: its files are reached through a Spark session")
    from ..engines.hadoop import HadoopFiles

    return HadoopFiles(spark, root)


@dataclass(frozen=True)
class Scratch:
    """A fresh lake folder `rel` (under .scratch) and the local folder `local` whose sub-folders `upload` puts
    there (the same folder on a local lake)."""

    rel: str
    local: Path


class LocalFiles:
    """The lake's file operations on a local or mounted folder."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, rel: str) -> Path:
        return self.root / rel if rel else self.root

    def uri(self, rel: str = "") -> str:
        return str(self._path(rel))

    def exists(self, rel: str) -> bool:
        return self._path(rel).exists()

    def read_text(self, rel: str) -> str:
        return self._path(rel).read_text(encoding="utf-8")

    def write_text(self, rel: str, text: str) -> None:
        path = self._path(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def folders(self, rel: str) -> list[str]:
        """The names of the sub-folders of `rel`, sorted ([] when it does not exist)."""
        path = self._path(rel)
        return sorted(p.name for p in path.iterdir() if p.is_dir()) if path.is_dir() else []

    def delete(self, rel: str) -> None:
        """Remove a file or folder (with its content); nothing when missing."""
        path = self._path(rel)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)

    def swap(self, src: str, dst: str) -> None:
        """Put lake folder `src` at `dst`, replacing what is there; a missing `src` removes `dst`."""
        source, target = self._path(src), self._path(dst)
        old = self._path(f"{SCRATCH}/old-{uuid.uuid4().hex}")
        if target.exists():
            old.parent.mkdir(parents=True, exist_ok=True)
            target.rename(old)
        if source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            source.rename(target)
        shutil.rmtree(old, ignore_errors=True)

    @contextmanager
    def scratch(self):
        """A Scratch inside the lake (same file system: renames out of it are atomic), removed afterwards."""
        rel = f"{SCRATCH}/{uuid.uuid4().hex}"
        local = self._path(rel)
        local.mkdir(parents=True)
        try:
            yield Scratch(rel, local)
        finally:
            shutil.rmtree(local, ignore_errors=True)

    def upload(self, scratch: Scratch, sub: str) -> None:
        """Nothing to do: a local lake's scratch is written in place."""

    @contextmanager
    def local(self, rel: str):
        """The lake folder `rel` as a local folder: itself."""
        yield self._path(rel)
