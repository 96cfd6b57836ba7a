"""The pipeline's stages as plain functions. The Dagster assets and the `bs-credit` commands both call these."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from . import arrival, config, lists, publish
from .atomic import atomic_write_text
from .contracts import Registry
from .identifiers import pseudonym_key_from_env
from .intake import Intake, IntakeResult, department_key, file_sha256
from .lists import feedback, gov_integrity, points, scorecard
from .locking import writer_lock
from .paths import MONTH_RE, Home, inbox_files
from .warehouse import privacy, schema
from .warehouse.load import LoadResult, load_partition, submission_id
from .warehouse.snapshot import SnapshotInfo, build_snapshot
from .warehouse.staged import StagedFile, staged_files

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboxFolder:
    """Files of one inbox/<department>/<YYYY-MM> folder; department is the registry code when known."""

    department: str | None
    folder_name: str
    month: str
    files: tuple[Path, ...]

    @property
    def valid(self) -> bool:
        return self.department is not None and bool(MONTH_RE.match(self.month))


def scan_inbox(home: Home, registry: Registry) -> list[InboxFolder]:
    """Every inbox folder with files. A department folder may be named by code, Chinese name or alias."""
    found: dict[tuple, list[Path]] = {}
    if not home.inbox.is_dir():
        return []
    for dept_dir in sorted(p for p in home.inbox.iterdir() if p.is_dir()):
        dept = registry.department_for_folder(dept_dir.name)
        for month_dir in sorted(p for p in dept_dir.iterdir() if p.is_dir()):
            files = inbox_files(month_dir)
            if files:
                key = (dept.code if dept else None, dept_dir.name if dept is None else dept.code, month_dir.name)
                found.setdefault(key, []).extend(files)
    return [InboxFolder(code, name, month, tuple(sorted(files))) for (code, name, month), files in sorted(
        found.items(), key=lambda kv: (kv[0][1], kv[0][2]))]


def fingerprint_of(file_hashes) -> str:
    """Content hash of a partition's files from their sha256 values: changes when a file is added, removed or
    corrected (loaded.py)."""
    h = hashlib.sha256()
    for sha in sorted(file_hashes):
        h.update(sha.encode())
    return h.hexdigest()[:16]


def intake_partition(home: Home, registry: Registry, folder: InboxFolder, *, today: dt.date | None = None,
                     intake: Intake | None = None, seen: dt.datetime | None = None) -> list[IntakeResult]:
    """Intake every file of the folder whose content is not staged yet; drop staged files no longer in the inbox.

    The partition's staged state then equals its inbox: a corrected resubmission replaces the old file's rows.
    `seen`: when the pipeline first saw the folder's files (arrival.py: each file's received_at).
    """
    intake = intake or Intake(registry, home)
    department = folder.department or folder.folder_name
    staging = home.partition_staging(department_key(registry, department), folder.month)
    results, current = [], set()
    recorded = None
    for path in folder.files:
        sha = file_sha256(path)
        current.add(sha)
        if _staged_intact(staging, sha):
            continue
        if recorded is None:
            recorded = (arrival.recorded_arrivals(home, department_key(registry, department), folder.month)
                        if MONTH_RE.match(folder.month) else {})
        received = arrival.received_at(path, seen=seen, recorded=recorded.get(sha))
        results.append(intake.run(path, department=department, month=folder.month, today=today, sha256=sha,
                                  received_at=received))
    if staging.is_dir():
        for manifest in staging.glob("*.manifest.json"):
            sha = manifest.name.removesuffix(".manifest.json")
            if sha not in current and not StagedFile.from_manifest(manifest).purged:  # purged: kept, frozen
                for f in staging.glob(f"{sha}.*"):
                    f.unlink()
                log.info("staged file %s of %s/%s no longer in the inbox: removed", sha[:12], department, folder.month)
    return results


def _staged_intact(staging: Path, sha: str) -> bool:
    """Whether the file is staged: its manifest exists and parses. A torn or corrupt manifest (a crash or a full
    disk before manifests were written atomically) is removed with its staged files, so the file is taken in again
    from the inbox, the source of truth."""
    manifest = staging / f"{sha}.manifest.json"
    if not manifest.exists():
        return False
    try:
        if json.loads(manifest.read_text(encoding="utf-8")).get("sha256") == sha:
            return True
    except (ValueError, UnicodeDecodeError):
        pass
    log.warning("staged manifest %s is unreadable: its file is taken in again from the inbox", manifest)
    for f in staging.glob(f"{sha}.*"):
        f.unlink()
    return False


def promote_map(registry: Registry) -> dict[str, dict[str, str]]:
    """kind -> {warehouse column: staging column} from each contract's `promote` and legal representative."""
    out = {}
    for kind, c in registry.contracts.items():
        m = dict(c.promote)
        if c.subject.legal_rep_name:
            m.setdefault("legal_rep_name", c.subject.legal_rep_name)
        if c.subject.legal_rep_id:
            m.setdefault("legal_rep_id", c.subject.legal_rep_id)
        out[kind] = m
    return out


def sensitive_columns(registry: Registry) -> list[str]:
    """Contract columns holding identifiers or personal data: ops.rejected_row keeps their values' shape only."""
    return privacy.sensitive_fields(registry.contracts)


