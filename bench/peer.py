"""A data officer's dry run against the validator a colleague would reach for: `bs-credit check` vs frictionless
`validate` on the same 行政处罚 file, as whole processes.

    make bench-peer                     # 1 k, 100 k and 1 M rows, CSV and xlsx, 3 pairs each
    python -m bench.peer --rows 1000 100000 --pairs 3 --formats csv

frictionless gets a Table Schema equivalent to the contract (bench/out/peer_schema.json, made from
data_contracts/kinds/admin_penalty.yaml): required columns, enums (multi-valued ones as a pattern), code patterns,
dates, non-negative amounts, maximum lengths; no check characters (frictionless has no such check, so it does
less work than we do). Its error limit is lifted so it reads every row, as `check` does. `check` writes its
report (the full annotated copy up to report.REPORT_FULL_COPY_MAX_ROWS rows, the rows with problems above).

The file: 17 columns, 1/3 natural persons, decisions dated in the reporting month, 1 % of rows with a mistake
both tools catch (an impossible date, a category not in the list). Each pair runs the two tools back to back,
the order alternating; the ratio is ours / theirs per pair (wall and CPU seconds), the median over pairs is
quoted. Peak RSS is each process's own (wait4). Inputs are cached in bench/out/.
"""

from __future__ import annotations

import argparse
import compileall
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.intake import COLUMNS, rows as penalty_rows, write_xlsx

OUT = Path(__file__).parent / "out"
BIN = Path(sys.executable).parent
KIND = Path(__file__).resolve().parents[1] / "data_contracts" / "kinds" / "admin_penalty.yaml"
PACKAGE = Path(__file__).resolve().parents[1] / "bs_credit_pipeline"
DATE_COL, UNTIL_COL, CATEGORY_COL = COLUMNS.index("处罚决定日期"), COLUMNS.index("处罚有效期"), COLUMNS.index("处罚类别")
PATTERNS = {  # code types as regular expressions (shape only: no check characters)
    "uscc": r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}",
    "org_code": r"[0-9A-Z]{8}-?[0-9X]",
    "id_number": r"[0-9]{17}[0-9X]|[A-Z0-9()（）-]{5,30}",
    "code": r"[0-9A-Z-]+",
}


def peer_rows(n: int):
    """bench.intake's penalty rows, dated in 2026-10, one row in 100 with a mistake."""
    for i, row in enumerate(penalty_rows(n)):
        row[DATE_COL] = f"2026-10-{1 + i % 28:02d}"
        row[UNTIL_COL] = f"2027-10-{1 + i % 28:02d}"
        if i % 200 == 17:
            row[DATE_COL] = "2026-13-40"
        elif i % 200 == 117:
            row[CATEGORY_COL] = "记大过"
        yield row


def write_inputs(n: int) -> dict[str, Path]:
    OUT.mkdir(exist_ok=True)
    paths = {"csv": OUT / f"peer_{n}.csv", "xlsx": OUT / f"peer_{n}.xlsx"}
    if not paths["csv"].exists():
        with open(paths["csv"], "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(COLUMNS)
            writer.writerows(peer_rows(n))
    if not paths["xlsx"].exists():
        write_xlsx(paths["xlsx"], peer_rows(n))
    return paths


def table_schema() -> Path:
    """The contract's columns as a frictionless Table Schema (only the columns the file has)."""
    from bs_credit_pipeline import yamlfile

    contract = yamlfile.read(KIND)
    fields = []
    for c in contract["columns"]:
        if c["header"] not in COLUMNS:
            continue
        kind = c["type"]
        constraints: dict = {}
        if c.get("required"):
            constraints["required"] = True
        field = {"name": c["header"], "type": {"date": "date", "decimal": "number", "integer": "integer"}.get(kind,
                                                                                                              "string")}
        if kind == "enum" and c.get("values"):
            if c.get("multi"):
                one = "|".join(c["values"])
                constraints["pattern"] = f"({one})(、({one}))*"
            else:
                constraints["enum"] = list(c["values"])
        elif kind in PATTERNS:
            constraints["pattern"] = PATTERNS[kind]
        elif kind in ("decimal", "integer"):
            constraints["minimum"] = 0
        if c.get("max_length"):
            constraints["maxLength"] = c["max_length"]
        if constraints:
            field["constraints"] = constraints
        fields.append(field)
    fields.sort(key=lambda f: COLUMNS.index(f["name"]))
    OUT.mkdir(exist_ok=True)
    path = OUT / "peer_schema.json"
    path.write_text(json.dumps({"fields": fields}, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def _run(cmd: list[str]) -> tuple[float, float, float, int, str]:
    """(wall s, CPU s, peak RSS MB, exit code, stderr tail) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode, stderr.decode()[-500:]


def compare(path: Path, schema: Path, pairs: int) -> dict:
    ours_runs, theirs_runs = [], []
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as out:
        ours = [str(BIN / "bs-credit"), "check", str(path), "--department", "scjgj", "--month", "2026-10",
                "--out", out]
        theirs = [str(BIN / "frictionless"), "validate", "--schema", str(schema), "--limit-errors", "100000000",
                  "--trusted", str(path)]
        for i in range(pairs):
            order = [(ours, ours_runs), (theirs, theirs_runs)]
            for cmd, runs in order if i % 2 == 0 else order[::-1]:
                result = _run(cmd)
                if cmd is ours and (result[3] not in (0, 1) or not list(Path(out).glob("*.xlsx"))):
                    raise SystemExit(f"check failed on {path.name}: {result[4]}")
                runs.append(result)
    wall = statistics.median(o[0] / t[0] for o, t in zip(ours_runs, theirs_runs))
    cpu = statistics.median(o[1] / t[1] for o, t in zip(ours_runs, theirs_runs))
    return {
        "ours_wall": statistics.median(r[0] for r in ours_runs), "theirs_wall": statistics.median(r[0] for r in theirs_runs),
        "ours_cpu": statistics.median(r[1] for r in ours_runs), "theirs_cpu": statistics.median(r[1] for r in theirs_runs),
        "ratio_wall": wall, "ratio_cpu": cpu,
        "ours_rss": max(r[2] for r in ours_runs), "theirs_rss": max(r[2] for r in theirs_runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000, 100_000, 1_000_000])
    parser.add_argument("--formats", nargs="+", default=["csv", "xlsx"], choices=["csv", "xlsx"])
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    schema = table_schema()
    # The package's bytecode, as pip writes it when installing a wheel: with PYTHONDONTWRITEBYTECODE set (as on the
    # shared machine) an editable install otherwise compiles every module from source in every `check` (~0.1 CPU s).
    compileall.compile_dir(str(PACKAGE), quiet=1)
    print(f"load average before: {os.getloadavg()}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}")
    print("| rows | format | check wall s | frictionless wall s | ratio wall | check CPU s | frictionless CPU s "
          "| ratio CPU | check peak MB | frictionless peak MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in args.rows:
        paths = write_inputs(n)
        for fmt in args.formats:
            r = compare(paths[fmt], schema, args.pairs)
            print(f"| {n:,} | {fmt} | {r['ours_wall']:.2f} | {r['theirs_wall']:.2f} | {r['ratio_wall']:.2f} "
                  f"| {r['ours_cpu']:.2f} | {r['theirs_cpu']:.2f} | {r['ratio_cpu']:.2f} | {r['ours_rss']:.0f} "
                  f"| {r['theirs_rss']:.0f} |", flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
