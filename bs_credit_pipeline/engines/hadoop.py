"""The lake's file operations on an object-store URI (s3a://, hdfs://, abfs[s]://, gs://, viewfs://, wasbs://;
file:// too) through Hadoop's FileSystem in the Spark driver's JVM, with the session's Hadoop configuration (the
cluster's spark.hadoop.* settings: endpoints, credentials providers). The same operations as lake/files.LocalFiles.

Needs a classic Spark session (py4j gateway to the driver JVM); a Spark Connect client has none, which is why the
configuration check refuses sc:// masters with an object-store lake (lake/layout.lake_root).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from ..lake.files import SCRATCH, Scratch


class HadoopFiles:
    """The lake at a URI, through org.apache.hadoop.fs.FileSystem."""

    def __init__(self, spark, root: str):
        self.root = root.rstrip("/")
        context = spark.sparkContext
        self._jvm = context._jvm  # noqa: SLF001 - py4j access to the driver JVM is pyspark's documented way
        self._fs = self._jvm.org.apache.hadoop.fs.Path(self.root).getFileSystem(
            context._jsc.hadoopConfiguration())  # noqa: SLF001

    def uri(self, rel: str = "") -> str:
        return f"{self.root}/{rel}" if rel else self.root

    def _path(self, rel: str):
        return self._jvm.org.apache.hadoop.fs.Path(self.uri(rel))

    def exists(self, rel: str) -> bool:
        return bool(self._fs.exists(self._path(rel)))

    def read_text(self, rel: str) -> str:
        stream = self._fs.open(self._path(rel))
        try:
            return self._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
        finally:
            stream.close()

    def write_text(self, rel: str, text: str) -> None:
        out = self._fs.create(self._path(rel), True)
        try:
            out.write(bytearray(text.encode("utf-8")))
        finally:
            out.close()

    def folders(self, rel: str) -> list[str]:
        path = self._path(rel)
        if not self._fs.exists(path):
            return []
        return sorted(s.getPath().getName() for s in self._fs.listStatus(path) if s.isDirectory())

    def delete(self, rel: str) -> None:
        self._fs.delete(self._path(rel), True)

    def _rename(self, src, dst) -> None:
        self._fs.mkdirs(dst.getParent())
        if not self._fs.rename(src, dst):
            raise OSError(f"lake rename {src.toString()} -> {dst.toString()} failed")

    def swap(self, src: str, dst: str) -> None:
        """Put lake folder `src` at `dst`, replacing what is there; a missing `src` removes `dst`."""
        source, target = self._path(src), self._path(dst)
        old = self._path(f"{SCRATCH}/old-{uuid.uuid4().hex}")
        if self._fs.exists(target):
            self._rename(target, old)
        if self._fs.exists(source):
            self._rename(source, target)
        self._fs.delete(old, True)

    @contextmanager
    def scratch(self):
        """A Scratch: a lake folder under .scratch and a local temporary folder (TMPDIR) for DuckDB's output,
        both removed afterwards."""
        rel = f"{SCRATCH}/{uuid.uuid4().hex}"
        local = Path(tempfile.mkdtemp(prefix="bs-credit-lake-"))
        try:
            yield Scratch(rel, local)
        finally:
            self._fs.delete(self._path(rel), True)
            shutil.rmtree(local, ignore_errors=True)

    def upload(self, scratch: Scratch, sub: str) -> None:
        """Copy the local folder scratch.local/sub to the lake folder scratch.rel/sub (the local copy is deleted)."""
        source = self._jvm.org.apache.hadoop.fs.Path((scratch.local / sub).resolve().as_uri())
        self._fs.copyFromLocalFile(True, True, source, self._path(f"{scratch.rel}/{sub}"))

    @contextmanager
    def local(self, rel: str):
        """A local copy (TMPDIR) of the lake folder `rel`, removed afterwards."""
        local = Path(tempfile.mkdtemp(prefix="bs-credit-lake-"))
        try:
            target = local / Path(rel).name
            destination = self._jvm.org.apache.hadoop.fs.Path(target.as_uri())
            self._fs.copyToLocalFile(False, self._path(rel), destination, True)  # raw local FS: no .crc files
            yield target
        finally:
            shutil.rmtree(local, ignore_errors=True)
