"""Configuration checks that every command (and every Dagster run) makes before it does any work.

A failed check raises ConfigError: one line in Chinese for the operator and in English for the log, saying what to
do. The command then exits with code 2 and nothing has been written. Nothing here creates or changes a file.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import stat
from pathlib import Path

from .identifiers import PSEUDONYM_KEY_VAR, PSEUDONYM_MIN_KEY_BYTES
from .locking import LOCK_WAIT_VAR, READER_WAIT_VAR
from .paths import MONTH_RE, Home

KEY_FILE_VAR = "BS_CREDIT_PSEUDONYM_KEY_FILE"
EXIT_CONFIG = 2
EXIT_NO_SPACE = 4
MIN_FREE_VAR = "BS_CREDIT_MIN_FREE_MB"
DEFAULT_MIN_FREE_MB = 64  # Dagster's SQLite run storage fails with a bare "disk I/O error" on a full disk
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)


class ConfigError(Exception):
    """A configuration or usage mistake: `zh` for the operator, `en` for logs."""

    def __init__(self, zh: str, en: str, exit_code: int = EXIT_CONFIG):
        self.zh, self.en, self.exit_code = zh, en, exit_code
        super().__init__(en)

    def line(self) -> str:
        return f"{self.zh} | {self.en}"


def key_file(home: Home) -> Path:
    """Where the pseudonym key file is: BS_CREDIT_PSEUDONYM_KEY_FILE, else <home>/secrets/pseudonym.key."""
    return Path(os.environ.get(KEY_FILE_VAR) or home.root / "secrets" / "pseudonym.key")


def check_home(home: Home) -> None:
    """The home exists as a writable directory, or can be created (its nearest existing ancestor is one)."""
    root, probe = home.root, home.root
    while not probe.exists() and not probe.is_symlink():
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(
            f"工作目录 {root} 无法使用：{probe} 是一个文件而不是文件夹。请用 --home 或环境变量 BS_CREDIT_HOME 指定一个文件夹。",
            f"home {root} is unusable: {probe} is a file, not a directory; set --home or BS_CREDIT_HOME to a folder")
    read_only_fs = bool(os.statvfs(probe).f_flag & os.ST_RDONLY)
    if read_only_fs or not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(
            f"工作目录 {root} 不可写（{probe} 只读）。请授予写权限，或用 --home 指定一个可写的文件夹。",
            f"home {root} is not writable ({probe} is read-only); grant write access or choose another --home")
    for sub in (home.inbox, home.outbox, home.staging, home.publish, home.dagster_home, home.warehouse):
        if sub.exists() and not os.access(sub, os.W_OK):
            raise ConfigError(f"{sub} 不可写。请授予写权限后重试。", f"{sub} is not writable; grant write access")


def check_free_space(home: Home) -> None:
    """At least BS_CREDIT_MIN_FREE_MB (default 64) MB free where the home lives."""
    text = os.environ.get(MIN_FREE_VAR, "").strip()
    try:
        need = float(text) if text else DEFAULT_MIN_FREE_MB
    except ValueError:
        raise ConfigError(f"环境变量 {MIN_FREE_VAR} 应为兆字节数，现为“{text}”。",
                          f"{MIN_FREE_VAR} must be a number of megabytes, got {text!r}") from None
    probe = home.root
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free / 2**20
    if free < need:
        raise ConfigError(
            f"磁盘空间不足：{probe} 所在磁盘仅剩 {free:.0f} MB（至少需要 {need:.0f} MB）。未做任何处理，请清理磁盘后重新运行。",
            f"no space: {free:.0f} MB free where {probe} lives, {need:.0f} MB needed ({MIN_FREE_VAR}); nothing done",
            exit_code=EXIT_NO_SPACE)


def check_key(home: Home) -> None:
    """The snapshot's pseudonym key: BS_CREDIT_PSEUDONYM_KEY, or a key file that exists, is readable, holds at
    least 16 bytes and is readable by its owner only."""
    init_hint = "运行 bs-credit init 生成密钥文件，或设置环境变量 BS_CREDIT_PSEUDONYM_KEY"
    env = os.environ.get(PSEUDONYM_KEY_VAR)
    if env:
        if len(env.encode()) < PSEUDONYM_MIN_KEY_BYTES:
            raise ConfigError(
                f"环境变量 {PSEUDONYM_KEY_VAR} 太短：至少需要 {PSEUDONYM_MIN_KEY_BYTES} 个字符（每月保持不变）。",
                f"{PSEUDONYM_KEY_VAR} is shorter than {PSEUDONYM_MIN_KEY_BYTES} bytes; set a longer secret")
        return
    path = key_file(home)
    if not path.exists():
        raise ConfigError(f"缺少假名化密钥（{path} 不存在）：请{init_hint}。",
                          f"no pseudonym key: {path} does not exist; run `bs-credit init` or set {PSEUDONYM_KEY_VAR}")
    if not path.is_file():
        raise ConfigError(f"假名化密钥 {path} 不是文件：请{init_hint}。", f"pseudonym key {path} is not a file")
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"假名化密钥文件 {path} 的权限过宽（{stat.filemode(mode)}）：其他用户可读。请执行 chmod 600 {path}。",
            f"pseudonym key file {path} is accessible to group or others ({stat.filemode(mode)}); chmod 600 it")
    try:
        key = path.read_bytes().strip()
    except OSError as exc:
        raise ConfigError(f"无法读取假名化密钥文件 {path}（{exc.strerror}）：请检查文件权限。",
                          f"cannot read pseudonym key file {path}: {exc.strerror}") from None
    if len(key) < PSEUDONYM_MIN_KEY_BYTES:
        raise ConfigError(
            f"假名化密钥文件 {path} 的内容太短：至少需要 {PSEUDONYM_MIN_KEY_BYTES} 个字符。请{init_hint}。",
            f"pseudonym key in {path} is shorter than {PSEUDONYM_MIN_KEY_BYTES} bytes")


def check_waits() -> None:
    """BS_CREDIT_LOCK_WAIT and BS_CREDIT_READER_WAIT, when set, are numbers of seconds >= 0."""
    for var in (LOCK_WAIT_VAR, READER_WAIT_VAR):
        text = os.environ.get(var, "").strip()
        if not text:
            continue
        try:
            ok = float(text) >= 0
        except ValueError:
            ok = False
        if not ok:
            raise ConfigError(f"环境变量 {var} 应为等待秒数（非负数），现为“{text}”。",
                              f"{var} must be a number of seconds >= 0, got {text!r}")


MAX_REJECT_RATE_VAR = "BS_CREDIT_MAX_REJECT_RATE"
DEFAULT_MAX_REJECT_RATE = 0.5
SENSOR_SECONDS_VAR = "BS_CREDIT_SENSOR_SECONDS"
DEFAULT_SENSOR_SECONDS = 30


def max_reject_rate() -> float:
    """BS_CREDIT_MAX_REJECT_RATE (default 0.5): a partition rejecting a larger share of its rows fails its
    `submission_accepted` check. A fraction between 0 and 1."""
    text = os.environ.get(MAX_REJECT_RATE_VAR, "").strip()
    if not text:
        return DEFAULT_MAX_REJECT_RATE
    try:
        rate = float(text)
    except ValueError:
        rate = -1.0
    if not 0 <= rate <= 1:
        raise ConfigError(f"环境变量 {MAX_REJECT_RATE_VAR} 应为 0 到 1 之间的退回比例（如 0.5），现为“{text}”。",
                          f"{MAX_REJECT_RATE_VAR} must be a fraction between 0 and 1, got {text!r}")
    return rate


def sensor_seconds() -> int:
    """BS_CREDIT_SENSOR_SECONDS (default 30): how often the inbox sensor looks at the inbox; a whole number >= 5."""
    text = os.environ.get(SENSOR_SECONDS_VAR, "").strip()
    if not text:
        return DEFAULT_SENSOR_SECONDS
    if not text.isdigit() or int(text) < 5:
        raise ConfigError(f"环境变量 {SENSOR_SECONDS_VAR} 应为不小于 5 的整数秒数，现为“{text}”。",
                          f"{SENSOR_SECONDS_VAR} must be a whole number of seconds >= 5, got {text!r}")
    return int(text)


ENGINE_VAR = "BS_CREDIT_ENGINE"
SPARK_MASTER_VAR = "BS_CREDIT_SPARK_MASTER"
DEFAULT_SPARK_MASTER = "local[2]"


def engine() -> str:
    """BS_CREDIT_ENGINE: duckdb (default, embedded) or spark (the lists on Spark SQL over the lake, docs/LAKE.md);
    spark needs pyspark (the optional `spark` group) and a Java runtime."""
    from .engines import ENGINES

    text = os.environ.get(ENGINE_VAR, "").strip().lower() or "duckdb"
    if text not in ENGINES:
        raise ConfigError(f"环境变量 {ENGINE_VAR} 应为 duckdb 或 spark，现为“{text}”。",
                          f"{ENGINE_VAR} must be duckdb or spark, got {text!r}")
    if text == "spark":
        import importlib.util

        if importlib.util.find_spec("pyspark") is None:
            raise ConfigError(f"{ENGINE_VAR}=spark 需要安装 Spark 组件：pip install -e '.[spark]'。",
                              f"{ENGINE_VAR}=spark needs pyspark: pip install -c requirements.lock -e '.[spark]'")
        if shutil.which("java") is None:
            raise ConfigError(f"{ENGINE_VAR}=spark 需要 Java 运行环境：请安装 openjdk-17-jre-headless。",
                              f"{ENGINE_VAR}=spark needs a Java runtime: install openjdk-17-jre-headless")
    return text


def spark_master() -> str:
    """BS_CREDIT_SPARK_MASTER (default local[2]): local[N], local[*], spark://host:port, sc://host (Connect; not
    with an object-store lake), yarn or k8s://..."""
    text = os.environ.get(SPARK_MASTER_VAR, "").strip() or DEFAULT_SPARK_MASTER
    if not re.match(r"^(local(\[(\d+|\*)\])?|spark://\S+|sc://\S+|yarn|k8s://\S+)$", text):
        raise ConfigError(f"环境变量 {SPARK_MASTER_VAR} 无效：“{text}”（例如 local[2] 或 spark://主机:7077）。",
                          f"{SPARK_MASTER_VAR} {text!r} is not a Spark master (local[2], spark://host:7077, ...)")
    return text


