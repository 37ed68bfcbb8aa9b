"""segment_centroids: the K-Means model of every run, one row per (as_of, cluster_id), never
deleted (incremental on as_of, full_refresh disabled): the k search, the fit on a hash sample
of the open leads, ids matched to the previous run's centroids so they stay stable, names.
leadscore.segmentation.fit_segments holds the logic."""

from leadscore.dbt_inputs import resolved_as_of
from leadscore.segmentation import SegmentationConfig, fit_segments


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        unique_key="as_of",
        incremental_strategy="delete+insert",
        full_refresh=False,
    )
    config = SegmentationConfig.from_vars(dbt.config.get("leadscore_vars"))
    params = dbt.ref("int_as_of_resolved")
    features = dbt.ref("lead_features")
    name_terms = dbt.ref("segment_name_terms")
    history = None
    if dbt.is_incremental:
        history = session.sql(f"select * from {dbt.this}").to_arrow_table()
    as_of = resolved_as_of(params)
    columns = config.input_columns(features.columns, "lead_features")
    sample = features.select(", ".join(columns)).order("hash(lead_id)").limit(config.sample_rows)
    return fit_segments(
        sample.to_arrow_table(),
        history,
        name_terms.to_arrow_table().to_pylist(),
        as_of,
        config,
    )
