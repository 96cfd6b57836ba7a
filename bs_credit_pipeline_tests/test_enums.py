"""Enum cells of every contract: multi-value cells read by matching the allowed values, synonyms and older official
wordings stored as the canonical value, 其他-XXX, close misses answered with a suggestion."""

from __future__ import annotations

import datetime as dt
import itertools

import pyarrow as pa
import pytest

from bs_credit_pipeline.contracts import Registry, enums
from bs_credit_pipeline.intake.schema import compile_contract, enum_rewordings, normalise_frame, validate_frame

REGISTRY = Registry.load()
TODAY = dt.date(2026, 11, 1)
# Every separator an office uses between values: 、 ， , ； ; ／ / and line breaks, with stray spaces.
SEPARATORS = ["、", "，", ",", "；", ";", "/", "／", "\n", "\r\n", " 、 ", "， ", " ;"]


def _enum_columns(multi: bool):
    out = []
    for kind, contract in REGISTRY.contracts.items():
        for domain in (None, *contract.domains):
            variant = contract.for_domain(domain)
            for col in variant.columns:
                if col.type == "enum" and col.values and col.multi == multi:
                    out.append(pytest.param(variant, col, id=f"{kind}-{domain or 'base'}-{col.name}"))
    return out


MULTI = _enum_columns(True)
SINGLE = _enum_columns(False)
WITH_SYNONYMS = [p for p in MULTI + SINGLE if p.values[1].synonyms]


def _validate(contract, column: str, cells: list[str | None]):
    """normalise + validate one column of cells as intake does: (stored values, codes per row)."""
    frame = normalise_frame({column: pa.array(cells, pa.string())}, contract)
    problems, _ = validate_frame(compile_contract(contract), frame, TODAY)
    codes = {int(p): c for p, col, c in zip(problems.position, problems.column, problems.code) if col == column}
    return [None if v is None or v != v else str(v) for v in frame[column].tolist()], codes


def test_every_contract_has_multi_value_enums_to_test():
    names = {p.values[1].name for p in MULTI}
    assert {"penalty_types", "situations", "violation_type"} <= names


@pytest.mark.parametrize("contract,col", MULTI)
def test_every_multi_value_enum_reads_each_value_every_pair_and_the_whole_set(contract, col):
    values = list(col.values)
    joined = lambda parts: "、".join(sorted(parts, key=values.index))  # noqa: E731 - canonical: contract order
    cells, expected = [], []
    for v in values:
        cells += [v, f" {v} ", v + "的"]  # alone, with stray spaces, with the statutes' trailing 的
        expected += [v, v, v]
    for sep in SEPARATORS:
        for a, b in itertools.permutations(values, 2):
            cells.append(a + sep + b)
            expected.append(joined([a, b]))
        cells.append(sep.join(reversed(values)))
        expected.append(joined(values))
    stored, codes = _validate(contract, col.name, cells)
    assert codes == {}
    assert stored == expected


@pytest.mark.parametrize("contract,col", MULTI)
def test_an_unknown_part_of_a_multi_value_cell_is_rejected_and_named(contract, col):
    first = col.values[0]
    cells = [f"{first}、不存在的取值", "不存在的取值", f"{first}；{first}X"]
    stored, codes = _validate(contract, col.name, cells)
    assert codes == {0: "E_ENUM", 1: "E_ENUM", 2: "E_ENUM"}
    parsed = enums.of_column(col).parse(cells[0])
    assert parsed.values == (first,) and parsed.unknown == ("不存在的取值",)


@pytest.mark.parametrize("contract,col", WITH_SYNONYMS)
def test_every_synonym_of_every_enum_is_stored_as_its_standard_value_with_a_note(contract, col):
    cells = list(col.synonyms)
    stored, codes = _validate(contract, col.name, cells)
    assert codes == {}
    assert stored == ["、".join(sorted(t, key=col.values.index)) for t in col.synonyms.values()]
    notes = enum_rewordings({col.name: pa.array(cells, pa.string())}, contract)
    assert list(notes.position) == list(range(len(cells))) and set(notes.code) == {"W_ENUM_SYNONYM"}


@pytest.mark.parametrize("contract,col", SINGLE)
def test_every_single_value_enum_accepts_its_values_and_rejects_others(contract, col):
    stored, codes = _validate(contract, col.name, [*col.values, "不存在的取值"])
    assert stored[:-1] == list(col.values)
    assert codes == {len(col.values): "E_ENUM"}


