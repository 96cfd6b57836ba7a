"""A small hand-built warehouse for the list tests: real DuckDB, schema from the numbered migrations."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb

from bs_credit_pipeline.identifiers import citizen_id_check_char, org_code_check_char, uscc_check_char
from bs_credit_pipeline.warehouse.schema import migrate

D = dt.date.fromisoformat


def person_id(seq: int, birth: str = "19800101", area: str = "530502") -> str:
    body = f"{area}{birth}{seq:03d}"
    return body + citizen_id_check_char(body)


def uscc(seq: int, prefix: str = "91") -> str:
    body8 = f"{seq:08d}"
    body17 = f"{prefix}530500{body8}{org_code_check_char(body8)}"
    return body17 + uscc_check_char(body17)


def connect(path: Path | str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with every numbered migration applied in order."""
    conn = duckdb.connect(str(path))
    migrate(conn)
    return conn


# mart.record_status as docs/ARCHITECTURE.md specifies it: tests of the evaluations that read it fill it by hand.
RECORD_STATUS_DDL = """
CREATE TABLE mart.record_status (
    record_id VARCHAR, version_id VARCHAR, kind VARCHAR, domain VARCHAR, subject_id VARCHAR,
    subject_type VARCHAR, subject_name VARCHAR, department VARCHAR, record_date DATE, end_date DATE,
    category VARCHAR, polarity VARCHAR, severity_tier VARCHAR, rule_id VARCHAR, display_min_end DATE,
    display_max_end DATE, status VARCHAR, status_reason VARCHAR, file_name VARCHAR, sheet VARCHAR,
    excel_row INTEGER, as_of DATE)
"""


def complete_citizen_id(body17: str) -> str:
    return body17 + citizen_id_check_char(body17)


def complete_uscc(first16: str) -> str:
    """Complete authority, type, division and the 8-char org-code body with both check characters."""
    body17 = first16 + org_code_check_char(first16[8:16])
    return body17 + uscc_check_char(body17)


def add_record(conn, record_id: str, kind: str, subject: tuple[str, str, str], record_date: str, *,
               end_date: str | None = None, category: str | None = None, severity: str | None = None,
               domain: str | None = None, department: str = "scjgj", legal_rep: tuple[str, str] | None = None,
               payload: dict | None = None, excel_row: int = 2) -> None:
    """Insert one current record version; subject = (subject_id, subject_type, subject_name)."""
    sid, stype, sname = subject
    payload = {"subject_name": sname, **(payload or {})}
    conn.execute(
        """INSERT INTO core.credit_record VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'h', ?, '2026-01',
                 'sub', 'sha', ?, 'Sheet1', ?, TIMESTAMPTZ '2026-01-01 00:00:00+08', NULL, 'new', NULL)""",
        [f"{record_id}|1", record_id, kind, domain, sid, stype, sname, D(record_date),
         D(end_date) if end_date else None, category, severity,
         legal_rep[0] if legal_rep else None, legal_rep[1] if legal_rep else None,
         json.dumps(payload, ensure_ascii=False), department, f"{department}_{kind}.xlsx", excel_row],
    )


def add_repair(conn, repair_id: str, record_id: str, received: str, decided: str, outcome: str = "修复", *,
               obligation: str = "是", commitment: str = "是", department: str = "fgw") -> None:
    conn.execute(
        """INSERT INTO core.repair BY NAME SELECT ? AS repair_id, ? AS record_id, '行政处罚' AS target_kind,
               ? AS received_date, ? AS decided_date, ? AS outcome, ? AS obligation_fulfilled, ? AS commitment_made,
               ? AS department, 'sub' AS submission_id, 'Sheet1' AS sheet, 2 AS excel_row""",
        [repair_id, record_id, D(received), D(decided), outcome, obligation, commitment, department])


def add_objection(conn, objection_id: str, record_id: str, received: str, decided: str | None = None,
                  outcome: str | None = None) -> None:
    conn.execute(
        "INSERT INTO core.objection VALUES (?, ?, NULL, NULL, NULL, ?, ?, ?, NULL, 'sub', 'Sheet1', 2, NULL)",
        [objection_id, record_id, D(received), D(decided) if decided else None, outcome])


ORG_A = (uscc(1), "org", "保山市甲食品有限公司")
ORG_C = (uscc(3), "org", "保山市丙建筑工程有限公司")
ORG_E = (uscc(5), "org", "保山市戊商贸有限公司")
ORG_F = (uscc(6), "org", "保山市己物流有限公司")
GOV_G = (uscc(7, prefix="11"), "org", "保山市某某局")
LEGAL_C = ("李四", person_id(11))
LEGAL_E = ("欧阳娜娜", person_id(12, birth="19850505"))
P_Q = (person_id(21), "person", "张三")
P_R = (person_id(22), "person", "王五")
P_S = (person_id(23), "person", "赵六")
P_T = (person_id(24), "person", "钱七")
P_U = (person_id(25), "person", "孙八")
P_V = (person_id(26), "person", "周九")
P_W = (person_id(27), "person", "吴十")
P_W2 = (person_id(28), "person", "郑十一")
P_K = (person_id(29), "person", "冯十二")
P_X = (person_id(30), "person", "陈十三")


