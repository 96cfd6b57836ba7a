"""No natural person's name or ID leaves the warehouse unmasked: snapshot, Dagster storage, logs, exports.

Each world is run end to end through `bs-credit` (intake → warehouse → lists → publish → snapshot, Dagster in
process); every person's name and ID the warehouse holds is then looked for everywhere outside it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import stat

import duckdb
import pytest

from bs_credit_pipeline import cli
from bs_credit_pipeline.contracts import Registry
from bs_credit_pipeline.demo import _penalty, _rows_to_cells, _write_csv, make_uscc, make_world, write_demo_inbox
from bs_credit_pipeline.paths import Home
from bs_credit_pipeline.pipeline import load_into_warehouse
from bs_credit_pipeline.publish import scan_for_raw_ids
from bs_credit_pipeline.retention import RETENTION_VAR
from bs_credit_pipeline.warehouse import leaks, privacy, schema
from bs_credit_pipeline.warehouse.snapshot import build_snapshot
from conftest import DEMO_AS_OF, DEMO_TIMEOUT

AS_OF = DEMO_AS_OF  # the session's demo_home fixture (conftest) runs the demo as of it
pytestmark = pytest.mark.timeout(DEMO_TIMEOUT)
KEY = "privacy-test-key-0123456789abcdef"
RAW_BY_DESIGN = ("inbox", "staging", "outbox", "secrets", "publish")  # scanned separately or raw on purpose


def _needles(home: Home) -> leaks.Needles:
    conn = schema.connect(home.warehouse, read_only=True)
    try:
        return leaks.collect(conn)
    finally:
        conn.close()


def _outside_warehouse(home: Home, needles: leaks.Needles, log_text: str) -> list:
    """Findings in the snapshot, in every other file of the home (Dagster storage, logs) and in the run's log."""
    found = leaks.scan_database(home.analytics, needles)
    for entry in sorted(home.root.iterdir()):
        if entry.name not in RAW_BY_DESIGN and not entry.name.startswith(
                ("warehouse.duckdb", ".warehouse.duckdb", "analytics.duckdb")):
            found += leaks.scan_files(entry, needles)
    hits = len(needles.pattern().findall(log_text))
    return found + ([leaks.Finding("log", hits)] if hits else [])


def _assert_private(home: Home, needles: leaks.Needles, log_text: str) -> None:
    assert len(needles.names) > 10 and len(needles.ids) > 5
    # the scanner can find what it looks for: the warehouse holds every name and ID
    inside = {f.where for f in leaks.scan_database(home.warehouse, needles)}
    assert {"core.subject.canonical_name", "core.credit_record.legal_rep_name", "core.credit_record.payload",
            "core.subject.subject_id"} <= inside
    assert _outside_warehouse(home, needles, log_text) == []
    published = home.publish / AS_OF.isoformat()
    assert any(published.iterdir())
    assert scan_for_raw_ids([published]) == []
    id_only = leaks.Needles(frozenset(), needles.ids, starred=False)  # the masking rule shows 6 + 4 there
    assert leaks.scan_files(published, id_only) == []


def test_demo_leaks_no_name_or_id(demo_home, caplog):
    _assert_private(demo_home, _needles(demo_home), "")


