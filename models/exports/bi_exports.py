"""bi_exports: Parquet copies of the BI-facing tables under export_dir; returns the manifest.

Each file is written atomically; lead_score_history is Hive-partitioned by as_of and only new,
changed and the current as_of's partitions are rewritten (leadscore.exports).
"""

from pathlib import Path

from leadscore.dbt_inputs import resolved_as_of
from leadscore.exports import ExportSpec, export_tables


def model(dbt, session):
    dbt.config(materialized="table")
    folder = dbt.config.get("export_dir")
    lead_scores = dbt.ref("lead_scores")
    lead_score_history = dbt.ref("lead_score_history")
    lead_tier_summary = dbt.ref("lead_tier_summary")
    score_thresholds = dbt.ref("score_thresholds")
    score_changes = dbt.ref("score_changes")
    model_comparison = dbt.ref("model_comparison")
    scoring_runs = dbt.ref("scoring_runs")
    score_distribution = dbt.ref("score_distribution")
    model_performance = dbt.ref("model_performance")
    data_quality = dbt.ref("data_quality")
    data_quality_scores = dbt.ref("data_quality_scores")
    retrain_recommendation = dbt.ref("retrain_recommendation")
    feature_drift = dbt.ref("feature_drift")
    lead_segments = dbt.ref("lead_segments")
    segment_profiles = dbt.ref("segment_profiles")
    model_curves = dbt.ref("model_curves")
    holdout_predictions = dbt.ref("holdout_predictions")
    as_of_resolved = dbt.ref("int_as_of_resolved")
    as_of = resolved_as_of(as_of_resolved)

    sources = {
        "lead_scores": lead_scores,
        "lead_score_history": lead_score_history,
        "lead_tier_summary": lead_tier_summary,
        "score_thresholds": score_thresholds,
        "score_changes": score_changes,
        "model_comparison": model_comparison,
        "scoring_runs": scoring_runs,
        "score_distribution": score_distribution,
        "model_performance": model_performance,
        "data_quality": data_quality,
        "data_quality_scores": data_quality_scores,
        "retrain_recommendation": retrain_recommendation,
        "feature_drift": feature_drift,
        "lead_segments": lead_segments,
        "segment_profiles": segment_profiles,
        "model_curves": model_curves,
        "holdout_predictions": holdout_predictions,
    }
    specs = [
        ExportSpec(name, partition_by="as_of" if name == "lead_score_history" else None)
        for name in sources
    ]
    return export_tables(session, sources, specs, Path(folder), rewrite_partitions=[as_of])
