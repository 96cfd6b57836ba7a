"""Data contracts, registry and message catalog: loading, lookups, and YAML-only extension."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bs_credit_pipeline.contracts import (
    COLUMN_TYPES,
    DEFAULT_DIR,
    KNOWN_CHECKS,
    ContractError,
    Registry,
    normalise_header,
)
from bs_credit_pipeline.intake.schema import CELL, compile_contract, problem_code

KINDS = {
    "admin_penalty", "admin_licence", "dishonest_debtor", "serious_dishonesty", "good_record",
    "volunteer_service", "civil_servant_record", "gov_integrity_record", "credit_repair", "objection",
}
REQUIRED_CODES = """
E_REQUIRED E_REQUIRED_IF E_ENUM E_DATE_FORMAT W_DATE_FUTURE E_NUMBER E_NEGATIVE E_TOO_LONG E_USCC_LENGTH
E_USCC_CHARSET E_USCC_CHECK E_USCC_ORGCODE_CHECK E_ORGCODE_LENGTH E_ORGCODE_CHARSET E_ORGCODE_CHECK E_ID_MASKED
E_ID_SCIENTIFIC E_ID_EXCEL_NUMBER E_ID_LENGTH E_ID_CHARSET E_ID_BIRTHDATE E_ID_FUTURE_BIRTH E_ID_CHECK
E_SUBJECT_CODE E_SUBJECT_ID_MISSING E_GOV_ORGAN_USCC E_DUPLICATE_KEY W_ID_ADDRESS_UNKNOWN W_ID_ADDRESS_RETIRED
F_UNREADABLE F_ENCRYPTED F_EMPTY F_UNSUPPORTED_FORMAT F_TOO_LARGE F_NO_DATA F_NO_HEADER F_UNKNOWN_KIND
F_MISSING_COLUMNS F_WRONG_DEPARTMENT F_UNKNOWN_DEPARTMENT F_BAD_MONTH_FOLDER N_DROPPED_COLUMN N_HIDDEN_SHEET
N_SKIPPED_ROWS
""".split()


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


@pytest.fixture
def contracts_dir(tmp_path: Path) -> Path:
    target = tmp_path / "data_contracts"
    shutil.copytree(DEFAULT_DIR, target, ignore=shutil.ignore_patterns("rules"))
    return target


def _edit(path: Path, change) -> None:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    change(data)
    path.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _column(contract: dict, name: str) -> dict:
    return next(c for c in contract["columns"] if c["name"] == name)


def _variants(registry: Registry):
    for c in registry.contracts.values():
        yield c
        for d in c.domains:
            yield c.for_domain(d)


# ---------------------------------------------------------------------------------------------- the shipped data


def test_every_contract_loads_with_its_kind_and_messages(registry):
    assert set(registry.contracts) == KINDS
    for kind, c in registry.contracts.items():
        assert c.kind == kind and c.title and c.legal_basis and c.file_name_aliases
        assert c.column(c.record_date).type == "date"
        assert "not_future" in c.column(c.record_date).checks
        assert c.message_codes() <= set(registry.messages)


def test_headers_and_aliases_are_unique_within_each_contract(registry):
    for c in _variants(registry):
        owners = Counter()
        for col in c.columns:
            for key in {normalise_header(t) for t in (col.header, *col.aliases)}:
                owners[key] += 1
        assert [k for k, n in owners.items() if n > 1] == [], c.kind
        assert len(c.header_index()) >= len(c.columns)


def test_columns_are_compile_ready_and_documented(registry):
    for c in _variants(registry):
        for col in c.columns:
            assert col.type in COLUMN_TYPES and set(col.checks) <= set(KNOWN_CHECKS)
            assert (col.values is not None) == (col.type == "enum"), (c.kind, col.name)
            assert col.description, (c.kind, col.name)
            if col.type in ("citizen_id", "id_number", "subject_code"):
                assert col.pii, (c.kind, col.name)


@pytest.mark.parametrize(
    "kind, natural_key, record_date, promote, columns",
    [
        ("admin_licence", ("licence_doc_no",), "decision_date", {"category": "licence_category", "end_date": "valid_to"},
         ["subject_name", "subject_category", "uscc", "reg_no", "org_code", "tax_no", "institution_cert_no",
          "social_org_cert_no", "legal_rep_name", "legal_rep_id_type", "legal_rep_id_number", "id_type", "id_number",
          "licence_doc_name", "licence_cert_name", "licence_no", "licence_content", "valid_from", "authority",
          "authority_uscc", "current_status", "source_unit", "source_unit_uscc", "domain", "remarks"]),
        ("dishonest_debtor", ("case_no",), "publish_date", {"category": "situations", "end_date": "removed_date"},
         ["subject_name", "subject_code", "gender", "age", "legal_rep_name", "court", "basis_doc_no", "filing_date",
          "basis_unit", "obligation", "performance", "term_end", "domain"]),
        ("serious_dishonesty", ("decision_doc_no",), "listing_date", {"category": "list_name", "end_date": "removal_date"},
         ["subject_name", "subject_code", "legal_rep_name", "legal_rep_id_number", "reason", "basis",
          "deciding_department", "term_end", "domain"]),
        ("good_record", ("grant_doc_no", "honour_type"), "grant_date", {"category": "honour_type", "end_date": "valid_until"},
         ["subject_name", "subject_code", "honour_name", "granting_unit", "domain"]),
        ("volunteer_service", ("service_date", "project_name"), "service_date", {},
         ["name", "citizen_id", "hours", "organiser"]),
        ("civil_servant_record", ("decision_doc_no", "record_type", "record_date"), "record_date", {"category": "record_type"},
         ["name", "citizen_id", "employer", "employer_uscc", "position", "record_content", "result", "deciding_unit"]),
        ("gov_integrity_record", ("decision_doc_no",), "record_date", {"category": "record_type", "end_date": "end_date"},
         ["subject_name", "uscc", "division_code", "key_area", "record_content", "deciding_unit"]),
        ("credit_repair", ("target_kind", "target_ref", "decided_date"), "decided_date", {"category": "outcome"},
         ["subject_name", "subject_code", "received_date", "obligation_fulfilled", "commitment_made", "reason",
          "deciding_unit"]),
        ("objection", ("target_kind", "target_ref", "received_date"), "received_date", {"category": "outcome"},
         ["subject_name", "subject_code", "decided_date", "reason", "handling_unit"]),
    ],
)
def test_fixed_canonical_columns(registry, kind, natural_key, record_date, promote, columns):
    c = registry.contracts[kind]
    assert c.natural_key == natural_key and c.record_date == record_date and c.promote == promote
    names = {col.name for col in c.columns}
    assert set(columns) <= names and set(natural_key) <= names


def test_natural_key_starts_with_the_document_number_repairs_refer_to(registry):
    for kind, c in registry.contracts.items():
        if kind not in ("volunteer_service", "credit_repair", "objection"):
            assert c.column(c.natural_key[0]).header.endswith("号"), kind


def test_enums_and_types_the_other_modules_rely_on(registry):
    c = registry.contracts
    assert c["admin_licence"].column("licence_category").values == ("普通", "特许", "认可", "核准", "登记", "其他")
    assert c["admin_licence"].column("current_status").values == ("有效", "无效")
    situations = c["dishonest_debtor"].column("situations")
    assert situations.multi and len(situations.values) == 6
    assert c["dishonest_debtor"].column("performance").values == ("全部未履行", "部分未履行")
    assert c["dishonest_debtor"].default_domain == "司法诉讼"
    assert c["volunteer_service"].default_domain == "志愿服务"
    assert c["volunteer_service"].column("hours").type == "decimal"
    assert c["gov_integrity_record"].column("uscc").checks == ("gov_organ_uscc",)
    assert len(c["gov_integrity_record"].column("record_type").values) == 12
    assert c["credit_repair"].column("outcome").values == ("修复", "不予修复")
    assert c["objection"].column("outcome").values == ("更正", "删除", "维持")
    assert not c["objection"].column("outcome").required
    assert c["objection"].column("decided_date").required_if == {"column": "outcome", "in": ("更正", "删除", "维持")}
    assert c["good_record"].column("honour_type").values[0] == "A级纳税人"
    for kind in ("volunteer_service", "civil_servant_record"):
        assert c[kind].column("name").pii and c[kind].column("citizen_id").pii


def test_subject_specs(registry):
    c = registry.contracts
    assert c["admin_penalty"].subject.fixed_type is None and c["admin_penalty"].subject.category == "subject_category"
    assert c["dishonest_debtor"].subject.fixed_type is None
    assert c["dishonest_debtor"].subject.org_codes == ("subject_code",) == (c["dishonest_debtor"].subject.person_id,)
    assert c["volunteer_service"].subject.fixed_type == "person"
    assert c["gov_integrity_record"].subject.fixed_type == "org"
    assert c["serious_dishonesty"].subject.legal_rep_id == "legal_rep_id_number"


def test_values_from_resolves_domains_and_record_kinds(registry):
    domain_names = tuple(registry.domains)
    assert len(domain_names) == 17 and "志愿服务" in domain_names
    for c in registry.contracts.values():
        if c.domain_column:
            assert c.column(c.domain_column).values == domain_names
    targets = registry.contracts["credit_repair"].column("target_kind").values
    assert set(targets) == {c.title for k, c in registry.contracts.items() if k not in ("credit_repair", "objection")}
    assert registry.contracts["objection"].column("target_kind").values == targets


def test_normalise_header():
    assert normalise_header(" ＊行政相对人名称* ") == normalise_header("行政相对人名称")
    assert normalise_header("罚款金额\n（万元）") == "罚款金额(万元)"
    assert normalise_header("罚款金额【万元】") == "罚款金额(万元)"
    assert normalise_header("\ufeff处罚决定书文号（必填）") == "处罚决定书文号"
    assert normalise_header("行政相对人名称\u3000") == "行政相对人名称"
    assert normalise_header("Subject_Name") == "subject_name"
    assert normalise_header(None) == ""


def test_header_index_maps_headers_aliases_and_variants(registry):
    index = registry.contracts["admin_penalty"].header_index()
    assert index[normalise_header("*行政相对人名称")] == "subject_name"
    assert index[normalise_header("当事人名称")] == "subject_name"
    assert index[normalise_header("罚款金额 (万元)")] == "fine_amount"
    assert index[normalise_header("decision_no")] == "decision_no"
    debtor = registry.contracts["dishonest_debtor"].header_index()
    assert debtor[normalise_header("身份证号码/组织机构代码")] == "subject_code"
    assert debtor[normalise_header("撤销/屏蔽时间")] == "removed_date"


def test_for_domain_applies_overrides_and_extra_columns(registry):
    base = registry.contracts["admin_penalty"]
    food = base.for_domain("食品药品")
    assert base.column("violation_type").type == "text"
    vt = food.column("violation_type")
    assert vt.type == "enum" and vt.multi and "无证生产经营" in vt.values
    assert vt.header == base.column("violation_type").header and vt.required
    assert food.domains == {} and [c.name for c in food.columns] == [c.name for c in base.columns]
    assert base.for_domain("不存在的领域") is base and base.for_domain(None) is base


def test_department_for_folder(registry):
    assert registry.department_for_folder("scjgj").name == "保山市市场监督管理局"
    assert registry.department_for_folder("保山市市场监督管理局").code == "scjgj"
    assert registry.department_for_folder(" 市工商局 ").code == "scjgj"
    assert registry.department_for_folder("ＦＧＷ").code == "fgw"
    assert registry.department_for_folder("信用办").code == "fgw"
    assert registry.department_for_folder("市国税局").code == "swj"
    assert registry.department_for_folder("不存在的局") is None


def test_department_catalog(registry):
    d = registry.departments
    assert {"lyq", "sdx", "llx", "cnx", "tcs"} <= set(d)
    assert {"credit_repair", "objection", "good_record"} <= set(d["fgw"].kinds)
    assert d["fy"].kinds == ("dishonest_debtor",)
    assert d["tcs"].domains == tuple(registry.domains)
    for dept in d.values():
        assert set(dept.kinds) <= KINDS
        assert set(dept.domains) <= set(registry.domains)
    assert registry.default_domain("swj", "good_record") == "税收缴纳"
    assert registry.default_domain("lyq", "volunteer_service") == "志愿服务"  # the contract's default
    assert registry.default_domain("scjgj", "admin_penalty") is None


def test_domains_and_occupations(registry):
    assert registry.domain_name("生态环境") == "环境保护"
    assert registry.domain_name("food_drug") == "食品药品"
    assert registry.domain_name("未知") is None
    assert len(registry.occupations) == 16 and registry.occupations["律师"].domain == "司法诉讼"


def test_messages(registry):
    assert set(REQUIRED_CODES) <= set(registry.messages)
    for m in registry.messages.values():
        assert "{value}" not in m.en and m.zh and m.hint
    zh, hint, en, severity = registry.message("E_ENUM", header="处罚类别", column="penalty_types", value="罚金",
                                              expected="警告、罚款", unknown_part="", suggestion="您是否要填写“罚款”？")
    assert zh == "“处罚类别”的值“罚金”不在可选范围内，可选值：警告、罚款" and severity == "error"
    assert hint.startswith("您是否要填写“罚款”？")
    assert "罚金" not in en and "penalty_types" in en
    zh, _, _, _ = registry.message("F_UNKNOWN_KIND")
    assert "{known_kinds}" in zh
    assert "文本" in registry.message("E_ID_EXCEL_NUMBER")[1] and "15" in registry.message("E_ID_EXCEL_NUMBER")[0]
    assert registry.message("N_SKIPPED_ROWS", count=3)[3] == "notice"
    with pytest.raises(KeyError):
        registry.message("E_NO_SUCH_CODE")


def test_every_check_a_contract_compiles_to_reports_a_known_message(registry):
    """Pandera names a failed check by the check's own name (isin, str_length ...), whatever name= says: each one
    must map to a message, or one bad cell would stop the whole file's intake."""
    for contract in registry.contracts.values():
        for variant in [contract, *(contract.for_domain(d) for d in contract.domains)]:
            compiled = compile_contract(variant)
            schemas = [compiled.columns, *(schema for *_, schema in compiled.rules)]
            checks = [c for s in schemas for c in s.checks] + [
                c for s in schemas for col in s.columns.values() for c in col.checks]
            for check in checks:
                code = problem_code(check.error or check.name)
                assert code == CELL or code in registry.messages, (variant.kind, check)


