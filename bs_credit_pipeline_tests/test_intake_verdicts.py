"""What intake does with files as offices really make them (LibreOffice-made fixtures in fixtures/office/, see
fixtures/make_office.py), and the precise verdict every other file gets. Expected outcomes are worked out by hand
from the fixture's rows (make_office.py) and the contracts."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from bs_credit_pipeline.intake import stage
from bs_credit_pipeline.intake.driver import Intake
from bs_credit_pipeline.intake.read import MAX_FIELD_CHARS, MAX_FIELDS
from bs_credit_pipeline.paths import Home
from bs_credit_pipeline.pipeline import InboxFolder, intake_partition
from bs_credit_pipeline_tests.fixtures.make_office import FACTS
from bs_credit_pipeline_tests.test_intake import REGISTRY, codes, penalty_row, problems, run, write_xlsx

OFFICE = Path(__file__).parent / "fixtures" / "office"
TODAY = dt.date(2026, 11, 27)


@pytest.fixture
def intake(tmp_path) -> Intake:
    return Intake(REGISTRY, Home(tmp_path / "home").ensure())


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_an_office_suite_penalty_file(intake, suffix):
    """Rows 2-7 of 处罚_办公软件: canonical; 法人 + 吊销执照、罚款; an ID in a number cell; a text ID ending in X;
    罚款，其他-责令改正; a decision date in August in the October folder. Column I has data but no header."""
    result = run(intake, OFFICE / f"处罚_办公软件{suffix}")
    m = result.manifest
    assert (m["rows_read"], m["rows_loaded"], m["rows_rejected"], m["status"]) == (6, 5, 1, "partial")
    assert codes(result) == {
        1: {"W_UNHEADED_COLUMN"}, 3: {"W_ENUM_SYNONYM"}, 4: {"E_EXCEL_NUMBER_CELL", "W_ENUM_SYNONYM"},
        6: {"W_ENUM_SYNONYM"},
        7: {"W_DATE_OUTSIDE_MONTH"},
    }
    unheaded = next(p for p in problems(result) if p["code"] == "W_UNHEADED_COLUMN")
    assert unheaded["excel_column"] == "I" and "I 列有数据但没有表头" in unheaded["message"]
    assert {"sheet": m["dropped_columns"][0]["sheet"], "column": "I", "header": "（无表头）"} in m["dropped_columns"]
    synonyms = sorted(p["raw_value"] for p in problems(result) if p["code"] == "W_ENUM_SYNONYM")
    assert synonyms == ["吊销执照、罚款", "居民身份证", "法人", "罚款，其他-责令改正"]
    staged = pq.read_table(result.staged_path).to_pylist()
    by_row = {r["_excel_row"]: r for r in staged}
    assert sorted(by_row) == [2, 3, 5, 6, 7]
    assert by_row[3]["subject_category"] == "法人及非法人组织"
    assert by_row[3]["penalty_types"] == "罚款、吊销许可证件"  # canonical values in the contract's order
    assert by_row[6]["penalty_types"] == "罚款、其他"
    assert by_row[5]["id_type"] == "身份证" and by_row[5]["id_number"].endswith("X")
    assert all(r["violation_facts"] == FACTS for r in staged)  # full-width punctuation and digits kept
    damaged = next(p for p in problems(result) if p["code"] == "E_EXCEL_NUMBER_CELL")
    assert damaged["excel_column"] == "E" and "文本" in damaged["hint"] and "重新导出" in damaged["hint"]


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_a_court_export_of_dishonest_debtors(intake, suffix):
    """Situations in the 2013 wording, comma-joined, values containing 、; gender as the national code."""
    result = run(intake, OFFICE / f"失信被执行人_法院导出{suffix}", department="fy")
    assert result.manifest["rows_loaded"] == 3 and result.status == "accepted"
    staged = {r["_excel_row"]: r for r in pq.read_table(result.staged_path).to_pylist()}
    assert staged[2]["situations"] == "以伪造证据、暴力、威胁等方法妨碍、抗拒执行"
    assert staged[3]["situations"] == "违反财产报告制度、违反限制消费令"
    assert staged[4]["situations"] == ("有履行能力而拒不履行生效法律文书确定义务、"
                                       "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行")
    assert [staged[r]["gender"] for r in (2, 3, 4)] == ["男", "女", "男"]
    notes = sorted((p["excel_row"], p["column"]) for p in problems(result))
    assert {p["code"] for p in problems(result)} == {"W_ENUM_SYNONYM"}
    # every gender code is a synonym; of the situations, only the 2013 wordings (a trailing 的 is no rewording)
    assert notes == [(2, "gender"), (3, "gender"), (3, "situations"), (4, "gender"), (4, "situations")]


def test_a_column_with_data_but_no_header_is_ignored_with_a_warning(intake, tmp_path):
    path = write_xlsx(tmp_path / "处罚.xlsx", [penalty_row(i) for i in range(3)], extra={"": ["x", "y", "z"]})
    result = run(intake, path)
    assert result.status == "accepted" and result.manifest["rows_loaded"] == 3
    assert codes(result) == {1: {"W_UNHEADED_COLUMN"}}


def test_an_internal_error_rejects_that_file_only_with_a_log_reference(tmp_path, monkeypatch, caplog):
    home = Home(tmp_path / "home").ensure()
    folder = home.inbox / "scjgj" / "2026-10"
    folder.mkdir(parents=True)
    write_xlsx(folder / "a.xlsx", [penalty_row(1)])
    write_xlsx(folder / "b.xlsx", [penalty_row(2), penalty_row(3)])
    real = stage.assemble

    def failing_for_b(runs, contract, manifest, workers, on_run, **options):
        if manifest["file_name"] == "b.xlsx":
            raise KeyError("a cell value that must not reach the log")
        return real(runs, contract, manifest, workers, on_run, **options)

    monkeypatch.setattr(stage, "assemble", failing_for_b)
    results = intake_partition(home, REGISTRY, InboxFolder("scjgj", "scjgj", "2026-10", (folder / "a.xlsx", folder / "b.xlsx")),
                               today=TODAY)
    by_name = {r.manifest["file_name"]: r.manifest for r in results}
    assert by_name["a.xlsx"]["status"] == "accepted"
    b = by_name["b.xlsx"]
    assert b["file_error"]["code"] == "F_INTERNAL" and (b["rows_read"], b["rows_rejected"]) == (2, 2)
    ref = b["file_error"]["message"].split("日志编号 ")[1].split("）")[0]
    logged = [r.getMessage() for r in caplog.records if ref in r.getMessage()]
    assert logged and "KeyError at" in logged[0] and "must not reach" not in " ".join(logged)
    assert b["report_path"] and Path(b["report_path"]).exists()


def test_a_whole_file_rejection_counts_the_rows_it_refuses(intake, tmp_path):
    path = write_xlsx(tmp_path / "处罚.xlsx", [penalty_row(i) for i in range(300)])
    result = run(intake, path, department="fy")  # the court does not submit penalties
    m = result.manifest
    assert m["file_error"]["code"] == "F_WRONG_DEPARTMENT"
    assert (m["rows_read"], m["rows_loaded"], m["rows_rejected"]) == (300, 0, 300)


def test_missing_required_columns_name_the_headers_found_and_the_closest(intake, tmp_path):
    columns = [c for c in ("subject_name", "subject_category", "uscc", "decision_no", "violation_type",
                           "violation_facts", "penalty_basis", "penalty_types", "penalty_content", "valid_until",
                           "authority", "authority_uscc", "source_unit", "source_unit_uscc")]
    path = write_xlsx(tmp_path / "处罚.xlsx", [penalty_row(i) for i in range(4)], columns=columns,
                      extra={"处罚决定书日期": ["2026-10-03"] * 4})
    m = run(intake, path).manifest
    assert m["file_error"]["code"] == "F_MISSING_COLUMNS" and m["rows_rejected"] == 4
    message = m["file_error"]["message"]
    assert "缺少必填列：处罚决定日期" in message and "表中找到的列：行政相对人名称、" in message
    assert "“处罚决定日期”最接近的是表中的“处罚决定书日期”" in message


def _verdict(intake, path: Path) -> tuple[str, str]:
    m = run(intake, path).manifest
    return m["file_error"]["code"], m["file_error"]["message"]


def test_precise_file_messages(intake, tmp_path):
    (tmp_path / "文件夹.xlsx").mkdir()
    assert _verdict(intake, tmp_path / "文件夹.xlsx") == ("F_NOT_A_FILE", "“文件夹.xlsx”是一个文件夹，不是文件")
    assert _verdict(intake, tmp_path / "没有.xlsx")[0] == "F_NOT_FOUND"
    (tmp_path / "扫描件.xlsx").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n")
    code, message = _verdict(intake, tmp_path / "扫描件.xlsx")
    assert code == "F_UNSUPPORTED_FORMAT" and "PDF 文档" in message and ".xlsx" in message
    (tmp_path / "u16.csv").write_bytes("行政相对人名称,处罚类别\n张三,罚款\n".encode("utf-16-le"))
    code, message = _verdict(intake, tmp_path / "u16.csv")
    assert code == "F_ENCODING" and "UTF-16" in message
    (tmp_path / "nul.csv").write_bytes(b"a,b\n1,\x002\n")
    code, message = _verdict(intake, tmp_path / "nul.csv")
    assert code == "F_ENCODING" and "空字符" in message


def test_a_utf16_csv_with_a_byte_order_mark_is_read(intake, tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", [penalty_row(1)])
    import openpyxl

    rows = [[c.value for c in r] for r in openpyxl.load_workbook(path).active.iter_rows()]
    text = "\n".join(",".join("" if v is None else str(v) for v in r) for r in rows) + "\n"
    (tmp_path / "处罚.csv").write_bytes(text.encode("utf-16"))
    assert run(intake, tmp_path / "处罚.csv").status == "accepted"


def test_an_ods_over_the_cell_limit_says_the_format_is_not_supported(intake, corpus_dir):
    code, message = _verdict(intake, corpus_dir / "issue_594_dos.ods")
    assert code == "F_UNSUPPORTED_FORMAT" and "OpenDocument" in message and "太大" not in message


@pytest.mark.parametrize("content,limit", [
    (lambda: b"a" + b",a" * ((17 << 20) // 2), "MB"),  # one 17 MB line of 8 M fields
    (lambda: (",".join(["x"] * (MAX_FIELDS + 1)) + "\n").encode() * 3, f"{MAX_FIELDS} 列"),
    (lambda: ("a,b\n" + "1," + "长" * (MAX_FIELD_CHARS + 1) + "\n").encode(), f"{MAX_FIELD_CHARS} 个字符"),
])
def test_oversized_csv_gets_its_verdict_within_seconds(intake, tmp_path, content, limit):
    path = tmp_path / "巨大.csv"
    path.write_bytes(content())
    start = time.monotonic()
    code, message = _verdict(intake, path)
    assert time.monotonic() - start < 10
    assert code == "F_LIMITS" and limit in message


def test_read_bounds_fit_every_contract():
    """The reader's caps are far above what any contract needs (so a real file never meets them)."""
    widest = max(len(c.columns) + sum(len(d.columns) for d in c.domains.values()) for c in REGISTRY.contracts.values())
    assert MAX_FIELDS >= 8 * widest
    longest = max((col.max_length or 0) for c in REGISTRY.contracts.values() for col in c.columns)
    assert MAX_FIELD_CHARS >= longest


