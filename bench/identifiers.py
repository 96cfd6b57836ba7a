"""Identifiers benchmark: 1 M values through uscc_errors and citizen_id_errors (python -m bench.identifiers).

Inputs are synthetic: valid codes from the demo's generators, sampled to the wanted size, with about 5 %
damaged the way submitted files damage them (lower case, full-width, ideographic spaces, typos, masking,
scientific notation, Excel rounding, 15-digit IDs). Prints the timings and writes the "Identifiers" section
of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from bs_credit_pipeline import identifiers as ids
from bs_credit_pipeline.demo import make_citizen_id, make_uscc

RESULTS = Path(__file__).parent / "RESULTS.md"
TODAY = dt.date(2026, 7, 1)
PREFIXES = ["91", "91", "91", "92", "92", "93", "11", "12", "52", "N1", "Y1"]
DIVISIONS = ["530502", "530521", "530523", "530524", "530581", "533001", "530522"]
FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})
SURNAMES = list("张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗") + ["欧阳", "司马", "诸葛"]
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰")


def make_names(n: int, seed: int = 3) -> pa.Array:
    """Person names, 2-4 characters, about 5 % with stray spaces."""
    rng = np.random.default_rng(seed)
    surnames = np.array(SURNAMES, dtype=object)[rng.integers(0, len(SURNAMES), n)]
    given = ["".join(g) for g in np.array(GIVEN, dtype=object)[rng.integers(0, len(GIVEN), (n, 2))]]
    names = [s + (g if k else g[0]) for s, g, k in zip(surnames, given, rng.random(n) < 0.6)]
    for i in np.flatnonzero(rng.random(n) < 0.05):
        names[i] = f" {names[i]}\u3000"
    return pa.array(names, pa.string())


def _damage(value: str, rng: np.random.Generator, person: bool) -> str:
    kind = int(rng.integers(0, 8))
    if kind == 0:
        return value.lower()
    if kind == 1:
        return value.translate(FULL_WIDTH)
    if kind == 2:
        return f"\u3000{value}  "
    if kind == 3:
        i = int(rng.integers(0, len(value)))
        return value[:i] + str(rng.integers(0, 10)) + value[i + 1:]
    if kind == 4:
        return value[:-1]
    if not person:
        return value[:8] + " " + value[8:]
    if kind == 5:
        return value[:10] + "****" + value[14:]
    if kind == 6:
        return f"{float(value[:17] + '0'):.5E}"
    return str(int(float(f"{float(value[:17] + '0'):.15g}")))  # Excel's 15-digit rounding


def make_values(n: int, person: bool, seed: int = 0, unique: int = 50_000, damaged: float = 0.05) -> pa.Array:
    rng = np.random.default_rng(seed)
    if person:
        pool = [make_citizen_id(rng, DIVISIONS[i % len(DIVISIONS)], male=bool(i % 2)) for i in range(unique)]
        first_generation = unique // 50
        pool[:first_generation] = [v[:6] + v[8:17] if v[6:8] == "19" else v for v in pool[:first_generation]]
    else:
        pool = [make_uscc(rng, PREFIXES[i % len(PREFIXES)], DIVISIONS[i % len(DIVISIONS)]) for i in range(unique)]
    values = np.array(pool, dtype=object)[rng.integers(0, len(pool), n)]
    for i in np.flatnonzero(rng.random(n) < damaged):
        values[i] = _damage(values[i], rng, person)
    values[rng.random(n) < 0.01] = None
    return pa.array(values, pa.string())


def _time(fn, values, repeat: int) -> tuple[float, float, float]:
    """(first wall time, best wall time, CPU time of the best run) in seconds."""
    runs = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn(values)
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    return runs[0][0], *min(runs)


def _machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"nproc {len(os.sched_getaffinity(0))}, {model}, load average before the run {load}"


def run(rows: int, repeat: int) -> str:
    usccs = make_values(rows, person=False, seed=1)
    people = make_values(rows, person=True, seed=2)
    names = make_names(rows)
    cases = [
        ("normalise_code (USCC column)", ids.normalise_code, usccs),
        ("uscc_errors", ids.uscc_errors, usccs),
        ("citizen_id_errors", lambda v: ids.citizen_id_errors(v, TODAY), people),
        ("citizen_id_warnings", ids.citizen_id_warnings, people),
        ("classify_code (ID column)", ids.classify_code, people),
        ("to_canonical_citizen_id", ids.to_canonical_citizen_id, people),
        ("mask_id", ids.mask_id, people),
        ("normalise_text (names column)", ids.normalise_text, names),
        ("mask_name", ids.mask_name, names),
    ]
    lines = [
        f"{rows:,} values per column, about 5 % damaged and 1 % null; machine: {_machine()}; "
        f"numpy {np.__version__}, pyarrow {pa.__version__}. Wall seconds of the first run and the best of {repeat}, "
        "and the CPU seconds of that best run:",
        "",
        "| function | first (s) | best (s) | CPU (s) |",
        "|---|---|---|---|",
    ]
    for name, fn, values in cases:
        first, best, cpu = _time(fn, values, repeat)
        lines.append(f"| {name} | {first:.3f} | {best:.3f} | {cpu:.3f} |")
    lines += ["", "Target: well under 1 s each for uscc_errors and citizen_id_errors (single-threaded numpy / Arrow)."]
    return "\n".join(lines)


def write_section(body: str) -> None:
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    section = f"## Identifiers\n\n{body}\n"
    pattern = re.compile(r"^## Identifiers\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print, do not update bench/RESULTS.md")
    args = parser.parse_args()
    body = run(args.rows, args.repeat)
    print(body)
    if not args.no_write:
        write_section(body)


if __name__ == "__main__":
    main()
