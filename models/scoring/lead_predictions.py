"""lead_predictions: every open lead scored by the model for as_of, or by the rule score."""

from leadscore.scoring import predict_leads


def model(dbt, session):
    dbt.config(materialized="table")
    params = dbt.ref("int_as_of_resolved")
    features = dbt.ref("lead_features")
    registry = dbt.ref("model_registry")
    labels = dbt.ref("feature_labels")
    reasons = dbt.ref("lead_rule_reasons")
    labelled = dbt.ref("int_labelled_snapshots")
    model_vars = dbt.config.get("leadscore_vars")
    return predict_leads(params, features, registry, labels, reasons, labelled, model_vars)
