"""feature_drift: per model feature, today's open leads against the scoring model's training
reference (PSI, KS, chi-square, ok / watch / alert) with the feature's importance.
leadscore.drift holds the logic and the choice of the two populations."""

from leadscore.dbt_inputs import resolved_as_of
from leadscore.drift import DriftConfig, feature_drift


def model(dbt, session):
    dbt.config(materialized="table")
    config = DriftConfig.from_vars(dbt.config.get("drift_vars"))
    params = dbt.ref("int_as_of_resolved")
    registry = dbt.ref("model_registry")
    features = dbt.ref("lead_features")
    snapshots = dbt.ref("training_snapshots")

    as_of = resolved_as_of(params)
    rows = registry.to_arrow_table().to_pylist()
    return feature_drift(features, snapshots, rows, as_of, config)
