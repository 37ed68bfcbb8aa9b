"""model_registry: one row per model version, never deleted (incremental, full_refresh off).

leadscore.registry.update_registry applies the pin, the retrain policy and the champion gate;
the labelled training snapshots and their rule scores are read only when it trains.
"""

from datetime import UTC, datetime

from leadscore.config import TrainingConfig
from leadscore.dbt_inputs import resolved_as_of
from leadscore.registry import RegistryPolicy, previous_recommendation, update_registry
from leadscore.scoring import training_rows


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        unique_key="model_version",
        incremental_strategy="delete+insert",
        full_refresh=False,
        on_schema_change="append_new_columns",
    )
    settings = dbt.config.get("leadscore_vars")
    config = TrainingConfig.from_vars(settings)
    existing = (
        session.sql(f"select * from {dbt.this}").to_arrow_table() if dbt.is_incremental else None
    )
    # refs each in a statement of their own: dbt's parser does not see a ref inside a chain
    params = dbt.ref("int_as_of_resolved")
    snapshots = dbt.ref("training_snapshots")
    rules = dbt.ref("training_rule_scores")
    as_of = resolved_as_of(params)
    return update_registry(
        existing,
        lambda: training_rows(snapshots, rules, config.max_rows_per_split),
        as_of,
        config,
        RegistryPolicy.from_vars(settings),
        now=datetime.now(UTC).replace(tzinfo=None),
        recommendation=previous_recommendation(session, dbt.this.schema, as_of),
    )
