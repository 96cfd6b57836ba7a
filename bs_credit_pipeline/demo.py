"""Realistic sample submissions for the demo: several departments and months, the formats offices really send,
and a few files with the mistakes data officers really make. All identifiers are synthetic (valid check chars).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .contracts import Registry
from .identifiers import USCC_ALPHABET, citizen_id_check_char, org_code_check_char, uscc_check_char
from .xlsx import Workbook, new_format

SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何林罗高段杞尹"
GIVEN = ["伟", "芳", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞", "平"]
COUNTIES = {"530502": "隆阳区", "530521": "施甸县", "530523": "龙陵县", "530524": "昌宁县", "530581": "腾冲市"}
COURT_SITUATIONS = [  # as court exports write them: values containing 、, several joined by commas, the 2013 wording
    "有履行能力而拒不履行生效法律文书确定义务",
    "以伪造证据、暴力、威胁等方法妨碍、抗拒执行的",
    "违反财产报告制度,违反限制高消费令",
    "其他有履行能力而拒不履行生效法律文书确定义务的，以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行的",
]
LEGACY_XLS = Path(__file__).with_name("demo_data") / "行政许可信息.xls"
LEGACY_XLS_MONTH = "2026-10"
TRADES = ["食品", "商贸", "建筑工程", "运输", "药业", "农业开发", "矿业", "餐饮管理", "电子商务", "茶业"]


HISTORY_DAYS = (365, 182, 91, 30)  # the demo's nightly job also runs as of these many days back, oldest first


def nightly_dates(as_of: dt.date) -> list[dt.date]:
    """The as-of dates the demo runs the nightly job for, oldest first, ending with `as_of`: the list history
    (mart.list_snapshot / list_change, the snapshot's analyst.list_history) then spans a year."""
    return [as_of - dt.timedelta(days=d) for d in HISTORY_DAYS] + [as_of]


def _rng(rng_or_seed) -> np.random.Generator:
    return rng_or_seed if isinstance(rng_or_seed, np.random.Generator) else np.random.default_rng(rng_or_seed)


def make_uscc(rng_or_seed=None, prefix: str = "91", division: str = "530502") -> str:
    """A random valid USCC with a valid embedded organisation code (new-style 'MA…' or all-digit)."""
    rng = _rng(rng_or_seed)
    if rng.random() < 0.5:
        body = "".join(rng.choice(list("0123456789"), 8))
    else:
        body = "MA" + "".join(rng.choice(list(USCC_ALPHABET), 6))
    org = body + org_code_check_char(body)
    head = prefix + division + org
    return head + uscc_check_char(head)


def make_citizen_id(rng_or_seed=None, division: str = "530502", birth: dt.date | None = None,
                    male: bool = True) -> str:
    """A random valid 18-digit citizen ID (birth date random in 1940-2005 unless given)."""
    rng = _rng(rng_or_seed)
    if birth is None:
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=int(rng.integers(0, 66 * 365)))
    sequence = 2 * int(rng.integers(0, 499)) + (1 if male else 2)
    body = f"{division}{birth:%Y%m%d}{sequence:03d}"
    return body + citizen_id_check_char(body)


@dataclass(frozen=True)
class DemoFile:
    path: Path
    expectation: str  # what the data officer should see (Chinese)


@dataclass
class World:
    """The synthetic credit subjects the demo's departments report on."""

    orgs: list[dict]
    persons: list[dict]
    organs: list[dict]


def make_world(seed: int = 2026) -> World:
    rng = np.random.default_rng(seed)
    divisions = list(COUNTIES)
    persons = []
    for i in range(60):
        division = divisions[i % len(divisions)] if i % 9 else "533001"  # a few pre-2000 保山地区 address codes
        birth = dt.date(1960, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365 * 40)))
        name = SURNAMES[int(rng.integers(len(SURNAMES)))] + GIVEN[int(rng.integers(len(GIVEN)))]
        persons.append({"name": name if i != 7 else "欧阳" + GIVEN[i % len(GIVEN)],
                        "id": make_citizen_id(rng, division=division, birth=birth, male=bool(i % 2))})
    orgs = []
    for i in range(40):
        division = divisions[i % len(divisions)]
        prefix = "92" if i % 10 == 9 else "91"
        county = COUNTIES[division]
        trade = TRADES[i % len(TRADES)]
        name = f"保山{county}{'某' if prefix == '92' else ''}{trade}{'经营部' if prefix == '92' else '有限公司'}{i:02d}"
        orgs.append({"name": name, "uscc": make_uscc(rng, prefix=prefix, division=division),
                     "rep": persons[i]})
    organs = [{"name": f"{COUNTIES[d]}人民政府", "uscc": make_uscc(rng, prefix="11", division=d), "division": d}
              for d in divisions]
    organs.append({"name": "保山市某局", "uscc": make_uscc(rng, prefix="11", division="530500"), "division": "530500"})
    return World(orgs, persons, organs)


