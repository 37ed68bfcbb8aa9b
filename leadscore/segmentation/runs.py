"""What the dbt Python models in ``models/segmentation`` call: the relations of their refs
in, a table out. One function per model:

- ``segment_centroids`` → :func:`centroids_of_run` (``leadscore.segmentation.fit``)
- ``segment_model_selection`` → :func:`model_selection`: the k search of every run, one row
  per (as_of, k), expanded from the centroids' ``selection_json`` (nothing is fitted twice)
- ``lead_clusters`` → :func:`clusters_of_run` (``leadscore.segmentation.assign``)
- ``segment_profiles`` → :func:`profiles_of_run` (``leadscore.segmentation.profiles``)

The samples are drawn here, in DuckDB, in a deterministic hash order: the fit sample
(``segment_sample_rows`` leads by ``hash(lead_id)``; the DBSCAN sample is its first rows) and
at most ``segment_profile_snapshot_rows`` matured snapshots for the conversion rates."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pyarrow as pa

from leadscore import sql
from leadscore.dbt_inputs import resolved_as_of
from leadscore.segmentation.assign import assign_leads
from leadscore.segmentation.config import SegmentationConfig
from leadscore.segmentation.fit import fit_segments
from leadscore.segmentation.profiles import build_profiles
from leadscore.segmentation.schemas import SELECTION_SCHEMA, naive


def _run_centroids(centroids: Any, as_of: datetime) -> pa.Table:
    return centroids.filter(f"as_of = {sql.literal(naive(as_of))}").to_arrow_table()


def centroids_of_run(
    params: Any, features: Any, name_terms: Any, history: Any, settings: Mapping[str, Any]
) -> pa.Table:
    """segment_centroids: fit_segments on a hash sample of lead_features (``history``: the
    earlier runs' centroids, None on the first run)."""
    config = SegmentationConfig.from_vars(settings)
    columns = config.input_columns(features.columns, "lead_features")
    sample = features.select(", ".join(columns)).order("hash(lead_id)").limit(config.sample_rows)
    return fit_segments(
        sample.to_arrow_table(),
        None if history is None else history.to_arrow_table(),
        name_terms.to_arrow_table().to_pylist(),
        resolved_as_of(params),
        config,
    )


def clusters_of_run(
    params: Any, features: Any, centroids: Any, settings: Mapping[str, Any]
) -> pa.Table:
    """lead_clusters: assign_leads of every open lead to this run's centroids; DBSCAN, when
    on, reads the fit sample's hash order so it sees the fit sample's first rows."""
    config = SegmentationConfig.from_vars(settings)
    as_of = resolved_as_of(params)
    selected = features.select(", ".join(config.input_columns(features.columns, "lead_features")))

    def outlier_sample(n_rows: int) -> pa.Table:
        return selected.order("hash(lead_id)").limit(n_rows).to_arrow_table()

    return assign_leads(
        selected.to_arrow_table(), _run_centroids(centroids, as_of), as_of, config, outlier_sample
    )


def profiles_of_run(
    params: Any,
    features: Any,
    clusters: Any,
    centroids: Any,
    snapshots: Any,
    settings: Mapping[str, Any],
) -> pa.Table:
    """segment_profiles: build_profiles of this run's clusters, with a deterministic hash
    sample of the matured training snapshots (memory stays bounded at scale)."""
    config = SegmentationConfig.from_vars(settings)
    as_of = resolved_as_of(params)
    columns = config.input_columns(features.columns, "lead_features")
    members = (
        clusters.set_alias("c")
        .join(features.set_alias("f"), "c.lead_id = f.lead_id")
        .select(", ".join(["c.cluster_id", "c.is_outlier", *[f"f.{c}" for c in columns]]))
    )
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
        _run_centroids(centroids, as_of),
        matured.to_arrow_table(),
        as_of,
        config,
    )


def model_selection(centroids: pa.Table) -> pa.Table:
    """segment_model_selection: the k search of every run in segment_centroids, one row per
    (as_of, k) (expanded from ``selection_json``, written by
    ``leadscore.segmentation.choosing_k.selection_json``)."""
    runs: dict[datetime, str] = {}
    for row in centroids.select(["as_of", "selection_json"]).to_pylist():
        runs.setdefault(row["as_of"], row["selection_json"])
    out = []
    for run_as_of, text in sorted(runs.items()):
        run = json.loads(text)
        for c in run["candidates"]:
            is_chosen = c["k"] == run["chosen_k"]
            out.append(
                {
                    "as_of": run_as_of,
                    "k": c["k"],
                    "inertia": c["inertia"],
                    "silhouette": c["silhouette"],
                    "is_chosen": is_chosen,
                    "is_warm_started": c["is_warm_started"],
                    "chosen_reason": run["reason"] if is_chosen else None,
                    "note": c["note"],
                    "n_fit_rows": run["n_fit_rows"],
                    "n_silhouette_rows": run["n_silhouette_rows"],
                    "features": ", ".join(run["features"]),
                }
            )
    return pa.Table.from_pylist(out, schema=SELECTION_SCHEMA)
