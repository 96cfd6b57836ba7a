"""The Parquet lake: Hive-style department=/month= partitions exported from a real DuckDB warehouse; a partition
export replaces exactly that partition; typed per-kind record tables; the lake location setting."""

import json

import duckdb
import pytest

import lists_world as w
from bs_credit_pipeline import lake
from bs_credit_pipeline.config import ConfigError
from bs_credit_pipeline.contracts import Registry
from bs_credit_pipeline.paths import Home


@pytest.fixture
def warehouse(tmp_path):
    conn = w.connect(tmp_path / "w.duckdb")
    w.add_record(conn, "p1", "admin_penalty", w.ORG_A, "2026-01-10", category="罚款",
                 payload={"fine_amount": 4.1, "decision_date": "2026-01-10", "decision_no": "罚〔2026〕1号"})
    w.add_record(conn, "p2", "admin_penalty", w.ORG_C, "2026-02-03", department="swj", payload={"fine_amount": None})
    w.add_record(conn, "g1", "good_record", w.ORG_E, "2026-01-20", department="swj")
    conn.execute("UPDATE core.credit_record SET month = '2026-02', submission_id = 'swj|2026-02|x' WHERE record_id = 'p2'")
    conn.execute("UPDATE core.credit_record SET submission_id = department || '|2026-01|x' WHERE record_id <> 'p2'")
    yield conn
    conn.close()


def _rows(folder, where="TRUE"):
    return duckdb.execute(f"SELECT * FROM read_parquet('{folder}/**/*.parquet', hive_partitioning = true)"
                          f" WHERE {where} ORDER BY ALL").fetchall()


def test_full_export_writes_hive_partitions_and_schema(warehouse, tmp_path):
    root = tmp_path / "lake"
    written = lake.export(warehouse, root, Registry.load())
    assert written["core/credit_record"] == 3
    assert sorted(p.relative_to(root / "core/credit_record").as_posix()
                  for p in (root / "core/credit_record").glob("*/*")) == [
        "department=scjgj/month=2026-01", "department=swj/month=2026-01", "department=swj/month=2026-02"]
    schema = json.loads((root / "core/credit_record/_schema.json").read_text())
    assert schema["payload"] == "VARCHAR" and schema["record_date"] == "DATE" and "department" in schema
    # typed contract columns out of the payload, per kind
    typed = duckdb.execute(f"SELECT record_id, fine_amount, decision_date, decision_no FROM read_parquet("
                           f"'{root}/records/admin_penalty/**/*.parquet', hive_partitioning = true) ORDER BY 1").fetchall()
    assert typed[0][0] == "p1" and typed[0][1] == 4.1 and str(typed[0][2]) == "2026-01-10" and typed[0][3] == "罚〔2026〕1号"
    assert typed[1][1] is None
    assert (root / "core/subject/data_0.parquet").exists()  # unpartitioned


def test_partition_export_replaces_exactly_that_partition(warehouse, tmp_path):
    root = tmp_path / "lake"
    registry = Registry.load()
    lake.export(warehouse, root, registry)
    untouched = root / "core/credit_record/department=scjgj/month=2026-01"
    before = {p: p.stat().st_mtime_ns for p in untouched.glob("*.parquet")}
    # a resubmission of swj 2026-01: g1 withdrawn, g2 new; and swj 2026-02 loses its only record
    warehouse.execute("UPDATE core.credit_record SET valid_to = now() WHERE record_id IN ('g1', 'p2')")
    w.add_record(warehouse, "g2", "good_record", w.ORG_F, "2026-01-25", department="swj")
    warehouse.execute("UPDATE core.credit_record SET submission_id = 'swj|2026-01|y' WHERE record_id = 'g2'")
    # the warehouse also changed elsewhere (scjgj), which a swj export must not carry over
    w.add_record(warehouse, "p3", "admin_penalty", w.ORG_A, "2026-01-11")
    lake.export(warehouse, root, registry, partitions=[("swj", "2026-01"), ("swj", "2026-02")])
    ids = [r[1] for r in _rows(root / "core/credit_record")]
    assert sorted(ids) == ["g2", "p1"]
    assert not (root / "core/credit_record/department=swj/month=2026-02").exists()
    assert {p: p.stat().st_mtime_ns for p in untouched.glob("*.parquet")} == before
    assert not list((root / ".scratch").iterdir())


