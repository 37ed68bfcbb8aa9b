"""The Arrow schemas of the segmentation tables the dbt Python models return
(segment_centroids, segment_model_selection, lead_clusters, segment_profiles), and the
naive ``as_of`` timestamp they store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pyarrow as pa

SELECTION_SCHEMA = pa.schema(
    [
        ("as_of", pa.timestamp("us")),
        ("k", pa.int64()),
        ("inertia", pa.float64()),
        ("silhouette", pa.float64()),
        ("is_chosen", pa.bool_()),
        ("is_warm_started", pa.bool_()),
        ("chosen_reason", pa.string()),
        ("note", pa.string()),
        ("n_fit_rows", pa.int64()),
        ("n_silhouette_rows", pa.int64()),
        ("features", pa.string()),
    ]
)
CENTROID_SCHEMA = pa.schema(
    [
        ("as_of", pa.timestamp("us")),
        ("cluster_id", pa.int64()),
        ("cluster_name", pa.string()),
        ("k", pa.int64()),
        ("n_sample_members", pa.int64()),
        ("sample_share", pa.float64()),
        ("inertia", pa.float64()),
        ("is_warm_started", pa.bool_()),
        ("previous_as_of", pa.timestamp("us")),
        ("previous_distance", pa.float64()),
        ("is_new_cluster", pa.bool_()),
        ("distinguishing_features", pa.string()),
        ("centroid_json", pa.string()),
        ("centroid_z_json", pa.string()),
        ("scaler_json", pa.string()),
        ("selection_json", pa.string()),
    ]
)
ASSIGNMENT_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("as_of", pa.timestamp("us")),
        ("cluster_id", pa.int64()),
        ("distance_to_centroid", pa.float64()),
        ("is_outlier", pa.bool_()),
    ]
)


def profile_schema(features: Sequence[str]) -> pa.Schema:
    """segment_profiles: the fixed columns, then ``avg_<feature>`` per clustering feature."""
    return pa.schema(
        [
            ("as_of", pa.timestamp("us")),
            ("cluster_id", pa.int64()),
            ("cluster_name", pa.string()),
            ("n_leads", pa.int64()),
            ("share_of_leads", pa.float64()),
            ("n_outliers", pa.int64()),
            ("n_matured_snapshots", pa.int64()),
            ("n_converted", pa.int64()),
            ("conversion_rate", pa.float64()),
            ("conversion_rate_low", pa.float64()),
            ("conversion_rate_high", pa.float64()),
            ("conversion_lift", pa.float64()),
            ("distinguishing_features", pa.string()),
            *[(f"avg_{f}", pa.float64()) for f in features],
        ]
    )


def naive(ts: datetime) -> datetime:
    """``ts`` without its time zone: the tables store as_of as a naive timestamp."""
    return ts.replace(tzinfo=None) if ts.tzinfo else ts
