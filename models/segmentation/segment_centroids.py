"""segment_centroids: the K-Means model of every run, one row per (as_of, cluster_id), never
deleted; ids stay stable across runs (leadscore.segmentation.fit)."""

from leadscore.segmentation.runs import centroids_of_run


def model(dbt, session):
    history = session.sql(f"select * from {dbt.this}") if dbt.is_incremental else None
    params = dbt.ref("int_as_of_resolved")
    features = dbt.ref("lead_features")
    name_terms = dbt.ref("segment_name_terms")
    settings = dbt.config.get("leadscore_vars")
    return centroids_of_run(params, features, name_terms, history, settings)
