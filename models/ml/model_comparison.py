"""model_comparison: every candidate's test metrics of every trained version, long format."""

from leadscore.registry_tables import comparison_table


def model(dbt, session):
    dbt.config(materialized="table")
    registry = dbt.ref("model_registry").select("model_version, report_json").to_arrow_table()
    return comparison_table(registry)
