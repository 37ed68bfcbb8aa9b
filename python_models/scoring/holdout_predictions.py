"""holdout_predictions: the probabilities of the model that scores leads (lead_predictions'
choice) on labelled hold-out snapshots, behind score_thresholds. A registry model is judged
on its own test window (the snapshots between its test_from and test_to; the current test
split when the grid no longer has any); the rule fallback on the current test split,
calibrated on train + valid."""

from leadscore.scoring import (
    RULES_MODEL,
    holdout_probabilities,
    labelled_with_rule_scores,
    rule_calibration,
    scoring_model_of,
)
from leadscore.training import ModelArtifact


def model(dbt, session):
    dbt.config(materialized="table")
    max_rows = int(dbt.config.get("max_rows_per_split"))
    params = dbt.ref("int_as_of_resolved")
    registry = dbt.ref("model_registry")
    snapshots = dbt.ref("training_snapshots")
    rules = dbt.ref("training_rule_scores")

    labelled = labelled_with_rule_scores(snapshots, rules)
    current_test = labelled.filter("split = 'test'")
    as_of = params.to_arrow_table().column("as_of")[0].as_py()
    row, _ = scoring_model_of(registry.to_arrow_table().to_pylist(), as_of)
    if row is not None:
        window = labelled.filter(f"snapshot_at between '{row['test_from']}' and '{row['test_to']}'")
        evaluated_on = "the model's test window"
        if not window.limit(1).to_arrow_table().num_rows:
            window, evaluated_on = current_test, "the current test split"
        test = window.order("hash(lead_id, snapshot_at)").limit(max_rows).to_arrow_table()
        artifact = ModelArtifact.from_json(row["artifact_json"])
        return holdout_probabilities(test, row["model_version"], evaluated_on, artifact=artifact)

    calibrator = rule_calibration(labelled, ("train", "valid"))
    test = current_test.order("hash(lead_id, snapshot_at)").limit(max_rows).to_arrow_table()
    return holdout_probabilities(test, RULES_MODEL, "the current test split", calibrator=calibrator)
