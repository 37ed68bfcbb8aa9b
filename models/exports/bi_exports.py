"""bi_exports: atomic Parquet copies of the BI tables under export_dir (leadscore.exports)."""

from leadscore.exports import export_run


def model(dbt, session):
    dbt.config(materialized="table")
    # fmt: off
    return export_run(session, dbt.config.get("export_dir"), dbt.ref("int_as_of_resolved"), [
        dbt.ref("lead_scores"), dbt.ref("lead_score_history"), dbt.ref("lead_tier_summary"),
        dbt.ref("score_thresholds"), dbt.ref("score_changes"), dbt.ref("model_comparison"),
        dbt.ref("scoring_runs"), dbt.ref("score_distribution"), dbt.ref("model_performance"),
        dbt.ref("data_quality"), dbt.ref("data_quality_scores"), dbt.ref("retrain_recommendation"),
        dbt.ref("feature_drift"), dbt.ref("lead_segments"), dbt.ref("segment_profiles"),
        dbt.ref("model_curves"), dbt.ref("holdout_predictions")])
