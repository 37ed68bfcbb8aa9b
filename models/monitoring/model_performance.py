"""model_performance: past runs' scores judged on their matured cohorts, overall, per
lead_source and per lead-age band, against each version's test metrics (leadscore.monitoring)."""

from leadscore.monitoring import performance_of_run


def model(dbt, session):
    dbt.config(materialized="table")
    matured = dbt.ref("int_matured_scores")
    registry = dbt.ref("model_registry")
    return performance_of_run(matured, registry)
