"""Stable cluster ids for segment_centroids: the previous run, its centroids mapped into this
run's scaled space, and a Hungarian matching to today's centroids. Why and the rules:
DECISIONS.md, "Cluster ids are stable across runs"; the details: docs/segments.md.

The scaler is refitted on every run (it follows the population); centroids are stored in
transformed units (signed log1p, before standardization), so the previous run's are
standardized with today's scaler before they are compared. The match radius is a share of
the distance from an old centroid to its nearest other old centroid (inside the old
cluster's territory), a rule that does not depend on the number of features."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa
from scipy.optimize import linear_sum_assignment

from leadscore.segmentation.scaling import FeatureScaler


def match_cluster_ids(
    new_centers: np.ndarray,
    old_centers: np.ndarray,
    old_ids: Sequence[int],
    next_id: int,
    radius: float,
) -> tuple[list[int], list[float | None]]:
    """Ids for ``new_centers`` (rows, in the order new ids should be handed out): a minimum
    total distance one-to-one matching (Hungarian) with ``old_centers``. A pair only counts
    when the new center lies within ``radius`` x the distance from the old center to its
    nearest other old center (inside the old cluster's territory, whatever the number of
    features or their spread). Unmatched new centers get ``next_id``, ``next_id + 1``, ...
    Returns the ids and each center's distance to its matched old one (None for a new id)."""
    k = len(new_centers)
    ids: list[int | None] = [None] * k
    distances: list[float | None] = [None] * k
    if len(old_centers) and k:
        cost = np.linalg.norm(new_centers[:, None, :] - old_centers[None, :, :], axis=2)
        limit = np.full(len(old_centers), np.inf)
        if len(old_centers) > 1:
            between = np.linalg.norm(old_centers[:, None, :] - old_centers[None, :, :], axis=2)
            np.fill_diagonal(between, np.inf)
            limit = radius * between.min(axis=1)
        rows, cols = linear_sum_assignment(cost)
        for r, c in zip(rows, cols, strict=True):
            if cost[r, c] <= limit[c]:
                ids[r] = int(old_ids[c])
                distances[r] = float(cost[r, c])
    for i in range(k):
        if ids[i] is None:
            ids[i] = next_id
            next_id += 1
    return [int(i) for i in ids if i is not None], distances


@dataclass(frozen=True)
class PreviousRun:
    """The segment_centroids rows of the run this one's ids are matched against."""

    as_of: datetime
    ids: list[int]
    features: tuple[str, ...]
    centers: np.ndarray  # transformed units, one row per id
    next_id: int  # one more than the largest id ever used


def previous_run(history: pa.Table | None, as_of: datetime) -> PreviousRun | None:
    """The run ids are matched against: the latest before ``as_of``, else the earliest after
    it (a backfill that runs an older date last). Rows of ``as_of`` itself are ignored, so a
    rerun reproduces its first result."""
    if history is None or history.num_rows == 0:
        return None
    rows = [
        r
        for r in history.select(["as_of", "cluster_id", "centroid_json"]).to_pylist()
        if r["as_of"] != as_of
    ]
    if not rows:
        return None
    dates = sorted({r["as_of"] for r in rows})
    before = [d for d in dates if d < as_of]
    chosen = before[-1] if before else dates[0]
    run = sorted((r for r in rows if r["as_of"] == chosen), key=lambda r: r["cluster_id"])
    centroids = [json.loads(r["centroid_json"]) for r in run]
    features = tuple(centroids[0])
    centers = np.array([[c[f] for f in features] for c in centroids], dtype=np.float64)
    next_id = max(int(r["cluster_id"]) for r in rows) + 1
    return PreviousRun(chosen, [int(r["cluster_id"]) for r in run], features, centers, next_id)


def previous_in_scaled_space(
    previous: PreviousRun | None, scaler: FeatureScaler
) -> tuple[list[int], np.ndarray]:
    """The columns of ``scaler.features`` the previous run also clustered on, and the
    previous centroids on them, standardized with this run's scaler (no columns and no
    centroids without a previous run)."""
    if previous is None:
        return [], np.empty((0, 0))
    common = [j for j, f in enumerate(scaler.features) if f in previous.features]
    old_cols = [previous.features.index(scaler.features[j]) for j in common]
    mean = np.asarray(scaler.mean)[common]
    scale = np.asarray(scaler.scale)[common]
    return common, (previous.centers[:, old_cols] - mean) / scale


def warm_start(common: Sequence[int], old_z: np.ndarray, n_features: int) -> np.ndarray | None:
    """The previous centroids as K-Means starting points: only when the previous run used
    the same features and its centroids are distinct (K-Means needs distinct starts)."""
    same_space = len(common) == n_features
    return old_z if same_space and len(np.unique(old_z, axis=0)) == len(old_z) else None


def cluster_ids(
    centers_z: np.ndarray,
    previous: PreviousRun | None,
    common: Sequence[int],
    old_z: np.ndarray,
    radius: float,
) -> tuple[list[int], list[float | None]]:
    """Ids of this run's centroids (rows in the order new ids are handed out) and their
    distances to the matched previous centroid: :func:`match_cluster_ids` on the features
    both runs share; without a previous run (or a shared feature), fresh ids from one above
    the largest ever used (1 on the first run)."""
    k = len(centers_z)
    if previous is not None and common:
        return match_cluster_ids(
            centers_z[:, list(common)], old_z, previous.ids, previous.next_id, radius
        )
    start = previous.next_id if previous is not None else 1
    return list(range(start, start + k)), [None] * k
