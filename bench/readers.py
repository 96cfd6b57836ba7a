"""Readers benchmark: 1 M rows x 17 columns, xlsx and CSV (python -m bench.readers).

Writes the inputs once under bench/out/ (rust_xlsxwriter constant memory), then times read_workbook against a raw
fastexcel read and DuckDB / pyarrow CSV reads, and prints a Markdown table for bench/RESULTS.md.
"""

import csv
import resource
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import fastexcel
import pyarrow.csv as pacsv

from bs_credit_pipeline.intake import read as readers
from bs_credit_pipeline.identifiers import citizen_id_check_char, org_code_check_char, uscc_check_char
from bs_credit_pipeline.intake.read import read_workbook
from bs_credit_pipeline.xlsx import Workbook, new_format

OUT = Path(__file__).parent / "out"
ROWS = 1_000_000
HEADERS = [
    "行政相对人名称", "行政相对人类别", "统一社会信用代码", "法定代表人", "证件类型", "证件号码",
    "行政处罚决定书文号", "违法行为类型", "违法事实", "处罚依据", "处罚类别", "处罚内容",
    "罚款金额（万元）", "处罚决定日期", "处罚有效期", "处罚机关", "备注",
]
def synthetic_uscc(n: int) -> str:
    base = f"{n:08d}"
    body = "91530502" + base + org_code_check_char(base)
    return body + uscc_check_char(body)


def synthetic_citizen_id(n: int) -> str:
    body = f"530502{date(1960, 1, 1) + timedelta(days=n % 15000):%Y%m%d}{n % 1000:03d}"
    return body + citizen_id_check_char(body)


def record(i: int) -> list:
    person = i % 3 == 0
    return [
        f"保山市隆阳区某某商贸有限公司{i}" if not person else f"张{i}",
        "自然人" if person else "法人及非法人组织",
        "" if person else synthetic_uscc(i),
        "" if person else f"李{i}",
        "身份证" if person else "",
        synthetic_citizen_id(i) if person else "",
        f"保市监罚〔2026〕{i}号",
        "销售不合格商品",
        "经查，当事人于2026年9月销售不合格商品，货值金额较小。",
        "《中华人民共和国产品质量法》第四十九条",
        "罚款",
        "罚款人民币五千元",
        round(0.5 + i % 100 / 10, 2),
        date(2026, 1, 1) + timedelta(days=i % 300),
        "2027-12-31",
        "保山市市场监督管理局",
        "",
    ]


def write_inputs() -> tuple[Path, Path]:
    OUT.mkdir(exist_ok=True)
    xlsx, csv_path = OUT / "readers_1m.xlsx", OUT / "readers_1m.csv"
    if not xlsx.exists():
        wb = Workbook()
        ws = wb.add_worksheet("行政处罚", constant_memory=True)
        date_format = new_format(wb, {"num_format": "yyyy-mm-dd"})
        ws.write_row(0, 0, HEADERS)
        for i in range(ROWS):
            values = record(i)
            ws.write_row(i + 1, 0, values[:13])
            ws.write_date_py(i + 1, 13, values[13], date_format)
            ws.write_row(i + 1, 14, values[14:])
        wb.close(str(xlsx))
    if not csv_path.exists():
        with open(csv_path, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(HEADERS)
            writer.writerows(record(i) for i in range(ROWS))
    return xlsx, csv_path


def timed(label: str, fn, repeat: int = 2) -> tuple[str, float, float]:
    """Best wall and best CPU seconds (this process + children: the Excel reader runs in a child)."""
    runs = [_once(fn) for _ in range(repeat)]
    wall, cpu = min(r[0] for r in runs), min(r[1] for r in runs)
    print(f"  {label}: {wall:.2f} s wall, {cpu:.2f} s CPU")
    return label, wall, cpu


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _once(fn) -> tuple[float, float]:
    start, cpu = time.perf_counter(), _cpu()
    fn()
    return time.perf_counter() - start, _cpu() - cpu


def main() -> None:
    xlsx, csv_path = write_inputs()
    # The 1 M-row CSV (~370 MB) is above the 200 MB submission limit; lift it to time the parser itself.
    readers.MAX_FILE_BYTES = 1 << 30
    print(f"inputs: {xlsx.stat().st_size / 1e6:.0f} MB xlsx, {csv_path.stat().st_size / 1e6:.0f} MB csv")

    def raw_fastexcel():
        sheet = fastexcel.read_excel(xlsx).load_sheet(0, header_row=None, dtypes="string", skip_rows=0)
        assert sheet.to_arrow().num_rows == ROWS + 1

    def workbook(path):
        assert read_workbook(path).sheets[0].table.num_rows == ROWS + 1

    def duckdb_csv():
        con = duckdb.connect()
        rows = con.sql(f"SELECT * FROM read_csv('{csv_path}', all_varchar=true, header=false)").to_arrow_table().num_rows
        assert rows == ROWS + 1

    def pyarrow_csv():
        opts = pacsv.ReadOptions(autogenerate_column_names=True)
        assert pacsv.read_csv(csv_path, read_options=opts).num_rows == ROWS + 1

    results = [
        timed("fastexcel raw (xlsx -> Arrow, all string)", raw_fastexcel),
        timed("read_workbook xlsx (child process + IPC)", lambda: workbook(xlsx)),
        timed("pyarrow read_csv raw", pyarrow_csv),
        timed("duckdb read_csv all_varchar", duckdb_csv),
        timed("read_workbook csv", lambda: workbook(csv_path)),
    ]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print("\n| step | wall s | CPU s |\n|---|---|---|")
    for label, wall, cpu in results:
        print(f"| {label} | {wall:.2f} | {cpu:.2f} |")
    print(f"\nxlsx overhead: {results[1][1] / results[0][1]:.2f}x wall, {results[1][2] / results[0][2]:.2f}x CPU; "
          f"peak RSS parent {peak:.0f} MB, Excel child {children:.0f} MB")


if __name__ == "__main__":
    main()
