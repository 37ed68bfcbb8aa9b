"""lead_clusters: every open lead assigned to the nearest centroid of this as_of's
segment_centroids (fit on a sample, assign all), with the DBSCAN outlier flag when
segment_outlier_method is dbscan. leadscore.segmentation.assign_leads holds the logic."""

from leadscore.dbt_inputs import resolved_as_of
from leadscore.segmentation import SegmentationConfig, assign_leads


def model(dbt, session):
    dbt.config(materialized="table")
    config = SegmentationConfig.from_vars(dbt.config.get("leadscore_vars"))
    params = dbt.ref("int_as_of_resolved")
    features = dbt.ref("lead_features")
    centroids = dbt.ref("segment_centroids")
    as_of = resolved_as_of(params)
    selected = features.select(", ".join(config.input_columns(features.columns, "lead_features")))

    def outlier_sample(n_rows):
        # the same hash order as the fit sample, so DBSCAN sees the fit sample's first rows
        return selected.order("hash(lead_id)").limit(n_rows).to_arrow_table()

    return assign_leads(
        selected.to_arrow_table(),
        centroids.filter(f"as_of = '{as_of}'").to_arrow_table(),
        as_of,
        config,
        outlier_sample,
    )
