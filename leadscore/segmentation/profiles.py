"""segment_profiles: per cluster of this as_of its size, outliers, feature means, name and
conversion rate (the dbt model calls it through
``leadscore.segmentation.runs.profiles_of_run``).

Today's members have not matured yet, so a cluster's conversion rate is that of the matured
training snapshots assigned to today's centroids with today's scaler: "leads that looked like
this converted at this rate" (docs/segments.md, "Conversion rate")."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.segmentation.assign import Segmenter
from leadscore.segmentation.config import SegmentationConfig
from leadscore.segmentation.scaling import raw_matrix
from leadscore.segmentation.schemas import naive, profile_schema

WILSON_Z = 1.96  # 95 % interval of a conversion rate


def wilson_interval(
    successes: int, n: int, z: float = WILSON_Z
) -> tuple[float | None, float | None]:
    """95 % Wilson score interval of a rate (None, None without trials)."""
    if n == 0:
        return None, None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # exact bounds at the edges (the formula leaves rounding dust like 1e-18 there)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def build_profiles(
    members: pa.Table,
    centroids: pa.Table,
    matured_snapshots: pa.Table,
    as_of: datetime,
    config: SegmentationConfig,
) -> pa.Table:
    """segment_profiles: one row per cluster of this as_of. ``members`` is lead_clusters
    joined to lead_features (cluster_id, is_outlier and the clustering features of every open
    lead); ``matured_snapshots`` are matured training snapshots (the features and
    is_converted), assigned here to the same centroids for the conversion rate."""
    as_of = naive(as_of)
    segmenter = Segmenter.from_rows(centroids, as_of)
    feature_names = list(config.features if segmenter is None else segmenter.scaler.features)
    schema = profile_schema(feature_names)
    if segmenter is None:
        return schema.empty_table()
    member = pc.fill_null(members.column("cluster_id"), -1).to_numpy(zero_copy_only=False)
    raw = raw_matrix(members, feature_names, "lead_features")
    flags = _outlier_flags(members)
    snap_ids, converted = snapshot_conversions(segmenter, matured_snapshots)
    overall = float(converted.mean()) if len(converted) else None
    n_total = int((member >= 0).sum())
    rows = []
    for cluster_id in segmenter.ids.tolist():
        in_cluster = member == cluster_id
        row: dict[str, Any] = {
            "as_of": as_of,
            "cluster_id": cluster_id,
            "cluster_name": segmenter.names[cluster_id],
            "n_leads": int(in_cluster.sum()),
            "share_of_leads": float(in_cluster.sum() / n_total) if n_total else None,
            "n_outliers": None if flags is None else int(flags[in_cluster].sum()),
            **_conversion(converted[snap_ids == cluster_id], overall),
            "distinguishing_features": segmenter.distinguishing[cluster_id],
        }
        for j, feature in enumerate(feature_names):
            values = raw[in_cluster, j]
            values = values[~np.isnan(values)]
            row[f"avg_{feature}"] = float(values.mean()) if values.size else None
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=schema)


def _outlier_flags(members: pa.Table) -> np.ndarray | None:
    """is_outlier of every member, None when it is NULL throughout (outliers are off)."""
    outliers = members.column("is_outlier")
    if not members.num_rows or outliers.null_count == members.num_rows:
        return None
    return pc.fill_null(outliers, False).to_numpy(zero_copy_only=False).astype(bool)


def snapshot_conversions(
    segmenter: Segmenter, matured_snapshots: pa.Table
) -> tuple[np.ndarray, np.ndarray]:
    """The cluster id of every matured snapshot on this run's centroids, and whether it
    converted (NULL = not converted)."""
    if not matured_snapshots.num_rows:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=bool)
    snap_ids, _, _ = segmenter.assign(matured_snapshots, "training_snapshots")
    converted = (
        pc.fill_null(pc.cast(matured_snapshots.column("is_converted"), pa.bool_()), False)
        .to_numpy(zero_copy_only=False)
        .astype(bool)
    )
    return snap_ids, converted


def _conversion(converted: np.ndarray, overall: float | None) -> dict[str, Any]:
    """The conversion columns of one cluster from its snapshots' outcomes."""
    n_snaps, n_conv = len(converted), int(converted.sum())
    rate = n_conv / n_snaps if n_snaps else None
    low, high = wilson_interval(n_conv, n_snaps)
    return {
        "n_matured_snapshots": n_snaps,
        "n_converted": n_conv,
        "conversion_rate": rate,
        "conversion_rate_low": low,
        "conversion_rate_high": high,
        "conversion_lift": rate / overall if rate is not None and overall else None,
    }
