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


def test_marts_brought_back_into_the_warehouse_are_not_exported_again(warehouse, tmp_path):
    """A mart folder rewritten by Spark (no manifest) and then marked as exported (its rows are back in the
    warehouse, engines/marts.py) is left as it is by the next seeding export, until the warehouse's table changes."""
    from bs_credit_pipeline.lake.export import mark_exported

    warehouse.execute("CREATE TABLE mart.list_snapshot AS SELECT DATE '2026-02-01' AS as_of, 'k' AS entry_key")
    root = tmp_path / "lake"
    lake.export(warehouse, root, Registry.load(), seed_marts=True)
    (root / "mart/list_snapshot/_manifest.json").unlink()  # as after Spark's rewrite of the folder
    assert lake.export(warehouse, root, Registry.load(), seed_marts=True)["mart/list_snapshot"] == 1
    (root / "mart/list_snapshot/_manifest.json").unlink()
    mark_exported(warehouse, root, ["mart/list_snapshot"])
    assert lake.export(warehouse, root, Registry.load(), seed_marts=True)["mart/list_snapshot"] == 0
    warehouse.execute("INSERT INTO mart.list_snapshot VALUES (DATE '2026-03-01', 'k')")
    assert lake.export(warehouse, root, Registry.load(), seed_marts=True)["mart/list_snapshot"] == 2


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


def _files(root) -> dict[str, tuple[int, int]]:
    """Every Parquet file of the lake -> its inode and modification time (what a rewrite changes)."""
    return {p.relative_to(root).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in root.rglob("*.parquet") if ".scratch" not in p.parts}


def _lake(root) -> dict[str, list]:
    """Every table's rows (partition columns included), by folder."""
    folders = {p.parent for p in root.rglob("_schema.json")}
    return {f.relative_to(root).as_posix(): _rows(f) if any(f.rglob("*.parquet")) else [] for f in folders}


def test_an_unchanged_warehouse_is_not_written_again(warehouse, tmp_path):
    root, registry = tmp_path / "lake", Registry.load()
    first = lake.export(warehouse, root, registry)
    files = _files(root)
    manifest = json.loads((root / "core/credit_record/_manifest.json").read_text())
    assert sorted(manifest["partitions"]) == ["department=scjgj/month=2026-01", "department=swj/month=2026-01",
                                              "department=swj/month=2026-02"]
    assert manifest["partitions"]["department=swj/month=2026-01"][0] == 1  # rows, then the fingerprint
    assert lake.export(warehouse, root, registry) == dict.fromkeys(first, 0)
    assert _files(root) == files


def test_a_changed_partition_is_rewritten_a_gone_one_removed_the_others_untouched(warehouse, tmp_path):
    root, registry = tmp_path / "lake", Registry.load()
    lake.export(warehouse, root, registry)
    before = _files(root)
    # swj 2026-01: g1 corrected (a new version); swj 2026-02 loses its only record; scjgj 2026-01 as it was
    warehouse.execute("UPDATE core.credit_record SET valid_to = now() WHERE record_id IN ('g1', 'p2')")
    warehouse.execute("INSERT INTO core.credit_record SELECT * REPLACE ('g1|2' AS version_id, 2 AS version,"
                      " 'corrected' AS change_reason, NULL AS valid_to) FROM core.credit_record WHERE record_id = 'g1'")
    written = lake.export(warehouse, root, registry)
    assert written["core/credit_record"] == 1 and written["records/good_record"] == 1
    assert written["records/admin_penalty"] == 0 and written["core/subject"] == 0
    after = _files(root)
    untouched = {k: v for k, v in before.items() if "department=scjgj" in k or k.startswith("core/subject")}
    assert untouched and all(after[k] == v for k, v in untouched.items())
    rewritten = "core/credit_record/department=swj/month=2026-01/data_0.parquet"
    assert after[rewritten] != before[rewritten]
    assert not (root / "core/credit_record/department=swj/month=2026-02").exists()
    assert not (root / "records/admin_penalty/department=swj").exists()
    fresh = tmp_path / "fresh"
    lake.export(warehouse, fresh, registry)
    assert _lake(root) == _lake(fresh)
    for table in ("core/credit_record", "records/admin_penalty"):
        manifest = json.loads((root / table / "_manifest.json").read_text())
        assert manifest == json.loads((fresh / table / "_manifest.json").read_text())
    assert not list((root / ".scratch").iterdir())


def test_a_partition_an_interrupted_export_marked_is_written_again(warehouse, tmp_path):
    """An export marks the partitions it is about to change in the manifest first (fingerprint null): an export
    that dies before it finishes leaves them marked, and the next one writes them again."""
    root, registry = tmp_path / "lake", Registry.load()
    lake.export(warehouse, root, registry)
    before = _files(root)
    path = root / "core/credit_record/_manifest.json"
    manifest = json.loads(path.read_text())
    manifest["partitions"]["department=swj/month=2026-02"] = None
    manifest["partitions"]["department=fy/month=2026-03"] = None  # a partition the warehouse no longer has
    path.write_text(json.dumps(manifest))
    (root / "core/credit_record/department=fy/month=2026-03").mkdir(parents=True)
    written = lake.export(warehouse, root, registry)
    assert written["core/credit_record"] == 1 and sum(written.values()) == 1
    changed = {k for k, v in _files(root).items() if before.get(k) != v}
    assert changed == {"core/credit_record/department=swj/month=2026-02/data_0.parquet"}
    assert not (root / "core/credit_record/department=fy").exists()


def test_another_schema_or_no_manifest_writes_the_table_whole(warehouse, tmp_path):
    root, registry = tmp_path / "lake", Registry.load()
    lake.export(warehouse, root, registry)
    (root / "core/repair/_schema.json").write_text("{}")  # an export of an older contract
    (root / "records/good_record/_manifest.json").unlink()  # e.g. a lake written before manifests
    written = lake.export(warehouse, root, registry)
    assert written["records/good_record"] == 1 and written["core/credit_record"] == 0
    assert "core/repair" in written and json.loads((root / "core/repair/_schema.json").read_text())
    assert (root / "records/good_record/_manifest.json").exists()


def test_a_partition_export_into_a_table_of_another_schema_leaves_no_manifest(warehouse, tmp_path):
    """Its other partitions keep the old schema: the next full export must write the table whole."""
    root, registry = tmp_path / "lake", Registry.load()
    lake.export(warehouse, root, registry)
    (root / "core/credit_record/_schema.json").write_text("{}")
    lake.export(warehouse, root, registry, partitions=[("swj", "2026-01")])
    assert not (root / "core/credit_record/_manifest.json").exists()
    assert lake.export(warehouse, root, registry)["core/credit_record"] == 3
