"""model_curves: the test ROC and precision-recall curves of every candidate of every trained
version, from the training reports in model_registry (leadscore.registry_tables.curve_table)."""

from leadscore.registry_tables import curve_table


def model(dbt, session):
    dbt.config(materialized="table")
    registry = dbt.ref("model_registry").select("model_version, report_json").to_arrow_table()
    return curve_table(registry)
