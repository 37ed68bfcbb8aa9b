"""Assign all: every open lead to its nearest centroid of this as_of, with the DBSCAN outlier
flag when it is on, as lead_clusters (the dbt model calls it through
``leadscore.segmentation.runs.clusters_of_run``). :class:`Segmenter` rebuilds a run's model
from its segment_centroids rows; segment_profiles assigns matured snapshots with it too.

The assignment is a nearest-centroid pass in blocks of ``ASSIGN_CHUNK_ROWS`` rows: linear in
the number of leads, memory bounded by a block times k."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.segmentation.config import ASSIGN_CHUNK_ROWS, SegmentationConfig
from leadscore.segmentation.outliers import dbscan_outliers
from leadscore.segmentation.scaling import FeatureScaler
from leadscore.segmentation.schemas import ASSIGNMENT_SCHEMA, naive


@dataclass(frozen=True)
class Segmenter:
    """The fitted segmentation of one as_of, rebuilt from its segment_centroids rows."""

    scaler: FeatureScaler
    ids: np.ndarray
    centers_z: np.ndarray
    names: dict[int, str]
    distinguishing: dict[int, str]

    @classmethod
    def from_rows(cls, centroids: pa.Table, as_of: datetime) -> Segmenter | None:
        as_of = naive(as_of)
        rows = [r for r in centroids.to_pylist() if r["as_of"] == as_of]
        if not rows:
            return None
        rows.sort(key=lambda r: r["cluster_id"])
        scaler = FeatureScaler.from_json(rows[0]["scaler_json"])
        centers = np.array(
            [[json.loads(r["centroid_json"])[f] for f in scaler.features] for r in rows]
        )
        return cls(
            scaler,
            np.array([int(r["cluster_id"]) for r in rows]),
            scaler.standardize(centers),
            {int(r["cluster_id"]): r["cluster_name"] for r in rows},
            {int(r["cluster_id"]): r["distinguishing_features"] for r in rows},
        )

    def assign(self, table: pa.Table, source: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(cluster ids, distances to the centroid, standardized features) of every row."""
        z = self.scaler.scaled(table, source)
        return (*nearest_centroid(z, self.centers_z, self.ids), z)


def nearest_centroid(
    z: np.ndarray, centers_z: np.ndarray, ids: np.ndarray, chunk_rows: int = ASSIGN_CHUNK_ROWS
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid id and Euclidean distance of every row, in chunks (memory stays
    chunk_rows x k)."""
    labels = np.empty(len(z), dtype=np.int64)
    dist = np.empty(len(z), dtype=np.float64)
    sq_centers = (centers_z**2).sum(axis=1)
    for start in range(0, len(z), chunk_rows):
        block = z[start : start + chunk_rows]
        d2 = (block**2).sum(axis=1)[:, None] - 2 * block @ centers_z.T + sq_centers[None, :]
        best = d2.argmin(axis=1)
        labels[start : start + len(block)] = ids[best]
        dist[start : start + len(block)] = np.sqrt(np.maximum(d2[np.arange(len(block)), best], 0))
    return labels, dist


def assign_leads(
    features: pa.Table,
    centroids: pa.Table,
    as_of: datetime,
    config: SegmentationConfig,
    load_outlier_sample: Callable[[int], pa.Table] | None = None,
    source: str = "lead_features",
) -> pa.Table:
    """lead_clusters: every open lead with its nearest centroid of this as_of, the distance,
    and the DBSCAN outlier flag (NULL when segment_outlier_method is none)."""
    as_of = naive(as_of)
    segmenter = Segmenter.from_rows(centroids, as_of)
    if segmenter is None or features.num_rows == 0:
        return ASSIGNMENT_SCHEMA.empty_table()
    labels, dist, z = segmenter.assign(features, source)
    outlier: pa.Array = pa.nulls(len(z), pa.bool_())
    if config.outlier_method == "dbscan":
        sample = (
            load_outlier_sample(config.dbscan_sample_rows)
            if load_outlier_sample is not None
            else features.slice(0, config.dbscan_sample_rows)
        )
        flags, _ = dbscan_outliers(segmenter.scaler.scaled(sample, source), z, config)
        outlier = pa.array(flags)
    return pa.table(
        {
            "lead_id": pc.cast(features.column("lead_id"), pa.string()),
            "as_of": pa.array([as_of] * len(z), pa.timestamp("us")),
            "cluster_id": pa.array(labels, pa.int64()),
            "distance_to_centroid": pa.array(dist, pa.float64()),
            "is_outlier": outlier,
        },
        schema=ASSIGNMENT_SCHEMA,
    )