def test_every_message_has_a_short_title(registry):
    for code, m in registry.messages.items():
        title = registry.message_title(code)
        assert title and title == m.title and "{" not in title and len(title) <= 16, code
    assert registry.message_title("E_ID_CHECK") == "身份证号码校验位错误"
    assert registry.message_title("F_ENCRYPTED") == "文件设有密码"
    with pytest.raises(KeyError):
        registry.message_title("E_NO_SUCH_CODE")


# --------------------------------------------------------------------------------------- extension with YAML only

NEW_KIND = """
kind: land_supervision
title: 土地违法
version: 1
legal_basis: [《中华人民共和国土地管理法》]
file_name_aliases: [土地违法, 违法用地]
subject:
  name: subject_name
  org_codes: [subject_code]
  person_id: subject_code
natural_key: [case_no]
record_date: decision_date
promote: {category: violation}
domain_column: domain
columns:
  - {name: subject_name, header: 当事人名称, type: text, required: true, description: 全称或姓名}
  - {name: subject_code, header: 统一社会信用代码（身份证号码）, aliases: [统一社会信用代码], type: subject_code, required: true, pii: true, description: 18位代码}
  - {name: case_no, header: 案件编号, type: text, required: true, description: 立案编号}
  - {name: violation, header: 违法类型, type: enum, values: [非法占地, 非法转让], required: true, description: 下拉选择}
  - {name: decision_date, header: 决定日期, type: date, required: true, checks: [not_future], description: 格式 2026-10-03}
  - {name: domain, header: 所属领域, type: enum, values_from: domains, description: 领域}
"""


