"""Runs the hand-written list scenarios of scenarios/*.yaml through the real pipeline.

Each scenario names subjects, the rows departments submit (written as real CSV intake files into the inbox of a
temporary home), as-of dates and, for each date, the expected membership of every list for every subject of the
scenario (anything not listed is expected absent), record statuses, repair and objection decisions and points
grades. Scenarios have disjoint subjects, so the whole suite shares one home: its rows are grouped into one file
per (department, month, kind), loaded once per phase, and the lists are built once per as-of date.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

from bs_credit_pipeline import pipeline
from bs_credit_pipeline.contracts import Registry, normalise_header
from bs_credit_pipeline.identifiers import citizen_id_check_char, org_code_check_char, uscc_check_char
from bs_credit_pipeline.lists import load_rules
from bs_credit_pipeline.lists.explain import explain_subject, render
from bs_credit_pipeline.lists.feedback import FILE_NAME as FEEDBACK_FILE
from bs_credit_pipeline.paths import Home

SCENARIO_DIR = Path(__file__).parent / "scenarios"
DEFAULT_DEPARTMENT = {
    "admin_penalty": "scjgj", "admin_licence": "scjgj", "dishonest_debtor": "fy", "serious_dishonesty": "swj", "good_record": "scjgj",
    "volunteer_service": "wmb", "gov_integrity_record": "czj", "credit_repair": "fgw", "objection": "fgw",
}
INTAKE_DAY = dt.date(2026, 12, 5)  # the day intake runs: dates after it are "in the future" (W_DATE_FUTURE)
RESERVED = {"as_of", "phase", "records", "repairs", "objections", "grade", "note", "feedback", "intake"}


def uscc(seq: int, prefix: str = "91") -> str:
    body8 = f"{seq:08d}"
    body17 = f"{prefix}530500{body8}{org_code_check_char(body8)}"
    return body17 + uscc_check_char(body17)


def person_id(seq: int) -> str:
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=37 * (seq // 1000))
    body = f"530502{birth:%Y%m%d}{seq % 1000:03d}"
    return body + citizen_id_check_char(body)


@dataclass
class Subject:
    label: str
    kind: str       # org | person | gov
    seq: int
    name: str

    @property
    def code(self) -> str:
        if self.kind == "person":
            return person_id(self.seq)
        return uscc(self.seq, "11" if self.kind == "gov" else "91")


@dataclass
class Record:
    label: str
    kind: str
    department: str
    subject: str | None
    values: dict
    target: str | None
    phases: tuple[int, ...] | None
    legal_rep: str | None
    month: str | None = None   # the inbox month folder, when not the record date's month


@dataclass
class Scenario:
    name: str
    file: str
    title: str
    subjects: dict[str, Subject]
    records: list[Record]
    expect: list[dict]
    fails_on_old_code: str | None = None


@dataclass
class Placed:
    """Where a record's row went in one phase: its file and Excel (CSV line) row."""
    department: str
    month: str
    path: Path
    row: int