def _persons_in_every_role(inbox, registry: Registry, today: dt.date) -> None:
    """The demo plus persons as a penalty's subject (15-digit ID, stored as 18 digits and kept as written; named
    in the facts), by passport, as legal representative with an ID, as repair and objection applicant."""
    write_demo_inbox(inbox, registry, today)
    world = make_world(7)
    rng = __import__("numpy").random.default_rng(7)
    c, month = registry.contracts, (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    decided = today.replace(day=1) - dt.timedelta(days=20)
    scjgj = registry.departments["scjgj"]
    common = dict(dept_name=scjgj.name, dept_uscc=make_uscc(rng, prefix="11", division="530500"), domain="食品药品")
    first_gen = _penalty(world, rng, 1, decided, person=True, **common)
    pid = first_gen["id_number"]
    first_gen.update(id_number=pid[:6] + pid[8:17],
                     violation_facts=f"当事人{first_gen['subject_name']}（公民身份号码{pid}）销售过期食品。")
    passport = _penalty(world, rng, 2, decided, person=True, **common)
    passport.update(id_type="护照号", id_number="E12345678")
    org = _penalty(world, rng, 3, decided, **common)
    org.update(legal_rep_id_type="身份证", legal_rep_id_number=world.orgs[3]["rep"]["id"],
               violation_facts=f"法定代表人{org['legal_rep_name']}拒不改正。")
    headers, body = _rows_to_cells(c["admin_penalty"], [first_gen, passport, org])
    folder = inbox / "scjgj" / month
    folder.mkdir(parents=True, exist_ok=True)
    _write_csv(folder / "个人处罚.csv", headers, body, "utf-8-sig")
    fgw = registry.departments["fgw"]
    applicant = {"subject_name": first_gen["subject_name"], "subject_code": pid, "target_kind": "行政处罚",
                 "target_ref": first_gen["decision_no"], "received_date": decided + dt.timedelta(days=3)}
    repair = {**applicant, "decided_date": decided + dt.timedelta(days=5), "outcome": "修复",
              "obligation_fulfilled": "是", "commitment_made": "是", "reason": f"{first_gen['subject_name']}已缴清罚款",
              "deciding_unit": fgw.name}
    objection = {**applicant, "reason": "身份信息有误", "handling_unit": fgw.name}
    folder = inbox / "fgw" / month
    folder.mkdir(parents=True, exist_ok=True)
    for kind, row, name in (("credit_repair", repair, "个人信用修复.csv"), ("objection", objection, "个人异议.csv")):
        headers, body = _rows_to_cells(c[kind], [row])
        _write_csv(folder / name, headers, body, "utf-8-sig")


def test_persons_in_every_role_leak_nothing(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("BS_CREDIT_PSEUDONYM_KEY", KEY)
    home = Home(tmp_path / "home").ensure()
    registry = Registry.load()
    _persons_in_every_role(home.inbox, registry, AS_OF)
    caplog.set_level(logging.INFO)
    assert cli.main(["-v", "run", "--home", str(home.root), "--as-of", AS_OF.isoformat()]) == 0
    needles = _needles(home)
    conn = schema.connect(home.warehouse, read_only=True)
    try:  # the roles are really there
        roles = conn.execute("""SELECT count(*) FILTER (WHERE subject_id LIKE 'XID:%'),
                                       count(*) FILTER (WHERE legal_rep_id IS NOT NULL),
                                       count(*) FILTER (WHERE written['id_number'] ~ '^[0-9]{15}$')
                                FROM core.credit_record""").fetchall()[0]
        applicants = conn.execute("SELECT count(*) FROM core.repair r JOIN core.objection o USING (subject_id) "
                                  "WHERE length(r.subject_id) = 18").fetchall()[0][0]
    finally:
        conn.close()
    assert roles[0] >= 1 and roles[1] >= 1 and roles[2] >= 1 and applicants >= 1
    assert "E12345678" in needles.ids
    _assert_private(home, needles, caplog.text)


def test_a_column_without_a_privacy_class_fails_the_snapshot(demo_home, tmp_path):
    copy = tmp_path / "warehouse.duckdb"
    copy.write_bytes(demo_home.warehouse.read_bytes())
    conn = duckdb.connect(str(copy))
    conn.execute("ALTER TABLE mart.red_list ADD COLUMN nickname VARCHAR")
    conn.close()
    target = tmp_path / "analytics.duckdb"
    with pytest.raises(privacy.Undeclared, match=r"mart\.red_list\.nickname"):
        build_snapshot(copy, target, KEY.encode())
    assert not target.exists() and not list(tmp_path.glob(".analytics.duckdb.*"))


def test_every_declared_table_and_column_exists(demo_home):
    conn = duckdb.connect(str(demo_home.warehouse), read_only=True)
    try:
        actual = {f"{s}.{t}.{c}" for s, t, c in conn.execute(
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
            "WHERE list_contains(?, schema_name)", [list(privacy.COPIED_SCHEMAS)]).fetchall()}
    finally:
        conn.close()
    declared = {f"{table}.{column}" for table, columns in privacy.declarations().items() for column in columns}
    declared = {d for d in declared if d.split(".")[0] in privacy.COPIED_SCHEMAS}  # analyst: test_analyst.py
    assert declared - actual == set()  # no stale declaration
    assert actual - declared == set()


def test_every_pii_field_of_every_contract_is_covered_by_the_payload_rewrite():
    assert privacy.uncovered_pii_fields(Registry.load().contracts) == []


def test_entry_keys_hold_no_name(demo_home):
    conn = duckdb.connect(str(demo_home.warehouse), read_only=True)
    try:
        names = {n for (n,) in conn.execute(
            "SELECT DISTINCT subject_name FROM mart.list_snapshot WHERE subject_name IS NOT NULL").fetchall()}
        keys = [k for (k,) in conn.execute(
            "SELECT entry_key FROM mart.list_snapshot UNION ALL SELECT entry_key FROM mart.list_change").fetchall()]
        no_id = conn.execute("SELECT count(*) FROM mart.list_snapshot WHERE subject_id IS NULL").fetchall()[0][0]
    finally:
        conn.close()
    assert no_id > 0  # legal representatives named without an ID are keyed by a token
    assert [k for k in keys if any(n in k for n in names)] == []


def test_home_folders_holding_raw_data_are_owner_only(demo_home):
    for path in (demo_home.staging, demo_home.outbox, demo_home.inbox, demo_home.secrets, demo_home.dagster_home):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    assert stat.S_IMODE(demo_home.warehouse.stat().st_mode) == 0o600
    assert stat.S_IMODE(demo_home.analytics.stat().st_mode) == 0o640
    assert stat.S_IMODE(demo_home.root.stat().st_mode) == 0o750
    staged = next(demo_home.staging.rglob("*.parquet"))
    assert stat.S_IMODE(staged.stat().st_mode) & 0o077 == 0
    assert os.stat(demo_home.secrets / "pseudonym.key").st_mode & 0o077 == 0


def test_purge_removes_raw_copies_and_keeps_the_warehouse(demo_home, tmp_path, monkeypatch):
    home = Home(tmp_path / "home")
    shutil.copytree(demo_home.root, home.root, symlinks=True)
    monkeypatch.delenv(RETENTION_VAR, raising=False)
    assert cli.main(["purge", "--home", str(home.root)]) == 2  # no date, no retention setting: nothing done

    def current() -> set[str]:
        conn = schema.connect(home.warehouse, read_only=True)
        try:
            return {v for (v,) in conn.execute(
                "SELECT version_id FROM core.credit_record WHERE valid_to IS NULL").fetchall()}
        finally:
            conn.close()

    before = current()
    monkeypatch.setenv(RETENTION_VAR, "1")
    assert cli.main(["purge", "--home", str(home.root), "--before", "2099-01-01"]) == 0
    assert list(home.staging.rglob("*.parquet")) == []
    assert [p for p in home.outbox.rglob("*") if p.is_file()] == []
    assert [p for p in home.inbox.rglob("*") if p.is_file()] == []
    manifests = [json.loads(p.read_text(encoding="utf-8")) for p in home.staging.rglob("*.manifest.json")]
    assert manifests and all(m["purged_at"] for m in manifests)
    for department, month in {(p.parent.parent.name, p.parent.name) for p in home.staging.rglob("*.manifest.json")}:
        load_into_warehouse(home, Registry.load(), department, month)  # a later load keeps purged files' records
    assert current() == before
    assert cli.main(["run", "--home", str(home.root), "--as-of", AS_OF.isoformat()]) == 0
    assert current() == before
