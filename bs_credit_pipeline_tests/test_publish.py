"""Public exports (masking, formats, exchange layout) and the raw citizen-ID scan."""

import datetime as dt
import json
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pytest
import yaml

import lists_world as w
from bs_credit_pipeline.lists import build_all, load_rules
from bs_credit_pipeline.publish import KINDS_DIR, publish, scan_for_raw_ids
from bs_credit_pipeline.xlsx import Workbook

AS_OF = dt.date(2026, 6, 15)
RULES = load_rules()


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = tmp_path_factory.mktemp("pub")
    conn = w.connect(root / "warehouse.duckdb")
    w.populate(conn)
    build_all(conn, AS_OF, RULES)
    manifest = publish(conn, AS_OF, root / "publish", RULES["masking"])
    conn.close()
    return root, root / "publish" / AS_OF.isoformat(), manifest


def read_csv(path: Path) -> list[list[str]]:
    import csv

    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(raw.decode("utf-8-sig").splitlines()))


def test_black_list_masked_persons_public_orgs(published):
    _, out, manifest = published
    rows = read_csv(out / "black_list.csv")
    assert rows[0] == ["主体名称", "统一社会信用代码或身份证号码", "主体类别", "名单类型", "列入日期", "认定部门", "列入规则"]
    body = {r[1]: r for r in rows[1:]}
    assert set(body) == {w.GOV_G[0], w.ORG_C[0], w.P_S[0][:6] + "********" + w.P_S[0][-4:]}  # ORG_E withheld
    person = body[w.P_S[0][:6] + "********" + w.P_S[0][-4:]]
    assert person[0] == "赵*" and person[2] == "自然人" and person[5] == "保山市中级人民法院"
    assert body[w.ORG_C[0]][0] == w.ORG_C[2]
    assert json.loads((out / "black_list.json").read_text(encoding="utf-8")) == [
        dict(zip(rows[0], r)) for r in rows[1:]]
    files = {f["name"]: f for f in manifest["files"]}
    assert files["black_list.csv"]["rows"] == 3 and not files["black_list.csv"]["exchange"]


def test_xlsx_cells_are_text(published):
    _, out, _ = published
    ws = openpyxl.load_workbook(out / "red_list.xlsx").active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0][:3] == ["主体名称", "统一社会信用代码或身份证号码", "主体类别"]
    assert {v[0] for v in values[1:]} == {"吴*", "郑**"}
    assert all(c.data_type == "s" for row in ws.iter_rows(min_row=2) for c in row if c.value is not None)
    assert {c.number_format for row in ws.iter_rows() for c in row if c.value is not None} == {"@"}


def test_shuanggongshi_exchange_layout_and_masking(published):
    _, out, manifest = published
    contract = yaml.safe_load((KINDS_DIR / "admin_penalty.yaml").read_text(encoding="utf-8"))
    rows = read_csv(out / "admin_penalty.csv")
    assert rows[0] == [c["header"] for c in contract["columns"]]
    col = {h: i for i, h in enumerate(rows[0])}
    # active penalties only: p3 p4 p7 p8 (ORG_A), w1 w2 w3; not the expired, withheld or minor ones
    assert len(rows) == 8
    person = next(r for r in rows if r[col["行政处罚决定书文号"]] == "保公交罚〔2026〕1号")
    assert person[col["行政相对人名称"]] == "钱*"
    assert person[col["证件号码"]] == w.P_T[0][:6] + "********" + w.P_T[0][-4:]
    org = next(r for r in rows if r[col["行政处罚决定书文号"]] == "保环罚〔2026〕3号")
    assert org[col["行政相对人名称"]] == w.ORG_A[2] and org[col["统一社会信用代码"]] == w.ORG_A[0]
    assert org[col["法定代表人"]] == "欧阳**"
    assert org[col["法定代表人证件号码"]] == w.LEGAL_E[1][:6] + "********" + w.LEGAL_E[1][-4:]
    assert {f["name"] for f in manifest["files"] if f["exchange"]} >= {"admin_penalty.csv"}


