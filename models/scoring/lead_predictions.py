"""lead_predictions: every open lead scored by the registry model for as_of, or by the rule
score without one (leadscore.scoring.predict_leads); lead_scores adds tiers in SQL."""

from leadscore.scoring import predict_leads


def model(dbt, session):
    dbt.config(materialized="table")
    params = dbt.ref("int_as_of_resolved")
    features = dbt.ref("lead_features")
    registry = dbt.ref("model_registry")
    labels = dbt.ref("feature_labels")
    rule_scores = dbt.ref("lead_rule_scores")
    rule_reasons = dbt.ref("lead_rule_reasons")
    labelled = dbt.ref("int_labelled_snapshots")
    settings = dbt.config.get("leadscore_vars")
    return predict_leads(
        params, features, registry, labels, rule_scores, rule_reasons, labelled, settings
    )
