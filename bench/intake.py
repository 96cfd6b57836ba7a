"""Intake of a 1 M-row, 17-column penalty file (xlsx and csv) against the raw readers, measured in one run.

    python -m bench.intake [--rows N]

Targets: xlsx intake (read + normalise + validate + stage) within 2.0× fastexcel's raw read of the same file,
peak memory ≤ 3 GB; csv intake within 4× DuckDB's read_csv (issue 20). The csv floor case times the steps
intake cannot skip (read, record ids, content hashes, Parquet) on the staged result of the csv case. Each case is
the best of 2 runs in fresh interpreters, with the inputs read once beforehand (page cache warm). Inputs are
cached in bench/out/.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import itertools

import pyarrow as pa

from bs_credit_pipeline.demo import make_citizen_id, make_uscc
from bs_credit_pipeline.xlsx import Workbook, new_format, write_table

OUT = Path(__file__).parent / "out"
COLUMNS = ["行政相对人名称", "行政相对人类别", "统一社会信用代码", "证件类型", "证件号码", "行政处罚决定书文号", "违法行为类型",
           "违法事实", "处罚依据", "处罚类别", "处罚内容", "处罚决定日期", "处罚有效期", "处罚机关", "处罚机关统一社会信用代码",
           "数据来源单位", "数据来源单位统一社会信用代码"]
AUTHORITY = make_uscc(1, prefix="11", division="530500")


def rows(n: int):
    orgs = [make_uscc(i) for i in range(5000)]
    people = [make_citizen_id(i, birth=dt.date(1940, 1, 1) + dt.timedelta(days=i * 5)) for i in range(5000)]
    for i in range(n):
        person = i % 3 == 0
        decided = dt.date(2026, 1, 1) + dt.timedelta(days=i % 300)
        yield [
            f"张{i}" if person else f"保山市隆阳区某某商贸有限公司{i}", "自然人" if person else "法人及非法人组织",
            None if person else orgs[i % 5000], "身份证" if person else None, people[i % 5000] if person else None,
            f"保市监罚〔2026〕{i}号", "销售不合格商品", "经查，当事人销售不合格商品，货值金额较小。",
            "《中华人民共和国产品质量法》第四十九条", "罚款", "罚款人民币五千元", decided.isoformat(),
            (decided + dt.timedelta(days=365)).isoformat(), "保山市市场监督管理局", AUTHORITY, "保山市市场监督管理局", AUTHORITY,
        ]


def write_xlsx(path: Path, source) -> None:
    """A text-formatted 处罚信息 sheet of COLUMNS and the rows of ``source``, written 50 000 rows at a time."""
    wb = Workbook()
    ws = wb.add_worksheet("处罚信息", constant_memory=True)
    ws.write_row(0, 0, COLUMNS)
    text, r = new_format(wb, {"num_format": "@"}), 1
    while chunk := list(itertools.islice(source, 50_000)):
        write_table(ws, r, 0, pa.table({c: pa.array(v, pa.string()) for c, v in zip(COLUMNS, zip(*chunk))}), text)
        r += len(chunk)
    wb.close(str(path))


def write_inputs(n: int) -> tuple[Path, Path]:
    OUT.mkdir(exist_ok=True)
    xlsx, csv_path = OUT / f"intake_{n}.xlsx", OUT / f"intake_{n}.csv"
    if not xlsx.exists():
        write_xlsx(xlsx, rows(n))
    if not csv_path.exists():
        with open(csv_path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(COLUMNS)
            w.writerows(rows(n))
    return xlsx, csv_path


def _warm(*paths: Path) -> None:
    """Read the inputs once so that no case pays for the disk (the first reader of a cold file would)."""
    for path in paths:
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass


def _measure(code: str, repeat: int = 2) -> tuple[float, float, float]:
    """Best of `repeat` runs, each in a fresh interpreter: (seconds, CPU seconds of the process and its children,
    peak RSS in MB incl. child processes). On a shared machine the CPU seconds are the steadier measure."""
    runs = [_measure_once(code) for _ in range(repeat)]
    return min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs)


def _measure_once(code: str) -> tuple[float, float, float]:
    script = (
        "import time, resource\n" + code + "\n"
        "def cpu():\n"
        "    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime\n"
        "c0 = cpu(); t = time.perf_counter(); run(); dt_ = time.perf_counter() - t; cpu_ = cpu() - c0\n"
        "peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "print(dt_, cpu_, peak / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    seconds, cpu, mb = out.split()[-3:]
    return float(seconds), float(cpu), float(mb)


def _intake_case(path: Path, home: Path, n: int) -> str:
    """Code timing `Intake.run` on `path` (no report: the target covers read + normalise + validate + stage)."""
    return f"""
