"""`bs-credit check` on a small file pays only for what it uses: no Dagster, no warehouse (DuckDB), no SQL
transpiler, no Spark (pandera would load pyspark.pandas where the Spark extra is installed), no pandas (validation
runs on pandera's polars backend; pandera would load pandas and its pandas engine, typeguard included, wherever
pandas is installed), no Acero (pyarrow's query engine and datasets, which Table.group_by loads), no staging
(Parquet), no publishing or lists code. Measured in a fresh interpreter through sys.modules."""

from __future__ import annotations

import json
import subprocess
import sys

from bs_credit_pipeline_tests.report_content import bad_penalty_csv

UNUSED = ("dagster", "dagster_webserver", "duckdb", "sqlglot", "pyspark", "pandas", "typeguard", "pandera.pandas",
          "pandera.typing.pandas", "pyarrow.parquet", "pyarrow.acero",
          "pyarrow.dataset", "bs_credit_pipeline.warehouse", "bs_credit_pipeline.defs",
          "bs_credit_pipeline.definitions", "bs_credit_pipeline.lists", "bs_credit_pipeline.publish",
          "bs_credit_pipeline.pipeline", "bs_credit_pipeline.engines", "bs_credit_pipeline.lake")


def test_check_of_a_small_file_imports_no_dagster_and_no_warehouse(tmp_path):
    source = bad_penalty_csv(tmp_path / "2026年10月行政处罚.csv")
    code = ("import json, sys\nfrom bs_credit_pipeline.cli import main\n"
            f"rc = main(['check', {str(source)!r}, '--department', 'scjgj', '--month', '2026-10', "
            f"'--out', {str(tmp_path / 'out')!r}])\n"
            "print(json.dumps({'rc': rc, 'modules': sorted(sys.modules)}))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Warning" not in done.stderr, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["rc"] == 1  # partial: the file has bad rows
    assert "E_DUPLICATE_KEY" in done.stdout and "E_ENUM" in done.stdout  # the repeat search needs no Acero either
    assert list((tmp_path / "out").glob("*_校验报告_*.xlsx"))
    loaded = [m for m in result["modules"] if any(m == u or m.startswith(u + ".") for u in UNUSED)]
    assert loaded == []


def test_warehouse_intake_loads_no_spark_and_warns_nothing():
    """The pipeline's intake (Dagster steps, `bs-credit run`) imports pandera without its pyspark integration, which
    loads pyspark.pandas where the Spark extra is installed and warns on every process that pandas 3 is unsupported."""
    code = ("import json, sys, warnings\nwarnings.simplefilter('error')\n"
            "from bs_credit_pipeline.intake import driver, schema\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.partition('.')[0] == 'pyspark')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Warning" not in done.stderr, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
