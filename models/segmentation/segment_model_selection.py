"""segment_model_selection: the elbow and silhouette curve of the K-Means k search of every
run, one row per (as_of, k), with the chosen k. The search runs in segment_centroids (it
fits every k once); this model expands the curve each run stored there.
leadscore.segmentation.runs.model_selection holds the logic."""

from leadscore.segmentation.runs import model_selection


def model(dbt, session):
    dbt.config(materialized="table")
    centroids = dbt.ref("segment_centroids")
    return model_selection(centroids.select("as_of, selection_json").to_arrow_table())
