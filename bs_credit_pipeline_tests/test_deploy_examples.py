"""deploy/province/: every example file is checked for real, without a cluster or the network: the instance files
against Dagster's instance schema and the launcher's and storage's own config schemas, the run configuration
against the job's run-config schema with the executor BS_CREDIT_EXECUTOR picks, the environment with the
pipeline's configuration check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bs_credit_pipeline_tests.conftest import REPO_ROOT

pytest.importorskip("dagster_k8s", reason="the `cluster` dependency group is not installed")

DEPLOY = REPO_ROOT / "deploy" / "province"
PG_ENV = {"DAGSTER_PG_HOST": "postgres", "DAGSTER_PG_USER": "dagster", "DAGSTER_PG_PASSWORD": "not-a-secret"}
# Which executor each run-config file is for, and the environment its deployment gives the code location.
RUN_CONFIGS = {"intake_batch_job.k8s.yaml": "k8s", "nightly_job.k8s.yaml": "k8s",
               "intake_batch_job.celery.yaml": "celery"}


def _instance_errors(folder: Path, document: dict) -> list[str]:
    """Errors of an instance file: Dagster's own loading of dagster.yaml, then each configurable class's schema."""
    from dagster._config import process_config
    from dagster._core.errors import DagsterInvalidConfigError
    from dagster._core.instance.config import dagster_instance_config
    from dagster._serdes.config_class import class_from_code_pointer
    from dagster_postgres import DagsterPostgresStorage

    (folder / "dagster.yaml").write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    try:
        config, _ = dagster_instance_config(str(folder))
    except DagsterInvalidConfigError as exc:
        return [str(exc)]
    errors = []
    classes = [(DagsterPostgresStorage, config["storage"]["postgres"])] if "postgres" in config.get("storage", {}) else []
    if "run_launcher" in config:
        launcher = config["run_launcher"]
        classes.append((class_from_code_pointer(launcher["module"], launcher["class"]), launcher.get("config") or {}))
    for cls, value in classes:
        result = process_config(cls.config_type(), value)
        errors += [e.message for e in result.errors or []]
    return errors


@pytest.mark.parametrize("name", ["dagster.k8s.yaml", "dagster.celery.yaml"])
def test_instance_files_are_valid_dagster_instances(name, tmp_path, monkeypatch):
    for key, value in PG_ENV.items():
        monkeypatch.setenv(key, value)
    document = yaml.safe_load((DEPLOY / name).read_text(encoding="utf-8"))
    assert _instance_errors(tmp_path, document) == []
    assert document["concurrency"]["pools"]["default_limit"] == 1  # pool `warehouse`: one writer, as on one machine
    assert "postgres" in document["storage"]  # shared by every pod / worker

    # Not vacuous: a misspelt key of the launcher or a wrong storage field is found.
    if "run_launcher" in document:
        document["run_launcher"]["config"]["job_namspace"] = "x"
    else:
        document["storage"]["postgres"]["postgres_db"]["portt"] = 1
    assert _instance_errors(tmp_path, document)


_VALIDATE = """
import json, sys, yaml
import dagster as dg
from bs_credit_pipeline.definitions import defs
out = {}
for job_name, path in json.loads(sys.argv[1]).items():
    job = defs.resolve_job_def(job_name)
    config = yaml.safe_load(open(path, encoding="utf-8"))
    try:
        dg.validate_run_config(job, config)
        out[path] = [job.executor_def.name, "ok"]
    except dg.DagsterInvalidConfigError as exc:
        out[path] = [job.executor_def.name, str(exc)]
print(json.dumps(out))
"""


def _validate(executor: str, files: dict[str, Path], env: dict[str, str]) -> dict[str, list[str]]:
    """Validate run configs in a fresh interpreter: the executor is picked when the code location loads."""
    environment = {**os.environ, **env, "BS_CREDIT_EXECUTOR": executor}
    done = subprocess.run([sys.executable, "-c", _VALIDATE, json.dumps({k: str(v) for k, v in files.items()})],
                          env=environment, capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("executor", ["k8s", "celery"])
def test_run_configs_are_valid_for_the_jobs_with_the_cluster_executor(executor, tmp_path):
    env = _env_file(DEPLOY / "bs-credit.celery.env")
    files = {name.split(".")[0]: DEPLOY / "run_config" / name for name, ex in RUN_CONFIGS.items() if ex == executor}
    broken = tmp_path / "broken.yaml"
    document = yaml.safe_load(next(iter(files.values())).read_text(encoding="utf-8"))
    document["execution"]["config"]["max_concurent"] = 2  # misspelt: must be refused
    broken.write_text(yaml.safe_dump(document), encoding="utf-8")
    results = {**_validate(executor, files, env), **_validate(executor, {"intake_batch_job": broken}, env)}
    for name, path in files.items():
        assert results[str(path)] == [{"k8s": "k8s", "celery": "celery"}[executor], "ok"], (name, results[str(path)])
    assert results[str(broken)][1] != "ok" and "max_concurent" in results[str(broken)][1]


def _env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def test_an_unknown_executor_is_one_clear_line(monkeypatch):
    from bs_credit_pipeline.config import ConfigError
    from bs_credit_pipeline.defs.executors import executor_name

    monkeypatch.setenv("BS_CREDIT_EXECUTOR", "kubernetes")
    with pytest.raises(ConfigError) as raised:
        executor_name()
    assert "BS_CREDIT_EXECUTOR" in raised.value.line() and "k8s" in raised.value.line()
    monkeypatch.delenv("BS_CREDIT_EXECUTOR")
    assert executor_name() == "local"


def test_the_configmap_and_env_file_name_the_same_settings():
    configmap = yaml.safe_load((DEPLOY / "bs-credit-env.k8s.yaml").read_text(encoding="utf-8"))
    assert configmap["kind"] == "ConfigMap" and configmap["metadata"]["name"] == "bs-credit-env"
    celery = _env_file(DEPLOY / "bs-credit.celery.env")
    assert set(configmap["data"]) <= set(celery)


@pytest.mark.spark
@pytest.mark.parametrize("name", ["bs-credit-env.k8s.yaml", "bs-credit.celery.env"])
def test_the_deployments_engine_master_and_lake_pass_the_configuration_check(name, monkeypatch, tmp_path):
    """The settings each deployment gives the code location pass the engine, master and lake checks (an
    object-store lake with the Spark engine, a master with a driver JVM); the same lake over Spark Connect does not.
    Needs java and pyspark only for the engine check."""
    from bs_credit_pipeline import config, lake
    from bs_credit_pipeline.config import ConfigError
    from bs_credit_pipeline.paths import Home

    path = DEPLOY / name
    env = yaml.safe_load(path.read_text(encoding="utf-8"))["data"] if name.endswith(".yaml") else _env_file(path)
    for key in (config.ENGINE_VAR, config.SPARK_MASTER_VAR, lake.LAKE_VAR):
        monkeypatch.setenv(key, env[key])
    home = Home(tmp_path / "home")
    assert config.engine() == "spark" and config.spark_master() == env[config.SPARK_MASTER_VAR]
    assert lake.lake_root(home) == env[lake.LAKE_VAR].rstrip("/")
    monkeypatch.setenv(config.SPARK_MASTER_VAR, "sc://spark-connect:15002")
    with pytest.raises(ConfigError, match="Spark Connect"):
        lake.lake_root(home)