def test_new_kind_domain_and_department_with_yaml_only(contracts_dir):
    (contracts_dir / "kinds" / "land_supervision.yaml").write_text(NEW_KIND, encoding="utf-8")
    _edit(contracts_dir / "kinds" / "admin_licence.yaml", lambda d: d.setdefault("domains", {}).update({
        "医疗卫生": {
            "columns": [{"name": "practice_scope", "header": "执业范围", "aliases": ["诊疗科目"], "type": "text",
                         "description": "医疗机构执业许可填写"}],
            "overrides": {"licence_cert_name": {"required": True}},
        }
    }))
    _edit(contracts_dir / "departments.yaml", lambda d: d["departments"].append({
        "code": "zrzyj", "name": "保山市自然资源和规划局", "aliases": ["市自然资源局", "市国土资源局"],
        "kinds": ["land_supervision", "admin_penalty"], "domains": ["工程建设"],
        "default_domains": {"land_supervision": "工程建设"},
    }))
    reg = Registry.load(contracts_dir)

    land = reg.contracts["land_supervision"]
    assert land.header_index()[normalise_header("*案件编号")] == "case_no"
    assert land.column("domain").values == tuple(reg.domains)
    assert land.message_codes() <= set(reg.messages)
    assert "土地违法" in reg.contracts["credit_repair"].column("target_kind").values

    med = reg.contracts["admin_licence"].for_domain("医疗卫生")
    assert med.column("practice_scope").header == "执业范围" and med.column("licence_cert_name").required
    assert not reg.contracts["admin_licence"].column("licence_cert_name").required
    assert med.header_index()[normalise_header("诊疗科目")] == "practice_scope"

    dept = reg.department_for_folder("市国土资源局")
    assert dept.code == "zrzyj" and reg.default_domain("zrzyj", "land_supervision") == "工程建设"

    from bs_credit_pipeline.intake.schema import compile_contract  # compile-ready: the real pandera compiler accepts them

    assert compile_contract(land).contract is land
    assert compile_contract(med).contract is med