def test_change_list_is_published(published):
    _, out, _ = published
    rows = read_csv(out / "list_change.csv")
    assert rows[0][:3] == ["名单", "变动", "主体名称"]
    assert {(r[0], r[1], r[2]) for r in rows[1:]} >= {("严重失信主体名单", "列入", "赵*"), ("红名单", "列入", "吴*")}
    assert not any(r[2] == w.ORG_E[2] for r in rows[1:])  # withheld entries are not announced


def test_published_files_hold_no_raw_ids(published):
    _, out, _ = published
    assert scan_for_raw_ids([out]) == []


def test_scan_finds_raw_ids_in_files_and_database(published, tmp_path):
    root, _, _ = published
    raw = w.person_id(77)
    damaged = raw[:17] + ("0" if raw[17] != "0" else "1")  # wrong check character: not an ID
    (tmp_path / "leak.csv").write_text(f"name,id\n张三,{raw}\n李四,{damaged}\n企业,915305000000000198\n",
                                       encoding="utf-8")
    book = Workbook()
    book.add_worksheet().write(0, 0, f"身份证:{raw}")
    book.close(str(tmp_path / "leak.xlsx"))
    findings = scan_for_raw_ids([tmp_path])
    assert [(Path(f.location.split(":")[0]).name, f.count) for f in findings] == [("leak.csv", 1), ("leak.xlsx", 1)]
    assert all(raw not in repr(f) and f.sample == raw[:6] + "********" + raw[-4:] for f in findings)
    db_findings = scan_for_raw_ids([], db_path=root / "warehouse.duckdb")
    locations = {f.location.rsplit(":", 1)[1] for f in db_findings}
    assert {"core.credit_record.subject_id", "core.credit_record.legal_rep_id", "mart.black_list.subject_id"} <= locations



def test_scan_reads_lists_and_maps_of_base_tables_not_views(tmp_path):
    """A raw ID inside a list or a map column is found; a view over the table adds no second finding (it can
    only show the table's values)."""
    raw = w.person_id(78)
    db = tmp_path / "snapshot.duckdb"
    conn = duckdb.connect(str(db))
    conn.execute("CREATE TABLE t (ids VARCHAR[], written MAP(VARCHAR, VARCHAR), note VARCHAR, n INTEGER)")
    conn.execute("INSERT INTO t VALUES (['x', ?], MAP {'cert_no': ?}, 'clean', 1)", [raw, raw])
    conn.execute("CREATE VIEW v AS SELECT ids, written, upper(note) AS note FROM t")
    conn.close()
    findings = scan_for_raw_ids([], db_path=db)
    assert sorted(f.location.rsplit(":", 1)[1] for f in findings) == ["main.t.ids", "main.t.written"]
    assert all(f.count == 1 and raw not in repr(f) for f in findings)

def test_publish_is_repeatable(published):
    root, out, manifest = published
    conn = duckdb.connect(str(root / "warehouse.duckdb"))
    again = publish(conn, AS_OF, root / "publish", RULES["masking"])
    conn.close()
    digest = {f["name"]: f["sha256"] for f in manifest["files"] if f["format"] != "xlsx"}
    assert digest == {f["name"]: f["sha256"] for f in again["files"] if f["format"] != "xlsx"}
    assert not (out.parent / (out.name + ".tmp")).exists()


def test_xlsx_never_turns_submitted_text_into_a_formula_or_link(tmp_path):
    """A name a department sent as '=HYPERLINK(...)' must reach the public website as text, not as a live formula."""
    from bs_credit_pipeline.publish import _write_xlsx

    texts = ['=HYPERLINK("http://example.invalid","点击")', "https://example.invalid/x", "+1", "0012"]
    _write_xlsx(pa.table({"subject_name": texts}), tmp_path / "list.xlsx", "名单")
    ws = openpyxl.load_workbook(tmp_path / "list.xlsx")["名单"]
    cells = [ws.cell(row=r, column=1) for r in range(2, 6)]
    assert [(c.value, c.data_type, c.hyperlink) for c in cells] == [(t, "s", None) for t in texts]