def test_resubmitting_the_same_records_says_so(tmp_path):
    home = Home(tmp_path / "home").ensure()
    folder = home.inbox / "scjgj" / "2026-10"
    folder.mkdir(parents=True)
    write_xlsx(folder / "十月处罚.xlsx", [penalty_row(1), penalty_row(2)])
    first = intake_partition(home, REGISTRY, InboxFolder("scjgj", "scjgj", "2026-10", (folder / "十月处罚.xlsx",)),
                             today=TODAY)
    assert first[0].manifest["warning_counts"] == {}
    (folder / "十月处罚.xlsx").unlink()  # re-exported under another name, nothing changed
    write_xlsx(folder / "十月处罚（重报）.xlsx", [penalty_row(1), penalty_row(2)], title="保山市市场监督管理局行政处罚")
    again = intake_partition(home, REGISTRY, InboxFolder("scjgj", "scjgj", "2026-10", (folder / "十月处罚（重报）.xlsx",)),
                             today=TODAY)
    note = next(p for p in problems(again[0]) if p["code"] == "W_SAME_AS_PREVIOUS")
    assert note["message"] == "与上次提交的“十月处罚.xlsx”内容相同，未作更改"
    assert again[0].status == "accepted" and Path(again[0].report_path).exists()
    changed = penalty_row(2, penalty_content="罚款一万元")
    write_xlsx(folder / "更正.xlsx", [penalty_row(1), changed])
    third = intake_partition(home, REGISTRY, InboxFolder("scjgj", "scjgj", "2026-10", (folder / "更正.xlsx",)),
                             today=TODAY)
    assert "W_SAME_AS_PREVIOUS" not in third[0].manifest["warning_counts"]