def load_scenarios(directory: Path = SCENARIO_DIR) -> list[Scenario]:
    out, seqs = [], {}
    for path in sorted(directory.glob("[!_]*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for s in data["scenarios"]:
            subjects = {}
            for label, spec in s["subjects"].items():
                kind = next(k for k in ("org", "person", "gov") if k in spec)
                subj = Subject(label, kind, int(spec[kind]), spec["name"])
                key = (kind if kind == "person" else "org", subj.seq)
                if key in seqs:
                    raise ValueError(f"{path.name} {s['name']}: subject number {subj.seq} also used by {seqs[key]}")
                seqs[key] = s["name"]
                subjects[label] = subj
            records = [
                Record(r["id"], r["kind"], r.get("department") or DEFAULT_DEPARTMENT[r["kind"]], r.get("subject"),
                       dict(r.get("values") or {}), r.get("target"),
                       tuple(r["phases"]) if r.get("phases") else None, r.get("legal_rep"), r.get("month"))
                for r in s["records"]
            ]
            out.append(Scenario(s["name"], path.name, s.get("title", ""), subjects, records, s["expect"],
                                s.get("fails_on_old_code")))
    names = [s.name for s in out]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"duplicate scenario names: {sorted(dupes)}")
    return out


class Suite:
    """All scenarios in one home: write files per phase, run intake → warehouse → lists, collect outcomes."""

    def __init__(self, scenarios: list[Scenario], root: Path):
        self.scenarios = scenarios
        self.home = Home(root / "home").ensure()
        self.registry = Registry.load()
        self.defaults = yaml.safe_load((SCENARIO_DIR / "_defaults.yaml").read_text(encoding="utf-8"))
        self.record_ids: dict[tuple[str, str], str] = {}     # (scenario, label) -> record_id
        self.repair_ids: dict[tuple[str, str], str] = {}     # (scenario, label) -> repair / objection id
        self.outcomes: dict[tuple[int, dt.date], dict] = {}  # (phase, as_of) -> collected mart state
        self.placed: dict[int, dict[tuple[str, str], Placed]] = {}  # phase -> where each row went
        self.intake_problems: dict[int, dict[tuple[str, str, int], list[tuple]]] = {}  # phase -> (dept, month, row)
        self.rejections: list[str] = []
        self.rules = load_rules()

    # -- writing the departments' files ------------------------------------------------------------------------
    def _doc(self, s: Scenario, r: Record) -> str:
        return f"{s.name}/{r.label}"

    def _row(self, s: Scenario, r: Record) -> dict[str, str]:
        """The row as the department writes it: Chinese header -> cell text."""
        contract = self.registry.contracts[r.kind]
        index = contract.header_index()
        canon: dict[str, str] = {}
        defaults = dict(self.defaults.get(r.kind, {}))
        if r.department != DEFAULT_DEPARTMENT[r.kind]:
            defaults.pop("所属领域", None)  # another department: its own default domain applies
        for header, value in {**defaults, **r.values}.items():
            name = index.get(normalise_header(str(header)))
            if name is None:
                raise ValueError(f"{s.file} {s.name} {r.label}: {r.kind} has no column {header!r}")
            canon[name] = "" if value is None else str(value)
        spec = contract.subject
        target = None
        if r.target:
            target = next(t for t in s.records if t.label == r.target)
            canon.setdefault("target_kind", self.registry.contracts[target.kind].title)
            canon.setdefault("target_ref", self._doc(s, target))
        subj = s.subjects[r.subject or (target.subject if target else None)]
        canon.setdefault(spec.name, subj.name)
        if spec.category:
            canon.setdefault(spec.category, spec.person_categories[0] if subj.kind == "person" else "法人及非法人组织")
        if subj.kind == "person":
            canon.setdefault(spec.person_id, subj.code)
            if spec.person_id_type:
                canon.setdefault(spec.person_id_type, "身份证")
        else:
            canon.setdefault(spec.org_codes[0], subj.code)
        if r.legal_rep:
            rep = s.subjects[r.legal_rep]
            if spec.legal_rep_name:
                canon.setdefault(spec.legal_rep_name, rep.name)
            if spec.legal_rep_id:
                canon.setdefault(spec.legal_rep_id, rep.code)
                id_type = f"{spec.legal_rep_id.removesuffix('_number')}_type"
                if any(c.name == id_type for c in contract.columns):
                    canon.setdefault(id_type, "身份证")
        key = next((k for k in contract.natural_key if contract.column(k).type == "text"), None)
        if key and r.kind not in ("credit_repair", "objection"):
            canon.setdefault(key, self._doc(s, r))
        dept_name = self.registry.departments[r.department].name
        for name in ("source_unit", "authority"):  # the submitting department names itself
            if any(c.name == name for c in contract.columns):
                canon.setdefault(name, dept_name)
        for c in contract.columns:  # authorities' and source units' codes: a valid government organ USCC
            if c.required and c.type == "uscc" and c.name not in canon:
                canon[c.name] = uscc(99_000_001, "11")
        return {contract.column(k).header: v for k, v in canon.items()}

    def _month(self, s: Scenario, r: Record, row: dict[str, str]) -> str:
        if r.month:
            return str(r.month)
        contract = self.registry.contracts[r.kind]
        date = row.get(contract.column(contract.record_date).header) or row.get("修复决定日期")
        return str(date)[:7]

    def write_phase(self, phase: int) -> dict[tuple[str, str], Placed]:
        if self.home.inbox.exists():
            shutil.rmtree(self.home.inbox)
        files: dict[tuple[str, str, str], list[tuple[Scenario, Record, dict]]] = defaultdict(list)
        for s in self.scenarios:
            for r in s.records:
                if r.phases is not None and phase not in r.phases:
                    continue
                row = self._row(s, r)
                files[(r.department, self._month(s, r, row), r.kind)].append((s, r, row))
        placed = {}
        for (dept, month, kind), rows in sorted(files.items()):
            folder = self.home.inbox / dept / month
            folder.mkdir(parents=True, exist_ok=True)
            contract = self.registry.contracts[kind]
            headers = [c.header for c in contract.columns if any(c.header in row for _, _, row in rows)]
            path = folder / f"{contract.title}.csv"
            with path.open("w", encoding="utf-8-sig", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(headers)
                for n, (s, r, row) in enumerate(rows, start=2):
                    w.writerow([row.get(h, "") for h in headers])
                    placed[(s.name, r.label)] = Placed(dept, month, path, n)
        return placed

    # -- running the pipeline ----------------------------------------------------------------------------------
    def load_phase(self, phase: int) -> None:
        placed = self.placed[phase] = self.write_phase(phase)
        for folder in pipeline.scan_inbox(self.home, self.registry):
            pipeline.intake_partition(self.home, self.registry, folder, today=INTAKE_DAY)
            pipeline.load_into_warehouse(self.home, self.registry, folder.department, folder.month)
        with duckdb.connect(str(self.home.warehouse), read_only=True) as conn:
            for (scen, label), p in placed.items():
                sha = hashlib.sha256(p.path.read_bytes()).hexdigest()
                hit = conn.execute("SELECT record_id FROM core.credit_record WHERE file_sha256 = ? AND excel_row = ?"
                                   " LIMIT 1", [sha, p.row]).fetchone()
                if hit:
                    self.record_ids[(scen, label)] = hit[0]
                    continue
                sid = f"{p.department}|{p.month}|{sha}"
                for table, col in (("core.repair", "repair_id"), ("core.objection", "objection_id")):
                    hit = conn.execute(f"SELECT {col} FROM {table} WHERE submission_id = ? AND excel_row = ?",
                                       [sid, p.row]).fetchone()
                    if hit:
                        self.repair_ids[(scen, label)] = hit[0]
            for row in conn.execute("""SELECT department, month, file_name, file_error FROM ops.submission
                                       WHERE file_error IS NOT NULL""").fetchall():
                msg = f"{row[0]}/{row[1]} {row[2]}: {row[3]}"
                if msg not in self.rejections:
                    self.rejections.append(msg)
            problems = self.intake_problems[phase] = defaultdict(list)
            for dept, month, row, code, header, raw in conn.execute(
                    "SELECT department, month, excel_row, code, header, raw_value FROM ops.rejected_row").fetchall():
                problems[(dept, month, row)].append((code, header, raw))
            refused = {(p.department, p.month, p.row) for (scen, label), p in placed.items()  # expected refusals
                       for sc in self.scenarios if sc.name == scen for e in sc.expect  # in any phase
                       if any(str(c).startswith("E_") for c in (e.get("intake") or {}).get(label, []))}
            for row in conn.execute("""SELECT department, month, sheet, excel_row, header, raw_value, message
                                       FROM ops.rejected_row WHERE severity = 'error'""").fetchall():
                if (row[0], row[1], row[3]) in refused:
                    continue
                msg = f"{row[0]}/{row[1]} {row[2]} row {row[3]}: {row[4]}={row[5]!r}: {row[6]}"
                if msg not in self.rejections:
                    self.rejections.append(msg)

    def build(self, phase: int, as_of: dt.date) -> None:
        pipeline.build_lists(self.home, as_of)
        codes = {subj.code for s in self.scenarios for e in s.expect
                 if int(e.get("phase", 1)) == phase and _date(e["as_of"]) == as_of for subj in s.subjects.values()}
        with duckdb.connect(str(self.home.warehouse), read_only=True) as conn:
            got = collect(conn)
            got["explain"] = {code: explain_subject(conn, code, as_of, self.rules, self.registry) for code in codes}
            got["feedback"] = read_feedback(self.home.outbox)
            self.outcomes[(phase, as_of)] = got

    def run(self) -> None:
        phases = sorted({int(e.get("phase", 1)) for s in self.scenarios for e in s.expect})
        for phase in phases:
            self.load_phase(phase)
            dates = sorted({_date(e["as_of"]) for s in self.scenarios for e in s.expect if int(e.get("phase", 1)) == phase})
            for as_of in dates:
                self.build(phase, as_of)

    # -- checking ----------------------------------------------------------------------------------------------
    def check(self, s: Scenario) -> list[str]:
        """Differences between the scenario's expectations and what the pipeline produced (empty: it passes)."""
        problems = []
        for e in s.expect:
            phase, as_of = int(e.get("phase", 1)), _date(e["as_of"])
            got = self.outcomes[(phase, as_of)]
            for label, subj in s.subjects.items():
                want = sorted(e.get(label) or [])
                have = sorted(got["member"].get(subj.code, []))
                if want != have:
                    problems.append(f"{s.name} {as_of} {label}（{subj.name}）: lists expected {want}, got {have};"
                                    f" reasons: {got['why'].get(subj.code, [])}")
            for label, want in (e.get("records") or {}).items():
                rid = self.record_ids.get((s.name, label))
                have = got["status"].get(rid, ("missing", "not loaded", None))
                want_status, _, want_rule = str(want).partition("@")
                if want_status != have[0] or (want_rule and want_rule != have[2]):
                    problems.append(f"{s.name} {as_of} record {label}: status expected {want}, got "
                                    f"{have[0]}@{have[2]} ({have[1]})")
            for key in ("repairs", "objections"):
                for label, want in (e.get(key) or {}).items():
                    iid = self.repair_ids.get((s.name, label))
                    have = got[key].get(iid, ("missing", [], "not loaded"))
                    want_status, _, want_unmet = str(want).partition(":")
                    unmet = sorted(u for u in want_unmet.split(",") if u)
                    if want_status != have[0] or (key == "repairs" and unmet != sorted(have[1])):
                        problems.append(f"{s.name} {as_of} {key[:-1]} {label}: expected {want}, got "
                                        f"{have[0]}:{','.join(sorted(have[1]))} ({have[2]})")
            for label, subj in s.subjects.items():
                problems += explain_problems(f"{s.name} {as_of} {label}", got["explain"][subj.code],
                                             got["member"].get(subj.code, []))
            for label, want in (e.get("feedback") or {}).items():  # 处理结果|未满足的条件[|说明]
                p = self.placed[phase][(s.name, label)]
                row = got["feedback"].get((p.department, p.month, p.row))
                have = [row["处理结果"], row["未满足的条件"], row["说明"]] if row else ["missing", "", ""]
                parts = str(want).split("|")
                if have[:len(parts)] != parts:
                    problems.append(f"{s.name} {as_of} feedback of {label} to {p.department}/{p.month} row {p.row}:"
                                    f" expected {parts}, got {have[:len(parts)]} ({have[2]})")
            for label, want in (e.get("intake") or {}).items():  # CODE[=value as written]
                p = self.placed[phase][(s.name, label)]
                have = self.intake_problems[phase].get((p.department, p.month, p.row), [])
                for item in want:
                    code, _, raw = str(item).partition("=")
                    if not any(c == code and (not raw or r == raw) for c, _, r in have):
                        problems.append(f"{s.name} intake of {label} ({p.department}/{p.month} row {p.row}):"
                                        f" expected {item}, got {have}")
            for label, want in (e.get("grade") or {}).items():
                have = got["grade"].get(s.subjects[label].code)
                if want != have:
                    problems.append(f"{s.name} {as_of} grade of {label}: expected {want}, got {have}")
        return problems


def read_feedback(outbox: Path) -> dict[tuple[str, str, int], dict[str, str]]:
    """Every department's 信用修复处理结果.csv rows, by (department, month, row of its own file)."""
    out = {}
    for path in outbox.glob(f"*/*/{FEEDBACK_FILE}"):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                out[(path.parent.parent.name, path.parent.name, int(row["行号"]))] = row
    return out


LIST_OF_CODE = {"black": "black_list", "measures": "punishment_measure", "watch": "watch_list", "red": "red_list",
                "green": "green_channel", "warning": "gov_warning"}


def explain_problems(where: str, explanation: dict, codes: list[str]) -> list[str]:
    """`explain` must agree with the lists: the same lists on, each entry with its records and rule basis, each
    absence with a reason."""
    problems = []
    on = {i["list"] for i in explanation["lists"] if i["on"] and i["list"] != "integrity_score"}
    if on != {LIST_OF_CODE[c.split(":")[0]] for c in codes}:
        problems.append(f"{where}: explain says on {sorted(on)}, lists say {codes}")
    for item in explanation["lists"]:
        if item["on"] and item["list"] not in ("integrity_score", "punishment_measure", "gov_warning"):
            for entry in item["entries"]:
                if not entry["records"] or not all(r["file_name"] and r["excel_row"] for r in entry["records"]):
                    problems.append(f"{where}: explain entry of {item['list']} without its records: {entry}")
                if not entry.get("rule_basis"):
                    problems.append(f"{where}: explain entry of {item['list']} without a legal basis")
        if not item["on"] and not item["why_not"]:
            problems.append(f"{where}: explain gives no reason why not on {item['list']}")
    if not render(explanation):
        problems.append(f"{where}: empty explanation")
    return problems


def _date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def collect(conn) -> dict:
    """Every list membership (as codes), record status, repair / objection decision and grade of the mart."""
    member: dict[str, set[str]] = defaultdict(set)
    why: dict[str, list] = defaultdict(list)
    queries = {
        "black": "SELECT subject_id, rule_id, reasons FROM mart.black_list",
        "measures": "SELECT subject_id, role, reasons FROM mart.punishment_measure WHERE subject_id IS NOT NULL",
        "watch": "SELECT subject_id, rule_id, reasons FROM mart.watch_list",
        "red": "SELECT subject_id, rule_id, reasons FROM mart.red_list",
        "green": "SELECT subject_id, rule_id, reasons FROM mart.green_channel",
        "warning": "SELECT evaluated_id, warning_type, reasons FROM mart.gov_warning",
    }
    for prefix, sql in queries.items():
        for sid, code, reasons in conn.execute(sql).fetchall():
            member[sid].add(f"{prefix}:{code}")
            why[sid].append(f"{prefix}:{code} <- {[r.get('rule') for r in json.loads(reasons or '[]')]}")
    status = {r: (st, reason, rule) for r, st, reason, rule in
              conn.execute("SELECT record_id, status, status_reason, rule_id FROM mart.record_status").fetchall()}
    repairs = {r: (st, list(unmet or []), reason) for r, st, unmet, reason in conn.execute(
        "SELECT repair_id, status, unmet_preconditions, status_reason FROM mart.repair_decision").fetchall()}
    objections = {r: (st, [], reason) for r, st, reason in conn.execute(
        "SELECT objection_id, status, status_reason FROM mart.objection_decision").fetchall()}
    grade = dict(conn.execute("SELECT subject_id, grade FROM mart.integrity_score").fetchall())
    for sid, rid, st, reason in conn.execute(
            "SELECT subject_id, record_id, status, status_reason FROM mart.record_status").fetchall():
        why[sid].append(f"record {rid[:8]} {st}: {reason}")
    return {"member": {k: sorted(v) for k, v in member.items()}, "why": why, "status": status,
            "repairs": repairs, "objections": objections, "grade": grade}