def test_court_situations_written_as_the_court_exports_them():
    """Values containing 、, joined by commas, in the 2013 wording of 最高法 失信被执行人名单规定 art. 1."""
    contract = REGISTRY.contracts["dishonest_debtor"]
    cells = [
        "以伪造证据、暴力、威胁等方法妨碍、抗拒执行的",
        "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行的,违反财产报告制度的",
        "违反限制高消费令，被执行人无正当理由拒不履行执行和解协议的",
        "其他有履行能力而拒不履行生效法律文书确定义务的",
    ]
    stored, codes = _validate(contract, "situations", cells)
    assert codes == {}
    assert stored == [
        "以伪造证据、暴力、威胁等方法妨碍、抗拒执行",
        "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行、违反财产报告制度",
        "违反限制消费令、无正当理由拒不履行执行和解协议",
        "有履行能力而拒不履行生效法律文书确定义务",
    ]


def test_other_with_a_specification_is_accepted_as_other():
    contract = REGISTRY.contracts["admin_penalty"]
    stored, codes = _validate(contract, "penalty_types", ["罚款、其他-责令改正", "其他：没收工具", "其他-"])
    assert stored[:2] == ["罚款、其他", "其他"] and codes == {2: "E_ENUM"}
    notes = enum_rewordings({"penalty_types": pa.array(["罚款、其他-责令改正", "罚款"], pa.string())}, contract)
    assert list(notes.position) == [0]


@pytest.mark.parametrize("written,suggested", [("A级纳税企业", "A级纳税人"), ("警 告", None), ("处分", None), ("罚金", "罚款"),
                                               ("吊销许可证件号", "吊销许可证件")])
def test_close_misses_get_a_suggestion(written, suggested):
    col = REGISTRY.contracts["good_record"].column("honour_type") if "纳税" in written else \
        REGISTRY.contracts["admin_penalty"].column("penalty_types")
    vocabulary = enums.of_column(col)
    if written == "警 告":  # stray spaces are not a miss at all
        assert vocabulary.parse(written).values == ("警告",)
        return
    assert vocabulary.parse(written).unknown
    assert vocabulary.suggest(written) == suggested


@pytest.mark.parametrize("written", ["暂扣或者吊销许可证、暂扣或者吊销执照", "暂扣或者吊销许可证", "暂扣或者吊销执照"])
def test_the_combined_pre_2021_wording_is_stored_as_both_2021_types(written):
    """行政处罚法（1996/2009/2017）第八条（五）暂扣或者吊销许可证、暂扣或者吊销执照 does not say which applied:
    setting (docs/CONTRACTS.md): stored as both 暂扣许可证件 and 吊销许可证件, so the decision takes the higher tier
    (serious) unless the department gives 失信严重程度; the report tells it what was registered."""
    col = REGISTRY.contracts["admin_penalty"].column("penalty_types")
    parsed = enums.of_column(col).parse(written)
    assert parsed.values == ("暂扣许可证件", "吊销许可证件") and not parsed.unknown and parsed.reworded
    assert enums.of_column(col).parse("罚款、" + written).text == "罚款、暂扣许可证件、吊销许可证件"


def test_messages_list_the_allowed_values_of_the_rows_domain(tmp_path):
    """食品药品 makes 违法行为类型 an enum: its message lists that domain's values, not the base text type's length."""
    from bs_credit_pipeline.intake.driver import Intake
    from bs_credit_pipeline.paths import Home
    from bs_credit_pipeline_tests.test_intake import BASE_COLUMNS, penalty_row, write_xlsx

    path = write_xlsx(tmp_path / "处罚.xlsx", [penalty_row(1, violation_type="卖假货", domain="食品药品"),
                                             penalty_row(2, penalty_types="罚款、罚金")],
                      columns=BASE_COLUMNS + ["domain"])
    result = Intake(REGISTRY, Home(tmp_path / "home").ensure()).run(path, department="scjgj", month="2026-10",
                                                                    today=TODAY)
    rows = {r["excel_row"]: r for r in result.problems.to_pylist() if r["code"] == "E_ENUM"}
    assert "生产经营不符合食品安全标准的食品" in rows[2]["message"] and "字符" not in rows[2]["message"]
    assert "（其中“罚金”不是可选值）" in rows[3]["message"] and rows[3]["hint"].startswith("您是否要填写“罚款”？")
