"""model_performance: the scores of past runs judged on their matured cohorts
(int_matured_scores) against each model version's test metrics; logic in
leadscore.monitoring."""

from leadscore.monitoring import performance_rows, registry_test_metrics


def model(dbt, session):
    dbt.config(materialized="table")
    matured = dbt.ref("int_matured_scores")
    registry = dbt.ref("model_registry")
    tests = registry_test_metrics(registry.select("model_version, metrics_json").to_arrow_table())
    return performance_rows(matured.to_arrow_table(), tests)
