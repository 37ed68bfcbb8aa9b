"""segment_profiles: one row per cluster of this as_of: size, feature means, conversion rate
of matured snapshots on the same centroids, name (leadscore.segmentation.profiles)."""

from leadscore.segmentation.runs import profiles_of_run


def model(dbt, session):
    dbt.config(materialized="table")
    params = dbt.ref("int_as_of_resolved")
    features = dbt.ref("lead_features")
    clusters = dbt.ref("lead_clusters")
    centroids = dbt.ref("segment_centroids")
    snapshots = dbt.ref("training_snapshots")
    settings = dbt.config.get("leadscore_vars")
    return profiles_of_run(params, features, clusters, centroids, snapshots, settings)
