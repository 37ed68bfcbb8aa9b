"""feature_drift: per model feature, today's open leads against the scoring model's training
reference: PSI, KS, chi-square, ok / watch / alert (leadscore.drift)."""

from leadscore.drift import drift_of_run


def model(dbt, session):
    dbt.config(materialized="table")
    params = dbt.ref("int_as_of_resolved")
    registry = dbt.ref("model_registry")
    features = dbt.ref("lead_features")
    snapshots = dbt.ref("training_snapshots")
    return drift_of_run(params, registry, features, snapshots, dbt.config.get("drift_vars"))