def test_env_var_overrides_the_default_directory(contracts_dir, monkeypatch):
    _edit(contracts_dir / "departments.yaml", lambda d: d["departments"].append(
        {"code": "tjj", "name": "保山市统计局", "kinds": ["admin_penalty"], "domains": []}))
    monkeypatch.setenv("BS_CREDIT_CONTRACTS", str(contracts_dir))
    assert "tjj" in Registry.load().departments


def test_malformed_yaml_names_file_and_line(contracts_dir):
    (contracts_dir / "kinds" / "broken.yaml").write_text("kind: broken\ncolumns: [\n  - {name: x\n", encoding="utf-8")
    with pytest.raises(ContractError, match=r"kinds/broken\.yaml: invalid YAML at line \d+"):
        Registry.load(contracts_dir)


def _column(data: dict, name: str) -> dict:
    return next(c for c in data["columns"] if c["name"] == name)


@pytest.mark.parametrize(
    "rel, change, expected",
    [
        ("kinds/admin_licence.yaml", lambda d: _column(d, "licence_no").update(type="number"),
         r"admin_licence\.yaml column licence_no: unknown column type 'number'"),
        ("kinds/admin_licence.yaml", lambda d: d.update(natural_key=["licence_number"]),
         r"natural_key names missing column 'licence_number'"),
        ("kinds/admin_licence.yaml", lambda d: _column(d, "licence_no").update(aliases=["证书名称"]),
         r"'证书名称' of licence_no is also a header/alias of licence_cert_name"),
        ("kinds/admin_licence.yaml", lambda d: d["promote"].update(end_date="valid_until"),
         r"promote\.end_date names missing column 'valid_until'"),
        ("kinds/admin_licence.yaml", lambda d: d["promote"].update(end_date="licence_no"),
         r"promote\.end_date column licence_no must be of type date"),
        ("kinds/admin_licence.yaml", lambda d: _column(d, "valid_to").update(checks=["not_past"]),
         r"unknown check 'not_past'"),
        ("kinds/admin_licence.yaml", lambda d: _column(d, "valid_to").update(requried=True),
         r"unknown key\(s\) requried"),
        ("kinds/admin_licence.yaml", lambda d: _column(d, "current_status").pop("values"),
         r"an enum needs exactly one of values or values_from"),
        ("kinds/admin_licence.yaml", lambda d: d.update(domains={"食品药品": {"overrides": {"no_such": {"required": True}}}}),
         r"domains\.食品药品: override names missing column 'no_such'"),
        ("kinds/admin_licence.yaml", lambda d: d.update(domains={"养老服务": {}}),
         r"domains\.养老服务: not a domain of domains\.yaml"),
        ("departments.yaml", lambda d: d["departments"][0]["kinds"].append("land_supervision"),
         r"departments\.yaml fgw: unknown kind 'land_supervision'"),
        ("departments.yaml", lambda d: d["departments"][1]["domains"].append("养老服务"),
         r"departments\.yaml gaj: unknown domain '养老服务'"),
        ("departments.yaml", lambda d: d["departments"][1]["aliases"].append("信用办"),
         r"folder name '信用办' also names department fgw"),
        ("messages.yaml", lambda d: d.pop("E_GOV_ORGAN_USCC"),
         r"gov_integrity_record\.yaml: message code\(s\) used by its columns missing from messages\.yaml: E_GOV_ORGAN_USCC"),
        ("kinds/dishonest_debtor.yaml",  # a value that reads as two others: multi-value cells could not be read
         lambda d: _column(d, "situations")["values"].append("违反财产报告制度、违反限制消费令"),
         r"column situations: multi-value cells cannot be read: value '违反财产报告制度、违反限制消费令' reads as several"),
        ("kinds/admin_penalty.yaml", lambda d: _column(d, "penalty_types")["values"].append("罚 款"),
         r"column penalty_types: multi-value cells cannot be read: values 罚款 / 罚 款 are the same"),
        ("kinds/good_record.yaml", lambda d: _column(d, "honour_type")["synonyms"].update({"A级企业": "A类纳税人"}),
         r"column honour_type: synonym 'A级企业' names A类纳税人, not among the values"),
        ("kinds/good_record.yaml", lambda d: _column(d, "honour_type")["synonyms"].update({"表彰荣誉": "表彰荣誉"}),
         r"column honour_type: synonym '表彰荣誉' is an allowed value itself"),
        ("kinds/admin_licence.yaml", lambda d: _column(d, "licence_category").update(other="另行注明"),
         r"column licence_category: other '另行注明' must be one of the values"),
        ("messages.yaml", lambda d: d["E_ENUM"].update(en="bad value {value} in {column}"),
         r"messages\.yaml E_ENUM: en \(log text\) must not contain the cell value"),
        ("messages.yaml", lambda d: d["F_ENCRYPTED"].pop("title"),
         r"messages\.yaml F_ENCRYPTED: missing title"),
        ("messages.yaml", lambda d: d["E_ENUM"].update(title="不在可选值{expected}中"),
         r"messages\.yaml E_ENUM: title must be at most 16 characters without placeholders"),
    ],
)
def test_invalid_yaml_gives_clear_errors(contracts_dir, rel, change, expected):
    _edit(contracts_dir / rel, change)
    with pytest.raises(ContractError, match=expected):
        Registry.load(contracts_dir)
