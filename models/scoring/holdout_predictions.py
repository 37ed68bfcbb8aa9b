"""holdout_predictions: the probabilities of the model that scores leads (lead_predictions'
choice) on labelled hold-out snapshots, behind score_thresholds: its own valid window
(evaluated_split 'valid', which picks the operating threshold) and test window ('test', which
reports it), scored with its train-only evaluation fit; the rule fallback on the current
valid and test splits, calibrated on train. leadscore.scoring.holdout_predictions."""

from leadscore.dbt_inputs import resolved_as_of
from leadscore.scoring import holdout_predictions, labelled_with_rule_scores


def model(dbt, session):
    dbt.config(materialized="table")
    max_rows = int(dbt.config.get("max_rows_per_split"))
    params = dbt.ref("int_as_of_resolved")
    registry = dbt.ref("model_registry")
    labelled = labelled_with_rule_scores(
        dbt.ref("training_snapshots"), dbt.ref("training_rule_scores")
    )
    as_of = resolved_as_of(params)
    return holdout_predictions(labelled, registry.to_arrow_table().to_pylist(), as_of, max_rows)