import datetime as dt, shutil
from pathlib import Path
from bs_credit_pipeline.contracts import Registry
from bs_credit_pipeline.intake import Intake
from bs_credit_pipeline.paths import Home
shutil.rmtree({str(home)!r}, ignore_errors=True)
intake = Intake(Registry.load(), Home(Path({str(home)!r})).ensure())
def run():
    m = intake.run(Path({str(path)!r}), department="scjgj", month="2026-10", today=dt.date(2026, 11, 27),
                   write_report=False).manifest
    assert m["rows_loaded"] == {n}, m"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="runs per case (best taken)")
    args = parser.parse_args()
    n = args.rows
    xlsx, csv_path = write_inputs(n)
    home = OUT / "intake_home"
    cases = {
        "fastexcel raw read (xlsx, all columns as text)": f"""
import fastexcel
def run():
    r = fastexcel.read_excel({str(xlsx)!r})
    r.load_sheet(0, header_row=None, dtypes="string").to_arrow()""",
        "intake xlsx (read + normalise + validate + stage)": _intake_case(xlsx, home, n),
        "duckdb read_csv (all columns as text)": f"""
import duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
def run():
    con.sql("SELECT * FROM read_csv({str(csv_path)!r}, all_varchar=true)").to_arrow_table()""",
        "intake csv (read + normalise + validate + stage)": _intake_case(csv_path, home, n),
        "csv floor (read + record ids + content hashes + Parquet, no normalisation or validation)": f"""
import pyarrow.parquet as pq
from pathlib import Path
import numpy as np
from bs_credit_pipeline.intake.stage import _content_hashes, _record_ids, write_staged
from bs_credit_pipeline.intake.read import read_workbook
staged = pq.read_table(next(p for p in Path({str(home)!r}).glob("staging/*/*/*.parquet") if p.name.count(".") == 1))
contract_columns = staged.select([c for c in staged.column_names if not c.startswith("_")])
def run():
    read_workbook(Path({str(csv_path)!r}))
    _record_ids(staged.column("_natural_key").combine_chunks(), np.arange(staged.num_rows))
    _content_hashes(contract_columns)
    write_staged(staged, Path({str(home)!r}) / "floor.parquet")""",
    }
    _warm(xlsx, csv_path)
    results = {}
    for label, code in cases.items():
        results[label] = _measure(code, args.repeat)
        print(f"{label}: {results[label][0]:.1f} s, CPU {results[label][1]:.1f} s, peak {results[label][2]:.0f} MB",
              flush=True)
    labels = list(cases)
    xlsx_ratio = results[labels[1]][0] / results[labels[0]][0]
    csv_ratio = results[labels[3]][0] / results[labels[2]][0]
    floor_ratio = results[labels[4]][0] / results[labels[2]][0]
    cpu = {label: results[label][1] for label in labels}
    print(f"xlsx intake / fastexcel = {xlsx_ratio:.2f} (target ≤ 2.0); csv intake / duckdb = {csv_ratio:.2f} (target ≤ 4);"
          f" csv floor / duckdb = {floor_ratio:.2f}")
    print(f"CPU s: xlsx intake / fastexcel = {cpu[labels[1]] / cpu[labels[0]]:.2f}; csv intake / duckdb = "
          f"{cpu[labels[3]] / cpu[labels[2]]:.2f}; csv floor / duckdb = {cpu[labels[4]] / cpu[labels[2]]:.2f}")
    print(f"load average: {os.getloadavg()}")
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    print(f"machine: {cpu}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}")


if __name__ == "__main__":
    main()
