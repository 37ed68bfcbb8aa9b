"""The K-Means model of one run, as the segment_centroids rows of its as_of: the scaler fitted
on the fit sample, the k search, ids matched to the previous run, names (the dbt model calls
it through ``leadscore.segmentation.runs.centroids_of_run``).

Fit on a sample, assign all: the sample is the first ``segment_sample_rows`` leads in
``hash(lead_id)`` order (drawn by DuckDB: deterministic, and a lead that stays open stays in
the sample on the next day); ``leadscore.segmentation.assign`` then assigns every lead."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from leadscore.segmentation.choosing_k import choose_k, evaluate_k_range
from leadscore.segmentation.config import SegmentationConfig
from leadscore.segmentation.naming import (
    NameTerm,
    cluster_names,
    contrast_with_rest,
    distinguishing_features,
)
from leadscore.segmentation.scaling import FeatureScaler
from leadscore.segmentation.schemas import CENTROID_SCHEMA, naive
from leadscore.segmentation.stable_ids import match_cluster_ids, previous_run


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
    common: list[int] = []
    old_z = np.empty((0, 0))
    if previous is not None:
        common = [j for j, f in enumerate(config.features) if f in previous.features]
        old_cols = [previous.features.index(config.features[j]) for j in common]
        mean = np.asarray(scaler.mean)[common]
        scale = np.asarray(scaler.scale)[common]
        old_z = (previous.centers[:, old_cols] - mean) / scale
    same_space = previous is not None and len(common) == len(config.features)
    warm_init = old_z if same_space and len(np.unique(old_z, axis=0)) == len(old_z) else None
    candidates = evaluate_k_range(z, config, warm_init)
    k, reason = choose_k(
        candidates, len(previous.ids) if previous is not None else None, config.k_tolerance
    )
    if k is None:
        return CENTROID_SCHEMA.empty_table()
    chosen = next(c for c in candidates if c.k == k)
    fitted = chosen.model
    assert fitted is not None
    centers_z = fitted.cluster_centers_
    sizes = np.bincount(fitted.labels_, minlength=k)
    order = sorted(range(k), key=lambda i: (-sizes[i], i))  # new ids go to big clusters first
    centers_z, sizes = centers_z[order], sizes[order]
    if previous is not None and common:
        ids, distances = match_cluster_ids(
            centers_z[:, common], old_z, previous.ids, previous.next_id, config.match_radius
        )
    else:
        start = previous.next_id if previous is not None else 1
        ids, distances = list(range(start, start + k)), [None] * k
    centers_x = centers_z * np.asarray(scaler.scale) + np.asarray(scaler.mean)
    shares = sizes / max(1, len(z))
    contrast = contrast_with_rest(centers_z, shares)
    names = cluster_names(
        contrast,
        ids,
        config.features,
        scaler.constant,
        NameTerm.from_rows(name_terms),
        config.name_z_threshold,
        config.name_max_terms,
    )
    selection_json = json.dumps(
        {
            "chosen_k": k,
            "reason": reason,
            "n_fit_rows": len(z),
            "n_silhouette_rows": min(len(z), config.silhouette_rows),
            "features": list(config.features),
            "candidates": [
                {
                    "k": c.k,
                    "inertia": c.inertia,
                    "silhouette": c.silhouette,
                    "is_warm_started": c.is_warm_started,
                    "note": c.note,
                }
                for c in candidates
            ],
        }
    )
    scaler_json = scaler.to_json()
    rows = [
        {
            "as_of": as_of,
            "cluster_id": ids[i],
            "cluster_name": names[i],
            "k": k,
            "n_sample_members": int(sizes[i]),
            "sample_share": float(shares[i]),
            "inertia": float(fitted.inertia_),
            "is_warm_started": chosen.is_warm_started,
            "previous_as_of": previous.as_of if previous is not None else None,
            "previous_distance": distances[i],
            "is_new_cluster": distances[i] is None,
            "distinguishing_features": distinguishing_features(
                contrast[i], config.features, config.name_z_threshold
            ),
            "centroid_json": json.dumps(
                dict(zip(config.features, centers_x[i].tolist(), strict=True))
            ),
            "centroid_z_json": json.dumps(
                dict(zip(config.features, centers_z[i].tolist(), strict=True))
            ),
            "scaler_json": scaler_json,
            "selection_json": selection_json,
        }
        for i in range(k)
    ]
    rows.sort(key=lambda r: r["cluster_id"])
    return pa.Table.from_pylist(rows, schema=CENTROID_SCHEMA)