def test_a_file_of_unknown_kind_counts_the_rows_below_its_header(intake, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["会议签到表"])  # a title row above the header
    ws.append(["序号", "姓名", "单位", "签到时间"])
    for i in range(3):
        ws.append([str(i + 1), f"张{i}", "某局", "9:00"])
    ws.append(["合计：3人"])
    wb.save(tmp_path / "签到.xlsx")
    m = run(intake, tmp_path / "签到.xlsx").manifest
    assert m["file_error"]["code"] == "F_UNKNOWN_KIND" and (m["rows_read"], m["rows_rejected"]) == (3, 3)


def test_a_month_folder_that_is_no_month_never_becomes_a_path(tmp_path):
    home = Home(tmp_path / "home").ensure()
    path = write_xlsx(tmp_path / "处罚.xlsx", [penalty_row(1)])
    result = Intake(REGISTRY, home).run(path, department="scjgj", month="../../..", today=TODAY)
    assert result.manifest["file_error"]["code"] == "F_BAD_MONTH_FOLDER"
    assert home.root in result.manifest_path.parents and home.root in Path(result.report_path).parents
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "处罚.xlsx"]


def test_identifiers_written_as_numbers_in_a_csv_are_refused(intake, tmp_path):
    """A CSV saved from number cells: an 18-digit ID with a decimal point, a USCC in scientific notation."""
    from bs_credit_pipeline.demo import make_uscc

    person = penalty_row(1, person=True)
    person["id_number"] += ".0"
    org = penalty_row(2, uscc="9.15305E+17")
    fine = penalty_row(3, uscc=make_uscc(3))
    path = write_xlsx(tmp_path / "x.xlsx", [person, org, fine])
    import openpyxl

    rows = [[c.value for c in r] for r in openpyxl.load_workbook(path).active.iter_rows()]
    (tmp_path / "处罚.csv").write_text("\n".join(",".join("" if v is None else str(v) for v in r) for r in rows) + "\n",
                                      encoding="utf-8")
    result = run(intake, tmp_path / "处罚.csv")
    assert codes(result) == {2: {"E_EXCEL_NUMBER_CELL"}, 3: {"E_EXCEL_NUMBER_CELL"}}
    assert result.manifest["rows_loaded"] == 1


def test_many_dates_outside_the_month_give_one_note_for_the_file(intake, tmp_path):
    rows = [penalty_row(i, decision_date=f"2026-0{1 + i % 9}-15") for i in range(25)]  # January-September
    result = run(intake, write_xlsx(tmp_path / "补报.xlsx", rows))
    assert result.status == "accepted"
    notes = [p for p in problems(result) if p["code"].startswith("W_DATE")]
    assert len(notes) == 1 and notes[0]["code"] == "W_DATES_OUTSIDE_MONTH"
    assert notes[0]["message"] == "共 25 行的“处罚决定日期”不在本次报送的月份（2026-10）内，最早 2026-01-15，最晚 2026-09-15"
