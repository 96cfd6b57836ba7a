"""The nightly lists on Spark (BS_CREDIT_ENGINE=spark): export the warehouse to the lake, then build every mart
table with Spark SQL over it; the marts are written under <lake>/mart. The embedded warehouse stays the source
of truth for core.* and ops.*."""

from __future__ import annotations

import datetime as dt

from .. import lake, lists
from ..contracts import Registry
from ..lake.files import lake_files
from ..locking import writer_lock
from ..paths import Home
from ..warehouse import schema

MART_EXTRA = ("integrity_score", "gov_integrity", "gov_warning", "department_scorecard")


def build_lists_on_spark(home: Home, as_of: dt.date, spark) -> dict[str, int]:
    """Export the lake (seeding mart history the first time), then build_all on `spark`; row counts per table."""
    from ..pipeline import EVALUATIONS, evaluation_step
    from . import spark as engine

    root = lake.lake_root(home)
    seed = not lake_files(root, spark).exists("mart")
    with writer_lock(home.root):
        conn = schema.connect(home.warehouse, read_only=True)
        try:
            lake.export(conn, root, Registry.load(), staging=home.staging, seed_marts=seed, spark=spark)
        finally:
            conn.close()
    engine.register_lake(spark, root)
    sconn = engine.SparkConnection(spark, root)
    counts = lists.build_all(sconn, as_of, lists.load_rules(),
                             extra_steps=[evaluation_step(m) for m in EVALUATIONS], transaction=False)
    for table in MART_EXTRA:
        counts[table] = sconn.execute(f"SELECT count(*) FROM mart.{table} WHERE as_of = ?", [as_of]).fetchone()[0]
    return counts
