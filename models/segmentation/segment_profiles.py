"""segment_profiles: one row per cluster of this as_of: size, feature means, the conversion
rate of matured training snapshots assigned to the same centroids, and the generated name.
leadscore.segmentation.build_profiles holds the logic."""

from leadscore.dbt_inputs import resolved_as_of
from leadscore.segmentation import SegmentationConfig, build_profiles


def model(dbt, session):
    dbt.config(materialized="table")
    config = SegmentationConfig.from_vars(dbt.config.get("leadscore_vars"))
    params = dbt.ref("int_as_of_resolved")
    features = dbt.ref("lead_features")
    clusters = dbt.ref("lead_clusters")
    centroids = dbt.ref("segment_centroids")
    snapshots = dbt.ref("training_snapshots")
    as_of = resolved_as_of(params)
    columns = config.input_columns(features.columns, "lead_features")
    members = (
        clusters.set_alias("c")
        .join(features.set_alias("f"), "c.lead_id = f.lead_id")
        .select(", ".join(["c.cluster_id", "c.is_outlier", *[f"f.{c}" for c in columns]]))
    )
    # a deterministic hash sample of the matured snapshots keeps memory bounded at scale
    matured = (
        snapshots.filter("is_matured")
        .order("hash(lead_id, snapshot_at)")
        .limit(config.profile_snapshot_rows)
        .select(
            ", ".join(
                [*config.input_columns(snapshots.columns, "training_snapshots"), "is_converted"]
            )
        )
    )
    return build_profiles(
        members.to_arrow_table(),
        centroids.filter(f"as_of = '{as_of}'").to_arrow_table(),
        matured.to_arrow_table(),
        as_of,
        config,
    )
