"""Kill trials: `bs-credit run` SIGKILLed, then run again; the next run must finish and leave what an uninterrupted
run leaves (faultkit.outcome). 40 trials kill at a named fault point (faults.POINTS, a random hit of it), 10 at a
random moment. Half the trials interrupt a first load (inbox v1 on an empty home), half a resubmission (inbox v2
on a loaded home). Writes one line per trial and the summary to stdout; the figure goes to bench/RESULTS.md.

    .venv/bin/python -m bench.kill [trials]
"""

from __future__ import annotations

import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bs_credit_pipeline import faults
from bs_credit_pipeline.paths import Home
from bs_credit_pipeline_tests import faultkit

SEED = 20261204
MAX_HIT = {"intake.before_manifest": 2, "state.before_rename": 3, "run.after_intake_job": 2, "load.begin": 2,
           "load.before_commit": 2, "load.after_commit": 2}


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    rng = random.Random(SEED)
    work = Path(tempfile.mkdtemp(prefix="bench-kill-"))
    zygote = faultkit.Zygote(work)
    try:
        ref_v1, loaded = Home(work / "ref-v1"), Home(work / "loaded")
        faultkit.inbox_v1(ref_v1)
        started = time.perf_counter()
        assert zygote.run(ref_v1)[0] == 0
        full_run = time.perf_counter() - started
        shutil.copytree(ref_v1.root, loaded.root, ignore=shutil.ignore_patterns(".warehouse.lock"))
        ref_v2 = Home(work / "ref-v2")
        shutil.copytree(ref_v1.root, ref_v2.root, ignore=shutil.ignore_patterns(".warehouse.lock"))
        faultkit.inbox_v2(ref_v2)
        assert zygote.run(ref_v2)[0] == 0
        expected = {"v1": faultkit.outcome(ref_v1), "v2": faultkit.outcome(ref_v2)}

        recovered, killed, recovery_s, rows = 0, 0, [], []
        for trial in range(trials):
            phase = "v1" if trial % 2 == 0 else "v2"
            home = Home(work / f"trial-{trial}")
            if phase == "v1":
                faultkit.inbox_v1(home)
            else:
                shutil.copytree(loaded.root, home.root, ignore=shutil.ignore_patterns(".warehouse.lock"))
                faultkit.inbox_v2(home)
            if trial < trials * 4 // 5:
                point = rng.choice(faults.POINTS)
                how = f"{point}@{rng.randint(1, MAX_HIT.get(point, 1))}"
                code, _ = zygote.run(home, how)
            else:
                after = rng.uniform(0.5, full_run)
                how = f"after {after:.1f} s"
                code, _ = zygote.run(home, kill_after=after)
            killed += code == -9
            started = time.perf_counter()
            again, output = zygote.run(home)
            took = time.perf_counter() - started
            ok = again == 0 and faultkit.outcome(home) == expected[phase]
            recovered += ok
            recovery_s.append(took)
            rows.append((trial, phase, how, code, again, round(took, 1), ok))
            print(f"trial {trial:2d} {phase} kill {how:28s} exit {code:4d}  next run exit {again} in {took:5.1f} s  "
                  f"{'same as uninterrupted' if ok else 'DIFFERENT'}", flush=True)
            if not ok:
                print(output[-3000:], flush=True)
            shutil.rmtree(home.root)
        print(f"\n{recovered}/{trials} recovered to the uninterrupted result ({killed} runs were killed before "
              f"finishing; the others had passed the drawn point or moment). Next run: median "
              f"{statistics.median(recovery_s):.1f} s, max {max(recovery_s):.1f} s; an uninterrupted first run "
              f"{full_run:.1f} s.")
    finally:
        zygote.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
