"""Which dbt nodes the benchmark groups: the feature layer and the daily run's exclusions."""

FEATURE_LAYER = (
    "int_as_of_resolved",
    "int_lead_outcomes",
    "int_leads_enriched",
    "int_domain_wins_accumulated",
    "lead_features",
)
# What `dbt build --selector daily` leaves out (selectors.yml): the training path, read as the
# last full build left it. Checked against selectors.yml when the daily step runs.
TRAINING_PATH = (
    "int_snapshot_spine",
    "int_activities_accumulated",
    "training_snapshots",
    "training_rule_scores",
    "model_registry",
    "model_comparison",
    "model_cards",
    "model_curves",
    "holdout_predictions",
    "score_thresholds",
)
