"""Choosing k: K-Means for every k of ``segment_k_range``, scored by the silhouette, and the
record of that search (``selection_json``, expanded into segment_model_selection). Why the
previous k and centroids are kept on near-ties: DECISIONS.md, "Cluster ids are stable across
runs".

The silhouette uses the first ``silhouette_rows`` sample rows, the same rows for every k.
The previous run's k is also fitted starting from the previous centroids, and that solution
is kept unless a fresh k-means++ fit's silhouette is better by more than
``segment_k_tolerance`` (fresh runs land in different local optima from day to day). The
chosen k's fit is the model: nothing is refitted."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from leadscore.segmentation.config import SegmentationConfig


@dataclass(frozen=True)
class KCandidate:
    """One k of the search: the fitted K-Means, its inertia and silhouette."""

    k: int
    inertia: float | None
    silhouette: float | None
    is_warm_started: bool = False
    note: str | None = None
    model: KMeans | None = field(default=None, compare=False, repr=False)


def _kmeans(z: np.ndarray, k: int, config: SegmentationConfig, init: np.ndarray | None = None):
    if init is not None:
        model = KMeans(n_clusters=k, init=init, n_init=1, random_state=config.seed)
    else:
        model = KMeans(n_clusters=k, n_init=config.n_init, random_state=config.seed)
    with threadpool_limits(limits=config.n_jobs):
        return model.fit(z)


def _silhouette(z: np.ndarray, labels: np.ndarray, config: SegmentationConfig) -> float | None:
    m = min(len(z), config.silhouette_rows)
    if len(np.unique(labels[:m])) < 2:
        return None
    with threadpool_limits(limits=config.n_jobs):
        return float(silhouette_score(z[:m], labels[:m]))


def evaluate_k_range(
    z: np.ndarray, config: SegmentationConfig, warm_init: np.ndarray | None = None
) -> list[KCandidate]:
    """K-Means (k-means++) for every k of config.k_range with its inertia and the silhouette
    on the first ``silhouette_rows`` rows (the same rows for every k). For k = len(warm_init)
    K-Means also starts from ``warm_init`` (the previous run's centroids) and that solution is
    kept unless the fresh one's silhouette is better by more than ``k_tolerance``: a fresh
    k-means++ run can land in another local optimum, and the ids should not pay for it."""
    n_distinct = len(np.unique(z, axis=0)) if len(z) else 0
    out: list[KCandidate] = []
    for k in range(config.k_range[0], config.k_range[1] + 1):
        if k > n_distinct - 1:
            out.append(KCandidate(k, None, None, note=f"only {n_distinct} distinct leads"))
            continue
        fresh = _kmeans(z, k, config)
        candidate = KCandidate(
            k, float(fresh.inertia_), _silhouette(z, fresh.labels_, config), model=fresh
        )
        if warm_init is not None and len(warm_init) == k:
            warm = _kmeans(z, k, config, init=warm_init)
            warm_score = _silhouette(z, warm.labels_, config)
            fresh_score = -1.0 if candidate.silhouette is None else candidate.silhouette
            if warm_score is not None and warm_score >= fresh_score - config.k_tolerance:
                candidate = KCandidate(
                    k,
                    float(warm.inertia_),
                    warm_score,
                    is_warm_started=True,
                    note=f"started from the previous centroids (a fresh fit: {fresh_score:.3f})",
                    model=warm,
                )
            else:
                candidate = replace(
                    candidate, note=f"a fresh fit beat the previous centroids ({warm_score})"
                )
        if candidate.silhouette is None:
            candidate = replace(candidate, note="the silhouette rows fall in one cluster")
        out.append(candidate)
    return out


def choose_k(
    candidates: Sequence[KCandidate], previous_k: int | None, tolerance: float
) -> tuple[int | None, str]:
    """The k with the best silhouette, or the previous k while it is within ``tolerance``."""
    scored = [c for c in candidates if c.silhouette is not None]
    if not scored:
        return None, "no k could be scored (too few distinct leads)"
    best = max(scored, key=lambda c: (c.silhouette, -c.k))
    previous = next((c for c in scored if c.k == previous_k), None)
    if previous is not None and previous.k != best.k:
        assert previous.silhouette is not None and best.silhouette is not None
        if previous.silhouette >= best.silhouette - tolerance:
            return previous.k, (
                f"kept the previous k={previous.k}: silhouette {previous.silhouette:.3f} within "
                f"segment_k_tolerance {tolerance} of the best k={best.k} ({best.silhouette:.3f})"
            )
    return best.k, f"best silhouette ({best.silhouette:.3f})"


def selection_json(
    candidates: Sequence[KCandidate],
    k: int,
    reason: str,
    n_fit_rows: int,
    config: SegmentationConfig,
) -> str:
    """The search of one run as stored in segment_centroids.selection_json: the chosen k,
    why, the rows and features, and every candidate's scores (read by
    ``leadscore.segmentation.runs.model_selection``)."""
    return json.dumps(
        {
            "chosen_k": k,
            "reason": reason,
            "n_fit_rows": n_fit_rows,
            "n_silhouette_rows": min(n_fit_rows, config.silhouette_rows),
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
