"""model_registry: one row per model version, never deleted (leadscore.registry)."""

from leadscore.registry import build_registry


def model(dbt, session):
    existing = session.sql(f"select * from {dbt.this}") if dbt.is_incremental else None
    params = dbt.ref("int_as_of_resolved")
    labelled = dbt.ref("int_labelled_snapshots")
    settings = dbt.config.get("leadscore_vars")
    return build_registry(session, dbt.this.schema, existing, params, labelled, settings)