def repair_targets(registry: Registry) -> dict[str, tuple[str, str]]:
    """Repair/objection target kinds (Chinese title or id) -> (kind, the natural-key column naming the record)."""
    out = {}
    for kind, c in registry.contracts.items():
        key = next((k for k in c.natural_key if k not in ("subject_id",)), None)
        if key:
            out[c.title] = (kind, key)
            out[kind] = (kind, key)
    return out


def load_into_warehouse(home: Home, registry: Registry, department: str, month: str,
                        now: dt.datetime | None = None) -> LoadResult:
    """Load one partition's staged files into the warehouse (one transaction, under the home's writer lock)."""
    with writer_lock(home.root):
        conn = schema.connect(home.warehouse)
        try:
            schema.migrate(conn)
            return load_partition(conn, department=department, month=month,
                                  staged=staged_files(home.staging, department, month),
                                  now=now or dt.datetime.now(dt.timezone.utc),
                                  promote=promote_map(registry), targets=repair_targets(registry),
                                  sensitive=sensitive_columns(registry))
        finally:
            conn.close()


def pseudonym_key(home: Home, *, create: bool = False) -> bytes:
    """The snapshot's pseudonym key: BS_CREDIT_PSEUDONYM_KEY, else the file named by BS_CREDIT_PSEUDONYM_KEY_FILE.

    With create=True (the demo) a random key is written to <home>/secrets/pseudonym.key, outside every database.
    """
    if os.environ.get("BS_CREDIT_PSEUDONYM_KEY"):
        return pseudonym_key_from_env()
    key_file = config.key_file(home)
    if create:
        write_new_key(key_file)
    if key_file.exists():
        return key_file.read_text().strip().encode()
    return pseudonym_key_from_env()  # raises with the explanation of how to set it


def write_new_key(path: Path) -> bool:
    """A random 256-bit key (hex) in `path`, mode 600 from the start, unless the file exists; True if written."""
    if path.exists():
        return False
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    atomic_write_text(path, secrets.token_hex(32), mode=0o600)
    return True


@dataclass
class NightlyResult:
    as_of: dt.date
    list_counts: dict[str, int]
    publish_manifest: dict
    snapshot: SnapshotInfo | None
    raw_id_findings: list = field(default_factory=list)


EVALUATIONS = (points, gov_integrity, scorecard)  # each: build(conn, as_of, its own rules), rules file = module name
EVALUATION_TABLES = ("integrity_score", "gov_integrity", "gov_warning", "department_scorecard")


def build_lists(home: Home, as_of: dt.date) -> dict[str, int]:
    """Bring every mart table to `as_of` (one transaction), then finish_lists."""
    rules = lists.load_rules()
    with writer_lock(home.root):
        conn = schema.connect(home.warehouse)
        try:
            schema.migrate(conn)
            counts = lists.build_all(conn, as_of, rules, extra_steps=evaluation_steps())
            return {**counts, **finish_lists(conn, home, as_of, rules, EVALUATION_TABLES)}
        finally:
            conn.close()


def finish_lists(conn, home: Home, as_of: dt.date, rules: dict, tables) -> dict[str, int]:
    """What follows a list build on either engine, on the warehouse connection: tell each department that
    submitted repair decisions how each was decided (outbox/<department>/<month>/信用修复处理结果.csv);
    returns the row count as of `as_of` of each mart table of `tables`."""
    feedback.write_feedback(conn, home.outbox, rules["repairs"], purged_submissions(home))
    return {t: conn.execute(f"SELECT count(*) FROM mart.{t} WHERE as_of = ?", [as_of]).fetchone()[0]
            for t in tables}


def purged_submissions(home: Home) -> frozenset[str]:
    """Submission ids whose raw copies retention purged (their manifests say so)."""
    out = set()
    for manifest_path in home.staging.glob("*/*/*.manifest.json"):
        staged = StagedFile.from_manifest(manifest_path)
        if staged.purged:
            out.add(submission_id(manifest_path.parent.parent.name, manifest_path.parent.name, staged.sha256))
    return frozenset(out)


def evaluation_step(module):
    """A build_all step running `module.build` with its own rule file."""
    name = module.__name__.rsplit(".", 1)[-1]

    def step(conn, as_of: dt.date, rules: dict) -> None:
        module.build(conn, as_of, rules[name])

    step.__name__ = name
    return step


def evaluation_steps() -> list:
    """The build_all steps after the lists: points, government integrity, scorecard (EVALUATIONS)."""
    return [evaluation_step(module) for module in EVALUATIONS]


def publish_lists(home: Home, as_of: dt.date) -> dict:
    """Masked public exports for 信用保山 and the provincial exchange file under publish/<as-of>/."""
    with writer_lock(home.root):  # a consistent read: no load or list build in between
        conn = schema.connect(home.warehouse, read_only=True)
        try:
            return publish.publish(conn, as_of, home.publish, lists.load_rules()["masking"])
        finally:
            conn.close()


def snapshot(home: Home, key: bytes) -> SnapshotInfo:
    """Rebuild analytics.duckdb (pseudonymised) as a new file and swap it in atomically."""
    with writer_lock(home.root):
        for stale in home.analytics.parent.glob(f".{home.analytics.name}.*.tmp*"):  # a build killed before its swap
            stale.unlink()
        return build_snapshot(home.warehouse, home.analytics, key)
