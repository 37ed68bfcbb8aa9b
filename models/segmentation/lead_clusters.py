"""lead_clusters: every open lead assigned to the nearest centroid of this as_of, with the
DBSCAN outlier flag when segment_outlier_method is dbscan (leadscore.segmentation.assign)."""

from leadscore.segmentation.runs import clusters_of_run


def model(dbt, session):
    dbt.config(materialized="table")
    params = dbt.ref("int_as_of_resolved")
    features = dbt.ref("lead_features")
    centroids = dbt.ref("segment_centroids")
    return clusters_of_run(params, features, centroids, dbt.config.get("leadscore_vars"))