def check_configuration(home: Home) -> None:
    """Everything a pipeline run needs: a usable home with free space, valid waits and thresholds, the key, the
    engine (with Spark its master) and the lake location (an object-store lake only with Spark, not over Spark
    Connect: lake.lake_root)."""
    from .lake import lake_root

    if engine() == "spark":
        spark_master()
    lake_root(home)
    check_home(home)
    check_free_space(home)
    check_waits()
    max_reject_rate()
    sensor_seconds()
    check_key(home)


def parse_date(text: str, option: str = "--as-of") -> dt.date:
    """A calendar date written YYYY-MM-DD between 2000 and 2100."""
    try:
        day = dt.date.fromisoformat(text) if _DATE_RE.match(text) else None
    except ValueError:
        day = None
    if day is None or not EARLIEST <= day <= LATEST:
        raise ConfigError(f"{option} 的日期“{text}”无效：请写成 YYYY-MM-DD，例如 2026-12-01。",
                          f"{option} {text!r} is not a valid date; write YYYY-MM-DD, e.g. 2026-12-01")
    return day


def check_month(text: str, option: str = "--month") -> str:
    """A month written YYYY-MM (2000-2099)."""
    if not MONTH_RE.match(text):
        raise ConfigError(f"{option} 的月份“{text}”无效：请写成 YYYY-MM，例如 2026-10。",
                          f"{option} {text!r} is not a valid month; write YYYY-MM, e.g. 2026-10")
    return text


def check_department(registry, text: str, option: str = "--department") -> str:
    """A department code, Chinese name or alias from the registry; returns its code."""
    dept = registry.department_for_folder(text)
    if dept is None:
        raise ConfigError(f"{option} 的单位“{text}”未登记：请使用 data_contracts/departments.yaml 中的代码、名称或别名。",
                          f"{option} {text!r} is not a registered department (data_contracts/departments.yaml)")
    return dept.code
