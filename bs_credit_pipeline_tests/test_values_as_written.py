"""Values as written: intake stores the canonical value and the warehouse keeps, per record version, what the
department wrote (core.credit_record.written), for the changed cells only; the snapshot keeps only the shape of
identifiers. Real files (an xlsx, and the LibreOffice-made court export), the whole pipeline, real DuckDB.

Expected outcomes, worked out by hand from the rows and the contracts before running:

处罚.xlsx (scjgj, 2026-10), Excel rows 2-6:
  2  警告、罚款 (a multi-value cell with 、, in the contract's order)        -> stored as is, written NULL
  3  法人 + 暂扣或者吊销执照 (synonym + the pre-2021 combined wording)        -> 法人及非法人组织, 暂扣许可证件、吊销许可证件;
                                                                            written {subject_category: 法人, penalty_types: 暂扣或者吊销执照}
  4  罚款、没收违法所得、警告 (re-joined in the contract's order)            -> 警告、罚款、没收违法所得; written {penalty_types: as written}
  5  a person: 居民身份证 + a 15-digit ID                                    -> 身份证, the 18-digit ID (column and subject id);
                                                                            written {id_type: 居民身份证, id_number: the 15 digits}
  6  文号 with full-width brackets （2026）                                  -> (2026): typography only, written NULL
失信被执行人_法院导出.xlsx (fy): gender as national codes, situations in the 2013 wording joined by commas -> every
  row keeps its gender code and its situations as written.
Snapshot: the 15-digit ID is ############### there; the other values as written are kept; the leak scanner finds
nothing. A resubmission with other wordings of the same values (and the 18-digit ID) creates no version: content is
the canonical values, and a version keeps the values as written of the row that made it (like its file and row).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from bs_credit_pipeline.cli import main
from bs_credit_pipeline.contracts import Registry
from bs_credit_pipeline.defs.run import run_pipeline
from bs_credit_pipeline.demo import make_citizen_id
from bs_credit_pipeline.intake.written import as_written
from bs_credit_pipeline.paths import Home
from bs_credit_pipeline.pipeline import intake_partition, load_into_warehouse, scan_inbox
from bs_credit_pipeline.warehouse import leaks
from bs_credit_pipeline_tests.test_intake import penalty_row, write_xlsx

AS_OF = dt.date(2026, 11, 27)
OFFICE = Path(__file__).parent / "fixtures" / "office"
ID18 = make_citizen_id(4242, birth=dt.date(1971, 6, 9))
ID15 = ID18[:6] + ID18[8:17]  # the same person's first-generation number


@pytest.fixture
def home(tmp_path, monkeypatch) -> Home:
    monkeypatch.setenv("BS_CREDIT_PSEUDONYM_KEY", "test-key-not-secret-0123456789")
    return Home(tmp_path / "home").ensure()


def _penalties(path: Path, *, resubmission: bool = False) -> Path:
    rows = [
        penalty_row(1, penalty_types="警告、罚款"),
        penalty_row(2, subject_category="法人及非法人组织" if resubmission else "法人",
                    penalty_types="暂扣或者吊销许可证" if resubmission else "暂扣或者吊销执照"),
        penalty_row(3, penalty_types="警告、罚款、没收违法所得" if resubmission else "罚款、没收违法所得、警告"),
        penalty_row(4, person=True, id_type="身份证" if resubmission else "居民身份证",
                    id_number=ID18 if resubmission else ID15),
        penalty_row(5, decision_no="保市监罚（2026）5号"),
    ]
    return write_xlsx(path, rows)


def _records(path: Path, query: str) -> dict:
    with duckdb.connect(str(path), read_only=True) as conn:
        return {r[0]: r[1:] for r in conn.execute(query).fetchall()}


def test_the_warehouse_keeps_canonical_values_and_the_values_as_written(home, capsys):
    scjgj, fy = home.inbox / "scjgj" / "2026-10", home.inbox / "fy" / "2026-10"
    scjgj.mkdir(parents=True)
    fy.mkdir(parents=True)
    first = _penalties(scjgj / "处罚.xlsx")
    shutil.copy(OFFICE / "失信被执行人_法院导出.xlsx", fy / "失信被执行人.xlsx")
    assert run_pipeline(home, AS_OF, progress=False).nightly_success

    query = ("SELECT excel_row, version, subject_id, payload->>'subject_category', payload->>'penalty_types', "
             "payload->>'id_type', payload->>'id_number', payload->>'decision_no', written, file_name "
             "FROM core.credit_record WHERE kind = 'admin_penalty'")
    stored = _records(home.warehouse, query)
    assert stored[2][2:7] == ("法人及非法人组织", "警告、罚款", None, None, "保市监罚〔2026〕1号") and stored[2][7] is None
    assert stored[3][2:4] == ("法人及非法人组织", "暂扣许可证件、吊销许可证件")
    assert stored[3][7] == {"subject_category": "法人", "penalty_types": "暂扣或者吊销执照"}
    assert stored[4][3] == "警告、罚款、没收违法所得" and stored[4][7] == {"penalty_types": "罚款、没收违法所得、警告"}
    assert stored[5][1] == ID18 and stored[5][4:6] == ("身份证", ID18)
    assert stored[5][7] == {"id_type": "居民身份证", "id_number": ID15}
    assert stored[6][6] == "保市监罚(2026)5号" and stored[6][7] is None
    court = _records(home.warehouse, "SELECT excel_row, payload->>'gender', written FROM core.credit_record "
                                     "WHERE kind = 'dishonest_debtor'")
    assert court[3] == ("女", {"gender": "2", "situations": "违反财产报告制度的,违反限制高消费令的"})
    assert all(w["gender"] in ("1", "2") and "situations" in w for _, w in court.values())
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        notes = conn.execute("SELECT excel_row, code FROM ops.rejected_row WHERE department = 'scjgj' "
                             "ORDER BY ALL").fetchall()
    assert notes == [(3, "W_ENUM_SYNONYM"), (3, "W_ENUM_SYNONYM"), (5, "W_ENUM_SYNONYM"), (5, "W_ID_15_CONVERTED")]

    snap = _records(home.analytics, "SELECT excel_row, written FROM core.credit_record WHERE kind = 'admin_penalty'")
    assert snap[5] == ({"id_type": "居民身份证", "id_number": "#" * 15},)
    assert snap[3] == ({"subject_category": "法人", "penalty_types": "暂扣或者吊销执照"},) and snap[2] == (None,)
    view = _records(home.analytics, "SELECT excel_row, written FROM analyst.admin_penalty")
    assert view[5] == snap[5] and view[3] == snap[3]
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        needles = leaks.collect(conn)
    assert ID18 in needles.ids
    assert leaks.scan_database(home.warehouse, needles)  # the warehouse holds the IDs (the scanner sees maps) ...
    assert leaks.scan_database(home.analytics, needles) == []  # ... the snapshot none, as written or otherwise

    capsys.readouterr()
    assert main(["lookup", ID15, "--operator", "王科员", "--purpose", "核查", "--home", str(home.root)]) == 0
    out = capsys.readouterr().out
    assert "共 1 条记录" in out and f"报送原值：证件类型“居民身份证”，证件号码“{ID15}”" in out
    assert main(["explain", ID18, "--as-of", AS_OF.isoformat(), "--operator", "王科员", "--purpose", "核查",
                 "--home", str(home.root)]) == 0
    out = capsys.readouterr().out
    assert f"行政处罚 保市监罚〔2026〕4号；报送原值：证件类型“居民身份证”，证件号码“{ID15}”" in out

    # A resubmission writing the same values in other words (and the 18-digit ID): nothing changes.
    first.unlink()
    _penalties(scjgj / "处罚（更正）.xlsx", resubmission=True)
    registry = Registry.load()
    folder = next(f for f in scan_inbox(home, registry) if f.department == "scjgj")
    intake_partition(home, registry, folder, today=AS_OF)
    result = load_into_warehouse(home, registry, "scjgj", "2026-10")
    assert (result.inserted_new, result.inserted_corrected, result.withdrawn, result.unchanged) == (0, 0, 0, 5)
    again = _records(home.warehouse, query)
    assert again == stored  # one version each, the first submission's values as written and file
    assert {r[8] for r in again.values()} == {"处罚.xlsx"}


def test_only_cells_stored_as_another_value_are_kept():
    """Typography (width, spaces, case) is normalisation, not another value; a null map where nothing changed."""
    raw = {"code": pa.array(["91530500MA6K000001", "９１５３ 0500ma6k000001", "91530500MA6K000001 "]),
           "kind": pa.array(["法人", "法人及非法人组织", None]),
           "facts": pa.array(["经查，属实", None, None])}
    stored = {"code": pa.array(["91530500MA6K000001"] * 3), "kind": pa.array(["法人及非法人组织"] * 2 + [None]),
              "facts": pa.array(["经查,属实", None, None])}
    written = as_written(raw, stored, ["code", "kind"])
    assert written.to_pylist() == [[("kind", "法人")], None, None]
