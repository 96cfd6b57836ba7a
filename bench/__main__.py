"""Run every benchmark in turn (`make bench`); each writes its figures to stdout, see bench/RESULTS.md."""

import importlib
import sys

BENCHES = ("identifiers", "readers", "intake", "warehouse", "lists", "lake_export", "kill", "ops")

if __name__ == "__main__":
    for name in sys.argv[1:] or BENCHES:
        print(f"== bench.{name}", flush=True)
        module = importlib.import_module(f"bench.{name}")
        sys.argv = [f"bench.{name}"]
        module.main()
