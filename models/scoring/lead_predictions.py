"""lead_predictions: every lead of lead_features scored by the registry model for as_of
(the champion; in a backfill the latest model trained on data up to as_of) with calibrated
probability, logit, reasons and notes, or by the rule score when there is none.
leadscore.scoring holds the logic; lead_scores adds tiers and actions in SQL."""

from leadscore.dbt_inputs import resolved_as_of
from leadscore.reasons import ReasonLabels
from leadscore.scoring import (
    labelled_with_rule_scores,
    parse_exact_reasons_max_leads,
    rule_calibration,
    score_with_model,
    score_with_rules,
    scoring_model_of,
)
from leadscore.training import ModelArtifact


def model(dbt, session):
    dbt.config(materialized="table")
    n_reasons = int(dbt.config.get("n_reasons"))
    exact_max = parse_exact_reasons_max_leads(dbt.config.get("exact_reasons_max_leads"))
    params = dbt.ref("int_as_of_resolved")
    features = dbt.ref("lead_features")
    registry = dbt.ref("model_registry")
    labels_seed = dbt.ref("feature_labels")
    rule_scores = dbt.ref("lead_rule_scores")
    breakdown = dbt.ref("lead_rule_score_breakdown")
    snapshots = dbt.ref("training_snapshots")
    training_rules = dbt.ref("training_rule_scores")

    as_of = resolved_as_of(params)
    rows = registry.to_arrow_table().to_pylist()
    chosen, note = scoring_model_of(rows, as_of)
    if chosen is not None:
        artifact = ModelArtifact.from_json(chosen["artifact_json"])
        labels = ReasonLabels.from_rows(labels_seed.to_arrow_table().to_pylist())
        return score_with_model(
            features.to_arrow_table(),
            artifact,
            chosen["model_version"],
            labels,
            n_reasons,
            note,
            exact_reasons_max_leads=exact_max,
        )

    if note is None:
        note = "no champion model in model_registry, scored with the rule score"
        latest = max(rows, key=lambda r: r["trained_at"], default=None)
        if latest and latest["status_reason"]:
            note += f" (latest version {latest['model_version']}: {latest['status_reason']})"
    labelled = labelled_with_rule_scores(snapshots, training_rules)
    calibrator = rule_calibration(labelled, ("train", "valid", "test"))
    return score_with_rules(
        rule_scores.select("lead_id, as_of, rule_score").to_arrow_table(),
        breakdown.select("lead_id, rule_id, points, description").to_arrow_table(),
        calibrator,
        why=note,
        n_reasons=n_reasons,
    )