def _rows_to_cells(contract, rows: list[dict], extra: dict[str, list] | None = None) -> tuple[list[str], list[list]]:
    used = [c for c in contract.columns if any(c.name in r for r in rows)]
    headers = [c.header for c in used]
    body = [[r.get(c.name) for c in used] for r in rows]
    for header, values in (extra or {}).items():
        headers.append(header)
        for line, v in zip(body, values):
            line.append(v)
    return headers, body


def _write_xlsx(path: Path, title: str | None, headers: list[str], body: list[list], *, footer: bool = True,
                numeric_cells: frozenset[tuple[int, int]] = frozenset(), hidden_sheet: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.add_worksheet("Sheet1")
    bold = new_format(wb, {"bold": True})
    date = new_format(wb, {"num_format": "yyyy-mm-dd"})
    r = 0
    if title:
        ws.merge_range(0, 0, 0, len(headers) - 1, title, new_format(wb, {"bold": True, "align": "center", "font_size": 14}))
        r = 1
    for j, h in enumerate(headers):
        ws.write(r, j, h, bold)
    for i, line in enumerate(body):
        r += 1
        for j, v in enumerate(line):
            if v is None:
                continue
            if (i, j) in numeric_cells:
                # An ID typed into a General cell: Excel keeps 15 significant digits.
                ws.write(r, j, float(f"{int(v):.15g}"))
            elif isinstance(v, (dt.date, dt.datetime)):
                ws.write_datetime_py(r, j, dt.datetime.combine(v, dt.time()), date)
            else:
                ws.write(r, j, str(v))
    if footer:
        ws.write(r + 2, 0, "合计：" + str(len(body)) + "条")
        ws.write(r + 3, 0, "填报人：李明    审核人：王芳    填报日期：" + dt.date.today().isoformat())
    if hidden_sheet:
        hidden = wb.add_worksheet("历史数据")
        hidden.write(0, 0, "旧表，勿报送")
        hidden.hide()
    wb.close(str(path))


def _write_csv(path: Path, headers: list[str], body: list[list], encoding: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(headers)
    for line in body:
        w.writerow(["" if v is None else (v.strftime("%Y/%m/%d") if isinstance(v, dt.date) else v) for v in line])
    path.write_bytes(buf.getvalue().encode(encoding))


def _penalty(world: World, rng, i: int, decided: dt.date, *, dept_name: str, dept_uscc: str, domain: str,
             types: str = "罚款", person: bool = False) -> dict:
    days = int(rng.integers(1, 20))  # drawn before the fine, as it always was, so the demo's world stays the same
    fine = rng.integers(1, 50) / 10 if "罚款" in types else None  # 万元, the contract's unit
    content = "、".join(f"罚款人民币{round(fine * 10000):,}元（{fine:.1f}万元）" if t == "罚款"
                       else f"责令停产停业{days}日" if t == "责令停产停业" else t for t in types.split("、"))
    base = {
        "decision_no": f"保市监罚〔{decided.year}〕{100 + i}号" if domain != "安全生产" else f"保应急罚〔{decided.year}〕{200 + i}号",
        "violation_type": "生产经营不符合食品安全标准的食品" if domain == "食品药品" else "未按规定履行安全生产职责",
        "violation_facts": "经现场检查，当事人存在违法行为，事实清楚，证据确凿。",
        "penalty_basis": "《中华人民共和国食品安全法》第一百二十四条" if domain == "食品药品" else "《中华人民共和国安全生产法》第九十七条",
        "penalty_types": types, "penalty_content": content,
        "fine_amount": f"{fine:.1f}" if fine is not None else None,
        "decision_date": decided, "valid_until": decided.replace(year=decided.year + 1),
        "authority": dept_name, "authority_uscc": dept_uscc, "source_unit": dept_name, "source_unit_uscc": dept_uscc,
        "domain": domain,
    }
    if person:
        p = world.persons[30 + i % 20]
        base.update({"subject_name": p["name"], "subject_category": "自然人", "id_type": "身份证", "id_number": p["id"]})
    else:
        o = world.orgs[i % len(world.orgs)]
        base.update({"subject_name": o["name"], "subject_category": "法人及非法人组织", "uscc": o["uscc"],
                     "legal_rep_name": o["rep"]["name"]})
    return base


def legacy_licences(registry: Registry, seed: int = 2026) -> tuple[list[str], list[list]]:
    """Headers and rows of the demo's legacy .xls (LEGACY_XLS): 市场监管局's food licences of October 2026.

    The committed file was saved by LibreOffice from these rows (bs_credit_pipeline_tests/fixtures/make_office.py);
    the demo copies it, so it needs no .xls writer.
    """
    world = make_world(seed)
    dept = registry.departments["scjgj"]
    authority = _department_usccs(registry, np.random.default_rng(seed))["scjgj"]
    first = dt.date.fromisoformat(LEGACY_XLS_MONTH + "-01")
    lic = []
    for i in range(12):
        o = world.orgs[(i * 3) % len(world.orgs)]
        d = first + dt.timedelta(days=i)
        lic.append({"subject_name": o["name"], "subject_category": "法人及非法人组织", "uscc": o["uscc"],
                    "legal_rep_name": o["rep"]["name"], "licence_doc_name": "食品经营许可决定书",
                    "licence_doc_no": f"保市监许〔{d.year}〕{300 + i}号", "licence_category": "普通",
                    "licence_cert_name": "食品经营许可证", "licence_no": f"JY15305{i:08d}", "licence_content": "预包装食品销售",
                    "decision_date": d, "valid_from": d, "valid_to": d.replace(year=d.year + 5),
                    "authority": dept.name, "authority_uscc": authority, "current_status": "有效",
                    "source_unit": dept.name, "source_unit_uscc": authority, "domain": "食品药品"})
    return _rows_to_cells(registry.contracts["admin_licence"], lic)


def _department_usccs(registry: Registry, rng: np.random.Generator) -> dict[str, str]:
    """The departments' own USCCs: the first draws of the demo's random stream."""
    return {code: make_uscc(rng, prefix="11", division="530500") for code in registry.departments}


def write_demo_inbox(inbox: Path, registry: Registry, today: dt.date, seed: int = 2026) -> list[DemoFile]:
    """Write the demo's submissions under `inbox/<department>/<YYYY-MM>/` and say what each should produce."""
    rng = np.random.default_rng(seed)
    world = make_world(seed)
    c = registry.contracts
    dept_uscc = _department_usccs(registry, rng)
    name = {code: d.name for code, d in registry.departments.items()}
    first = today.replace(day=1)
    last_month = (first - dt.timedelta(days=1)).replace(day=1)
    prev_month = (last_month - dt.timedelta(days=1)).replace(day=1)
    m1, m2 = prev_month.strftime("%Y-%m"), last_month.strftime("%Y-%m")
    files: list[DemoFile] = []

    def folder(dept: str, month: str) -> Path:
        return inbox / dept / month

    # 市场监管局: penalties with a merged title row, footer rows, a 手机号 column and typical mistakes.
    rows = [_penalty(world, rng, i, last_month + dt.timedelta(days=i % 25), dept_name=name["scjgj"],
                     dept_uscc=dept_uscc["scjgj"], domain="食品药品", types="警告、罚款" if i % 4 == 0 else "罚款",
                     person=i % 5 == 0) for i in range(30)]
    bad = {5: ("decision_date", today + dt.timedelta(days=20)), 10: ("id_number", None), 12: ("decision_no", None)}
    for i, (col, value) in bad.items():
        rows[i][col] = value
    rows[15]["id_number"] = rows[15]["id_number"][:10] + "****" + rows[15]["id_number"][14:]  # masked ID
    rows[17]["subject_category"] = "企业"  # not one of the 双公示 categories (法人及非法人组织 ...)
    old = rows[0]["id_number"]  # a first-generation 15-digit ID (born 19xx): stored as its 18-digit form
    rows[0]["id_number"] = old[:6] + old[8:17]
    pid = rows[20]["id_number"]  # full-width digits, lower-case x, an ideographic space: normalised, accepted
    rows[20]["id_number"] = "".join(chr(ord(ch) + 0xFEE0) for ch in pid[:6]) + pid[6:].lower() + "\u3000"
    headers, body = _rows_to_cells(c["admin_penalty"], rows, {"联系电话": [f"1387500{i:04d}" for i in range(30)]})
    id_col = headers.index(c["admin_penalty"].column("id_number").header)
    p = folder("scjgj", m2) / f"保山市市场监督管理局{last_month.year}年{last_month.month}月行政处罚信息.xlsx"
    _write_xlsx(p, f"保山市市场监督管理局{last_month.year}年{last_month.month}月行政处罚信息公示表", headers, body,
                numeric_cells=frozenset({(25, id_col)}), hidden_sheet=True)
    files.append(DemoFile(p, "部分通过：缺少证件号码、缺文号、遮蔽的身份证号、相对人类别填“企业”、被Excel按数字存储的身份证号被退回；"
                             "决定日期晚于今天的行入库（提示）；15位老身份证号码按18位号码登记、原值保留（提示）；"
                             "联系电话列被删除；隐藏工作表未读取"))

    # 市场监管局: licences as a legacy .xls (BIFF8), saved by an office suite for October 2026 (see LEGACY_XLS).
    p = folder("scjgj", LEGACY_XLS_MONTH) / "行政许可信息.xls"
    p.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(LEGACY_XLS, p)
    files.append(DemoFile(p, "全部通过（.xls 97-2003 格式，由办公软件保存）"))

    # 应急管理局: penalties over several years (display-period rules before and after 2023-05-01 / 2026-04-01).
    history = [dt.date(2022, 6, 1), dt.date(2023, 3, 15), dt.date(2023, 8, 1), dt.date(2024, 11, 20),
               dt.date(2025, 12, 1), dt.date(2026, 5, 10), last_month + dt.timedelta(days=3)]
    yjj = [_penalty(world, rng, 40 + i, d, dept_name=name["yjj"], dept_uscc=dept_uscc["yjj"], domain="安全生产",
                    types=["罚款", "责令停产停业", "警告", "罚款", "吊销许可证件", "警告", "罚款"][i])
           for i, d in enumerate(history)]
    yjj[0]["penalty_types"] = "罚款、吊销执照"  # the wording before the 2021 行政处罚法, as the 2022 file had it
    yjj[0]["subject_category"] = "法人"
    headers, body = _rows_to_cells(c["admin_penalty"], yjj, {"": [f"内部编号{i}" for i in range(len(yjj))]})
    p = folder("yjj", m1) / "安全生产行政处罚.xlsx"
    _write_xlsx(p, "保山市应急管理局行政处罚信息", headers, body)
    files.append(DemoFile(p, "全部通过：历年处罚，按决定日期适用不同的公示期限规定；旧称“吊销执照”“法人”按标准取值登记（提示）；"
                             "无表头的一列未导入（提示）；决定日期不在报送月份内的行有提示"))

    # 法院: dishonest judgment debtors as a GB18030 CSV, including a government organ and a removed entry.
    debtors = []
    for i in range(8):
        if i == 0:
            s = world.organs[1]
            subject = {"subject_name": s["name"], "subject_code": s["uscc"], "legal_rep_name": "县长"}
        elif i < 4:
            o = world.orgs[i]
            subject = {"subject_name": o["name"], "subject_code": o["uscc"], "legal_rep_name": o["rep"]["name"]}
        else:
            p_ = world.persons[10 + i]
            subject = {"subject_name": p_["name"], "subject_code": p_["id"], "gender": "1" if i % 2 else "男", "age": "45"}
        published = last_month - dt.timedelta(days=30 * i)
        debtors.append({**subject, "court": "保山市隆阳区人民法院", "basis_doc_no": f"（{published.year}）云0502民初{500 + i}号",
                        "filing_date": published - dt.timedelta(days=60), "case_no": f"（{published.year}）云0502执{800 + i}号",
                        "basis_unit": "保山市隆阳区人民法院", "obligation": "支付货款及利息",
                        "performance": "全部未履行", "situations": COURT_SITUATIONS[i % len(COURT_SITUATIONS)],
                        "publish_date": published, "removed_date": last_month if i == 6 else None})
    headers, body = _rows_to_cells(c["dishonest_debtor"], debtors)
    p = folder("fy", m2) / "失信被执行人名单.csv"
    _write_csv(p, headers, body, "gb18030")
    files.append(DemoFile(p, "全部通过（GB18030 编码 CSV）：含一个被列为失信被执行人的政府机关；失信情形含带“、”的法定表述、"
                             "以逗号连接的多种情形和2013年规定的旧表述，性别写作代码“1”（按标准取值登记，提示）"))

    # 税务局: A级纳税人 (good records, announced each April for the year before) and 重大税收违法失信主体.
    grant_year = last_month.year if last_month.month > 4 else last_month.year - 1
    # The file re-sends the year before's announcement too (orgs 24-33): those have expired since, so the red
    # list of a year ago (the demo's list history) differs from today's.
    good = [{"subject_name": world.orgs[i]["name"], "subject_code": world.orgs[i]["uscc"],
             "honour_type": "纳税信用A级" if i % 3 == 0 else "A级纳税人",
             "honour_name": f"{year - 1}年度纳税信用A级纳税人", "granting_unit": name["swj"],
             "grant_doc_no": f"保税公告〔{year}〕{i + 1}号", "grant_date": dt.date(year, 4, 20),
             "valid_until": dt.date(year + 1, 4, 19), "domain": "税收缴纳"}
            for year, orgs in ((grant_year, range(20, 30)), (grant_year - 1, range(24, 34))) for i in orgs]
    headers, body = _rows_to_cells(c["good_record"], good)
    p = folder("swj", m1) / "A级纳税人名单.xlsx"
    _write_xlsx(p, None, headers, body, footer=False)
    files.append(DemoFile(p, "全部通过：部分行写作“纳税信用A级”，按标准取值“A级纳税人”登记（提示），同样进入红名单"))
    serious = [{"subject_name": world.orgs[i]["name"], "subject_code": world.orgs[i]["uscc"],
                "legal_rep_name": world.orgs[i]["rep"]["name"], "legal_rep_id_number": world.orgs[i]["rep"]["id"],
                "list_name": "重大税收违法失信主体", "reason": "虚开增值税专用发票", "basis": "《重大税收违法失信主体信息公布管理办法》",
                "deciding_department": name["swj"], "decision_doc_no": f"保税稽罚〔{last_month.year}〕{60 + i}号",
                "listing_date": last_month + dt.timedelta(days=i % 20), "domain": "税收缴纳"} for i in (4, 5)]
    headers, body = _rows_to_cells(c["serious_dishonesty"], serious)
    p = folder("swj", m2) / "重大税收违法失信主体.xlsx"
    _write_xlsx(p, None, headers, body, footer=False)
    files.append(DemoFile(p, "全部通过：列入黑名单，法定代表人进入联合惩戒措施名单"))

    # 文明办: volunteer hours, UTF-8 with BOM.
    vol = [{"name": world.persons[i]["name"], "citizen_id": world.persons[i]["id"], "hours": str(20 + 7 * i),
            "service_date": last_month + dt.timedelta(days=i - 40), "organiser": "保山市志愿服务联合会",
            "project_name": "文明交通劝导"} for i in range(40, 52)]
    headers, body = _rows_to_cells(c["volunteer_service"], vol)
    p = folder("wmb", m2) / "志愿服务时长.csv"
    _write_csv(p, headers, body, "utf-8-sig")
    files.append(DemoFile(p, "全部通过（UTF-8 BOM 编码 CSV）"))

    # 信用办: a repair decision too early (refused by the rules) and one after the minimum period; objections.
    repairs = [
        {"subject_name": yjj[3]["subject_name"], "subject_code": yjj[3]["uscc"], "target_kind": "行政处罚",
         "target_ref": yjj[3]["decision_no"], "received_date": last_month, "decided_date": last_month + dt.timedelta(days=5),
         "outcome": "修复", "obligation_fulfilled": "是", "commitment_made": "是", "reason": "已整改并缴清罚款",
         "deciding_unit": name["fgw"]},
        {"subject_name": yjj[6]["subject_name"], "subject_code": yjj[6]["uscc"], "target_kind": "行政处罚",
         "target_ref": yjj[6]["decision_no"], "received_date": last_month + dt.timedelta(days=8),
         "decided_date": last_month + dt.timedelta(days=10), "outcome": "修复", "obligation_fulfilled": "是",
         "commitment_made": "是", "reason": "已缴清罚款", "deciding_unit": name["fgw"]},
    ]
    headers, body = _rows_to_cells(c["credit_repair"], repairs)
    p = folder("fgw", m2) / "信用修复决定.xlsx"
    _write_xlsx(p, "保山市信用修复决定汇总表", headers, body)
    files.append(DemoFile(p, "全部通过：一条修复在最短公示期之后（准予），一条在最短公示期之前（夜间规则拒绝并记录原因）"))
    pen = c["admin_penalty"]
    objections = [
        {"subject_name": yjj[4]["subject_name"], "subject_code": yjj[4]["uscc"], "target_kind": pen.title,
         "target_ref": yjj[4]["decision_no"], "received_date": last_month + dt.timedelta(days=12), "reason": "处罚主体有误",
         "handling_unit": name["fgw"]},
        {"subject_name": yjj[5]["subject_name"], "subject_code": yjj[5]["uscc"], "target_kind": pen.title,
         "target_ref": yjj[5]["decision_no"], "received_date": last_month + dt.timedelta(days=2),
         "decided_date": last_month + dt.timedelta(days=9), "outcome": "维持", "reason": "认为处罚过重",
         "handling_unit": name["fgw"]},
    ]
    headers, body = _rows_to_cells(c["objection"], objections)
    p = folder("fgw", m2) / "异议处理情况.xlsx"
    _write_xlsx(p, None, headers, body, footer=False)
    files.append(DemoFile(p, "全部通过：一条异议处理中（暂停公示），一条维持"))

    # 财政局: government-affairs integrity records.
    gov = [{"subject_name": world.organs[i]["name"], "uscc": world.organs[i]["uscc"], "division_code": world.organs[i]["division"],
            "record_type": t, "key_area": a, "record_content": "未按合同约定支付工程款" if i == 2 else "获评示范单位",
            "decision_doc_no": f"保财〔{last_month.year}〕{70 + i}号", "record_date": last_month + dt.timedelta(days=i),
            "deciding_unit": name["czj"]}
           for i, t, a in ((2, "政府采购违约", "政府采购"), (3, "拖欠账款", "政府和社会资本合作"), (0, "示范创建", "街道和乡镇"))]
    headers, body = _rows_to_cells(c["gov_integrity_record"], gov)
    p = folder("czj", m2) / "政务诚信记录.xlsx"
    _write_xlsx(p, None, headers, body, footer=False)
    files.append(DemoFile(p, "全部通过"))

    # Bad files: a truncated workbook, a file in the wrong department's folder, a file of no known kind.
    p = folder("gaj", m2) / "交通违法行政处罚.xlsx"
    p.parent.mkdir(parents=True, exist_ok=True)
    good_bytes = (folder("yjj", m1) / "安全生产行政处罚.xlsx").read_bytes()
    p.write_bytes(good_bytes[: len(good_bytes) // 2])
    files.append(DemoFile(p, "整体退回：文件已损坏（传输中断），请重新导出后报送"))
    wrong = [_penalty(world, rng, 60 + i, last_month + dt.timedelta(days=i), dept_name=name["sthjj"],
                      dept_uscc=dept_uscc["sthjj"], domain="环境保护") for i in range(3)]
    for w in wrong:
        w["violation_type"] = "超标排放污染物"
    headers, body = _rows_to_cells(c["admin_penalty"], wrong)
    p = folder("jtysj", m2) / "环境违法处罚.xlsx"
    _write_xlsx(p, None, headers, body, footer=False)
    files.append(DemoFile(p, "整体退回：数据来源单位为生态环境局，文件放错了部门文件夹"))
    p = folder("gaj", m2) / "会议签到表.xlsx"
    _write_xlsx(p, "会议签到表", ["序号", "姓名", "单位", "签到时间"], [["1", "张三", "某局", "9:00"]], footer=False)
    files.append(DemoFile(p, "整体退回：无法识别数据类别（列出可报送的类别）"))
    return files
