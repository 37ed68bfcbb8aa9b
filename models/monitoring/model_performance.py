"""model_performance: the scores of past runs judged on their matured cohorts
(int_matured_scores), overall, per lead_source and per lead-age band, against each model
version's test metrics (per age band where the registry has them); logic in
leadscore.monitoring."""

from leadscore.monitoring import (
    performance_rows,
    registry_metric_columns,
    registry_population_metrics,
    registry_test_metrics,
)


def model(dbt, session):
    dbt.config(materialized="table")
    matured = dbt.ref("int_matured_scores")
    registry = dbt.ref("model_registry")
    tests = registry.select(", ".join(registry_metric_columns(registry.columns))).to_arrow_table()
    by_population = registry_population_metrics(tests)
    return performance_rows(matured.to_arrow_table(), registry_test_metrics(tests), by_population)
