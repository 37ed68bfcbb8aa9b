"""holdout_predictions: the scoring model's probabilities on its own labelled valid and test
windows, behind score_thresholds (leadscore.scoring.predict_holdout)."""

from leadscore.scoring import predict_holdout


def model(dbt, session):
    dbt.config(materialized="table")
    params = dbt.ref("int_as_of_resolved")
    registry = dbt.ref("model_registry")
    labelled = dbt.ref("int_labelled_snapshots")
    return predict_holdout(params, registry, labelled, dbt.config.get("max_rows_per_split"))
