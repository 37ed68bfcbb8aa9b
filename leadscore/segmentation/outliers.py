"""DBSCAN outlier flags of lead_clusters.is_outlier (``segment_outlier_method: dbscan``).
DBSCAN finds outliers, never the segments: DECISIONS.md, "Cluster ids are stable across
runs"; the settings: docs/segments.md, "Outliers".

DBSCAN runs on the first ``dbscan_sample_rows`` rows of the fit sample; a lead is an outlier
when no core sample lies within eps of it, which is exactly DBSCAN's noise rule on the sample,
extended to every lead."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import DBSCAN
from sklearn.neighbors import NearestNeighbors
from threadpoolctl import threadpool_limits

from leadscore.segmentation.config import ASSIGN_CHUNK_ROWS, SegmentationConfig


def dbscan_outliers(
    z_sample: np.ndarray, z_all: np.ndarray, config: SegmentationConfig
) -> tuple[np.ndarray, float]:
    """Outlier flags of every row of ``z_all`` from DBSCAN on ``z_sample``: an outlier has no
    core sample within eps (DBSCAN's noise rule). Returns the flags and the eps used."""
    with threadpool_limits(limits=config.n_jobs):
        return _dbscan_outliers(z_sample, z_all, config)


def _dbscan_outliers(
    z_sample: np.ndarray, z_all: np.ndarray, config: SegmentationConfig
) -> tuple[np.ndarray, float]:
    min_samples = min(config.dbscan_min_samples, max(2, len(z_sample) - 1))
    eps = config.dbscan_eps
    if eps is None:
        neighbours = NearestNeighbors(n_neighbors=min_samples).fit(z_sample)
        kth = neighbours.kneighbors(z_sample)[0][:, -1]
        eps = max(float(np.quantile(kth, config.dbscan_auto_eps_quantile)), 1e-6)
    fitted = DBSCAN(eps=eps, min_samples=min_samples).fit(z_sample)
    core = z_sample[fitted.core_sample_indices_]
    if len(core) == 0:
        return np.ones(len(z_all), dtype=bool), eps
    nearest = NearestNeighbors(n_neighbors=1).fit(core)
    flags = np.empty(len(z_all), dtype=bool)
    for start in range(0, len(z_all), ASSIGN_CHUNK_ROWS):
        block = z_all[start : start + ASSIGN_CHUNK_ROWS]
        flags[start : start + len(block)] = nearest.kneighbors(block)[0][:, 0] > eps
    return flags, eps