def test_seeded_marts_and_internal_tables(warehouse, tmp_path):
    warehouse.execute("CREATE TABLE mart.list_snapshot (as_of DATE, reasons JSON)")
    warehouse.execute("INSERT INTO mart.list_snapshot VALUES (DATE '2026-02-01', '[{\"a\": 1}]')")
    root = tmp_path / "lake"
    written = lake.export(warehouse, root, Registry.load(), seed_marts=True)
    assert written["mart/list_snapshot"] == 1
    assert json.loads((root / "mart/list_snapshot/_schema.json").read_text())["reasons"] == "VARCHAR"


def test_lake_root_setting(tmp_path, monkeypatch):
    from bs_credit_pipeline import config

    home = Home(tmp_path / "home")
    monkeypatch.delenv(lake.LAKE_VAR, raising=False)
    monkeypatch.delenv(config.ENGINE_VAR, raising=False)
    assert lake.lake_root(home) == home.root / "lake"
    monkeypatch.setenv(lake.LAKE_VAR, f"file://{tmp_path}/elsewhere")
    assert lake.lake_root(home) == tmp_path / "elsewhere"
    for bad, words in (("s3://bucket/lake", "s3a://"), ("relative/lake", "absolute"), ("hdfs://", "s3a://")):
        monkeypatch.setenv(lake.LAKE_VAR, bad)
        with pytest.raises(ConfigError, match=words) as err:
            lake.lake_root(home)
        assert lake.LAKE_VAR in err.value.zh


def test_an_object_store_lake_is_refused_with_duckdb_before_any_work(tmp_path, monkeypatch):
    from bs_credit_pipeline import config

    home = Home(tmp_path / "home")
    monkeypatch.setenv("BS_CREDIT_PSEUDONYM_KEY", "test-key-not-secret")
    monkeypatch.delenv(config.ENGINE_VAR, raising=False)
    for uri in ("s3a://bucket/lake", "hdfs://namenode:8020/lake", "abfss://c@account.dfs.core.windows.net/lake",
                "gs://bucket/lake", "viewfs://cluster/lake", "wasbs://c@account.blob.core.windows.net/lake"):
        monkeypatch.setenv(lake.LAKE_VAR, uri)
        with pytest.raises(ConfigError) as err:
            config.check_configuration(home)
        assert "BS_CREDIT_ENGINE=spark" in err.value.en and "BS_CREDIT_ENGINE=spark" in err.value.zh
    assert not home.root.exists()  # refused before anything was created


@pytest.mark.spark
def test_an_object_store_lake_with_spark_but_not_over_spark_connect(tmp_path, monkeypatch):
    """Needs java and pyspark only for the engine check (no JVM is started)."""
    from bs_credit_pipeline import config

    home = Home(tmp_path / "home")
    monkeypatch.setenv(config.ENGINE_VAR, "spark")
    monkeypatch.setenv(lake.LAKE_VAR, "s3a://yn-credit-lake/province/")
    monkeypatch.setenv(config.SPARK_MASTER_VAR, "k8s://https://kubernetes.default.svc:443")
    assert lake.lake_root(home) == "s3a://yn-credit-lake/province"
    monkeypatch.setenv(config.SPARK_MASTER_VAR, "sc://spark-connect:15002")
    with pytest.raises(ConfigError, match="Spark Connect") as err:
        lake.lake_root(home)
    assert "k8s://" in err.value.zh
    monkeypatch.setenv(lake.LAKE_VAR, str(tmp_path / "mounted"))  # a mounted lake: Connect is not refused
    assert lake.lake_root(home) == tmp_path / "mounted"


def test_engine_and_master_settings(monkeypatch):
    from bs_credit_pipeline import config

    monkeypatch.delenv(config.ENGINE_VAR, raising=False)
    monkeypatch.delenv(config.SPARK_MASTER_VAR, raising=False)
    assert config.engine() == "duckdb" and config.spark_master() == "local[2]"
    monkeypatch.setenv(config.ENGINE_VAR, "postgres")
    with pytest.raises(ConfigError, match="duckdb or spark"):
        config.engine()
    monkeypatch.setenv(config.SPARK_MASTER_VAR, "local[two]")
    with pytest.raises(ConfigError, match="not a Spark master"):
        config.spark_master()
    monkeypatch.setenv(config.SPARK_MASTER_VAR, "spark://master:7077")
    assert config.spark_master() == "spark://master:7077"