def populate(conn) -> None:
    """The fixture world; expectations are spelled out in the tests."""
    pen = "admin_penalty"
    # penalties on both sides of 2023-05-01 and 2026-04-01
    add_record(conn, "p1", pen, ORG_A, "2023-04-30", category="罚款", domain="产品质量")
    add_record(conn, "p2", pen, ORG_A, "2023-05-01", category="罚款", domain="食品药品")
    add_record(conn, "p3", pen, ORG_A, "2026-03-31", category="吊销许可证件", domain="环境保护",
               payload={"subject_category": "法人及非法人组织", "uscc": ORG_A[0], "legal_rep_name": LEGAL_E[0],
                        "legal_rep_id_number": LEGAL_E[1], "decision_no": "保环罚〔2026〕3号",
                        "penalty_types": "吊销许可证件"})
    add_record(conn, "p4", pen, ORG_A, "2026-04-01", category="罚款、吊销许可证件", domain="环境保护")
    add_record(conn, "p5", pen, ORG_A, "2026-04-01", category="警告", domain="环境保护")
    add_record(conn, "p6", pen, P_X, "2026-04-02", category="罚款", domain="交通安全",
               payload={"procedure": "简易程序"})
    add_record(conn, "p7", pen, ORG_A, "2026-04-10", category="罚款", severity="严重", domain="环境保护")
    add_record(conn, "p8", pen, ORG_A, "2026-04-10", category="罚款", end_date="2026-08-31", domain="环境保护")
    add_repair(conn, "r-early", "p4", received="2027-03-31", decided="2027-04-05")
    add_repair(conn, "r-ok", "p7", received="2027-04-10", decided="2027-04-12")
    # objections: pending, upheld, deleted
    add_record(conn, "p9", pen, ORG_F, "2026-05-01", category="罚款")
    add_record(conn, "p10", pen, ORG_F, "2026-05-02", category="罚款")
    add_objection(conn, "o-pending", "p9", received="2026-06-01")
    add_objection(conn, "o-upheld", "p10", received="2026-06-01", decided="2026-06-20", outcome="维持")
    # court entries
    add_record(conn, "d1", "dishonest_debtor", ORG_C, "2026-01-10", department="fy", legal_rep=LEGAL_C,
               category="有履行能力而拒不履行生效法律文书确定义务")
    add_record(conn, "d2", "dishonest_debtor", P_Q, "2025-03-01", end_date="2026-06-01", department="fy")
    add_record(conn, "d3", "dishonest_debtor", GOV_G, "2026-02-01", department="fy")
    add_record(conn, "d4", "dishonest_debtor", P_R, "2024-01-05", department="fy")
    add_record(conn, "d5", "dishonest_debtor", P_S, "2024-01-05", department="fy",
               payload={"term_end": "2026-12-31"})
    add_record(conn, "d6", "dishonest_debtor", P_U, "2026-06-12", department="fy")
    add_objection(conn, "o-new-entry", "d6", received="2026-06-12")
    # serious-dishonesty listings
    add_record(conn, "s1", "serious_dishonesty", ORG_E, "2025-09-01", department="swj", legal_rep=LEGAL_E,
               category="重大税收违法失信主体", domain="税收缴纳")
    add_objection(conn, "o-listed", "s1", received="2026-06-10")
    add_record(conn, "s2", "serious_dishonesty", ORG_F, "2026-01-01", department="yjj", category="安全生产严重失信")
    add_objection(conn, "o-delete", "s2", received="2026-06-02", decided="2026-06-10", outcome="删除")
    # watch list
    add_record(conn, "w1", pen, P_T, "2026-05-01", category="罚款", severity="严重", domain="交通安全",
               department="gaj", payload={"subject_category": "自然人", "id_type": "身份证", "id_number": P_T[0],
                                          "decision_no": "保公交罚〔2026〕1号", "penalty_types": "罚款"})
    add_record(conn, "w2", pen, P_U, "2026-05-01", category="罚款", domain="交通安全", department="gaj")
    add_record(conn, "w3", pen, P_V, "2025-12-01", category="罚款", department="jrj",
               payload={"violation_type": "非法集资"})
    # rewards
    add_record(conn, "g1", "good_record", P_W, "2026-01-01", end_date="2026-12-31", category="诚信道德模范",
               department="wmb")
    add_record(conn, "g2", "good_record", ORG_A, "2026-01-01", end_date="2026-12-31", category="守合同重信用")
    add_record(conn, "v1", "volunteer_service", P_W2, "2025-07-01", department="wmb", payload={"hours": 40})
    add_record(conn, "v2", "volunteer_service", P_W2, "2026-06-01", department="wmb", payload={"hours": 30})
    add_record(conn, "v3", "volunteer_service", P_K, "2025-06-15", department="wmb", payload={"hours": 40})
    add_record(conn, "v4", "volunteer_service", P_K, "2026-01-01", department="wmb", payload={"hours": 30})
    # green channel: K's only bad record, decided 2022-03-10 (expired 2023-03-10)
    add_record(conn, "k1", pen, P_K, "2022-03-10", category="罚款", department="gaj")
