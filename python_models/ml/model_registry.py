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
    )
    settings = dbt.config.get("leadscore_vars")
    existing = None
    if dbt.is_incremental:
        existing = session.sql(f"select * from {dbt.this}").to_arrow_table()
    params = dbt.ref("int_as_of_resolved").to_arrow_table()
    as_of = params.column("as_of")[0].as_py()

    def load_labelled():
        labelled = dbt.ref("training_snapshots").filter("split <> 'unlabelled'").to_arrow_table()
        rules = dbt.ref("training_rule_scores").select("lead_id, snapshot_at, rule_score")
        joined = labelled.join(rules.to_arrow_table(), keys=["lead_id", "snapshot_at"])
        scores = pc.fill_null(joined.column("rule_score"), 0).to_numpy(zero_copy_only=False)
        return joined.drop_columns(["rule_score"]), scores

    return update_registry(
        existing,
        load_labelled,
        as_of,
        TrainingConfig.from_vars(settings),
        RegistryPolicy.from_vars(settings),
        now=datetime.now(UTC).replace(tzinfo=None),
    )
