"""The K-Means model of one run, as the segment_centroids rows of its as_of: the scaler fitted
on the fit sample, the k search, ids matched to the previous run, names (the dbt model calls
it through ``leadscore.segmentation.runs.centroids_of_run``).

Fit on a sample, assign all: the sample is the first ``segment_sample_rows`` leads in
``hash(lead_id)`` order (drawn by DuckDB: deterministic, and a lead that stays open stays in
the sample on the next day); ``leadscore.segmentation.assign`` then assigns every lead."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
from sklearn.cluster import KMeans

from leadscore.segmentation.choosing_k import (
    KCandidate,
    choose_k,
    evaluate_k_range,
    selection_json,
)
from leadscore.segmentation.config import SegmentationConfig
from leadscore.segmentation.naming import (
    NameTerm,
    cluster_names,
    contrast_with_rest,
    distinguishing_features,
)
from leadscore.segmentation.scaling import FeatureScaler
from leadscore.segmentation.schemas import CENTROID_SCHEMA, naive
from leadscore.segmentation.stable_ids import (
    PreviousRun,
    cluster_ids,
    previous_in_scaled_space,
    previous_run,
    warm_start,
)


@dataclass(frozen=True)
class Clusters:
    """The chosen fit's clusters in id order of hand-out (largest first), with their ids."""

    ids: list[int]
    distances: list[float | None]  # to the matched previous centroid; None = a new id
    centers_z: np.ndarray
    sizes: np.ndarray
    shares: np.ndarray
    contrast: np.ndarray  # centroid minus the other leads' mean, in sd


def fit_segments(
    sample: pa.Table,
    history: pa.Table | None,
    name_terms: Sequence[Mapping[str, Any]],
    as_of: datetime,
    config: SegmentationConfig,
    source: str = "lead_features",
) -> pa.Table:
    """segment_centroids rows of this as_of: the k search on the fit sample (the previous
    k also warm-started from the previous run's centroids), the chosen fit, ids matched to
    the previous run, names, and the search curve (``selection_json``, expanded by
    ``leadscore.segmentation.runs.model_selection``). No rows when no k can be scored (no
    or too few open leads)."""
    as_of = naive(as_of)
    scaler = FeatureScaler.fit(sample, config.features, source)
    z = scaler.scaled(sample, source)
    previous = None if config.reset_ids else previous_run(history, as_of)
    common, old_z = previous_in_scaled_space(previous, scaler)
    candidates = evaluate_k_range(z, config, warm_start(common, old_z, len(scaler.features)))
    previous_k = len(previous.ids) if previous is not None else None
    k, reason = choose_k(candidates, previous_k, config.k_tolerance)
    if k is None:
        return CENTROID_SCHEMA.empty_table()
    chosen = next(c for c in candidates if c.k == k)
    assert chosen.model is not None
    centers_z, sizes = by_size(chosen.model)
    ids, distances = cluster_ids(centers_z, previous, common, old_z, config.match_radius)
    shares = sizes / max(1, len(z))
    clusters = Clusters(
        ids, distances, centers_z, sizes, shares, contrast_with_rest(centers_z, shares)
    )
    selection = selection_json(candidates, k, reason, len(z), config)
    return _centroid_table(as_of, chosen, clusters, previous, scaler, name_terms, config, selection)


def by_size(fitted: KMeans) -> tuple[np.ndarray, np.ndarray]:
    """The fit's centroids (scaled) and sample sizes, largest cluster first (new ids go to
    big clusters first)."""
    k = len(fitted.cluster_centers_)
    sizes = np.bincount(fitted.labels_, minlength=k)
    order = sorted(range(k), key=lambda i: (-sizes[i], i))
    return fitted.cluster_centers_[order], sizes[order]


def _centroid_table(
    as_of: datetime,
    chosen: KCandidate,
    clusters: Clusters,
    previous: PreviousRun | None,
    scaler: FeatureScaler,
    name_terms: Sequence[Mapping[str, Any]],
    config: SegmentationConfig,
    selection: str,
) -> pa.Table:
    """One segment_centroids row per cluster, in cluster_id order."""
    assert chosen.model is not None
    features = config.features
    names = cluster_names(
        clusters.contrast,
        clusters.ids,
        features,
        scaler.constant,
        NameTerm.from_rows(name_terms),
        config.name_z_threshold,
        config.name_max_terms,
    )
    centers_x = clusters.centers_z * np.asarray(scaler.scale) + np.asarray(scaler.mean)
    scaler_json = scaler.to_json()
    rows = [
        {
            "as_of": as_of,
            "cluster_id": clusters.ids[i],
            "cluster_name": names[i],
            "k": chosen.k,
            "n_sample_members": int(clusters.sizes[i]),
            "sample_share": float(clusters.shares[i]),
            "inertia": float(chosen.model.inertia_),
            "is_warm_started": chosen.is_warm_started,
            "previous_as_of": previous.as_of if previous is not None else None,
            "previous_distance": clusters.distances[i],
            "is_new_cluster": clusters.distances[i] is None,
            "distinguishing_features": distinguishing_features(
                clusters.contrast[i], features, config.name_z_threshold
            ),
            "centroid_json": json.dumps(dict(zip(features, centers_x[i].tolist(), strict=True))),
            "centroid_z_json": json.dumps(
                dict(zip(features, clusters.centers_z[i].tolist(), strict=True))
            ),
            "scaler_json": scaler_json,
            "selection_json": selection,
        }
        for i in range(chosen.k)
    ]
    rows.sort(key=lambda r: r["cluster_id"])
    return pa.Table.from_pylist(rows, schema=CENTROID_SCHEMA)
