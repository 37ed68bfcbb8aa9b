"""model_registry: one row per model version, never deleted (incremental, full_refresh off).

leadscore.registry.update_registry applies the pin, the retrain policy and the champion gate;
the labelled training snapshots and their rule scores are read only when it trains.
"""

from datetime import UTC, datetime

import pyarrow.compute as pc

from leadscore.config import TrainingConfig
from leadscore.registry import RegistryPolicy, update_registry


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        unique_key="model_version",
        incremental_strategy="delete+insert",
        full_refresh=False,
        on_schema_change="append_new_columns",
    )
    settings = dbt.config.get("leadscore_vars")
    existing = None
    if dbt.is_incremental:
        existing = session.sql(f"select * from {dbt.this}").to_arrow_table()
    params = dbt.ref("int_as_of_resolved").to_arrow_table()
    as_of = params.column("as_of")[0].as_py()

    config = TrainingConfig.from_vars(settings)

    # the latest retrain recommendation of an earlier run, read directly (a ref would be a
    # cycle: monitoring reads the scores this registry's champion produces)
    recommendation = None
    found = session.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = ? and table_name = 'retrain_recommendation'",
        [dbt.this.schema],
    ).fetchall()
    if found[0][0]:
        latest = session.execute(
            f'select * from "{dbt.this.schema}".retrain_recommendation where as_of <= ? '
            "order by as_of desc, recommended_at desc limit 1",
            [as_of],
        ).fetchall()
        if latest:
            columns = [d[0] for d in session.description]
            recommendation = dict(zip(columns, latest[0], strict=True))

    def load_labelled():
        # each split (and the purged rows, which only the refit reads) capped at
        # max_rows_per_split by a deterministic hash sample and joined
        # to its rule score in DuckDB, before anything reaches Python memory
        snapshots = dbt.ref("training_snapshots")
        rules = dbt.ref("training_rule_scores")
        sample = [
            snapshots.filter(f"split = '{split}'")
            .order("hash(lead_id, snapshot_at)")
            .limit(config.max_rows_per_split)
            for split in ("train", "valid", "test", "purged")
        ]
        labelled = sample[0].union(sample[1]).union(sample[2]).union(sample[3]).set_alias("s")
        joined = labelled.join(
            rules.select("lead_id, snapshot_at, rule_score").set_alias("r"),
            "s.lead_id = r.lead_id and s.snapshot_at = r.snapshot_at",
            how="left",
        ).select("s.*, r.rule_score")
        table = joined.to_arrow_table()
        scores = pc.fill_null(table.column("rule_score"), 0).to_numpy(zero_copy_only=False)
        return table.drop_columns(["rule_score"]), scores

    return update_registry(
        existing,
        load_labelled,
        as_of,
        config,
        RegistryPolicy.from_vars(settings),
        now=datetime.now(UTC).replace(tzinfo=None),
        recommendation=recommendation,
    )
