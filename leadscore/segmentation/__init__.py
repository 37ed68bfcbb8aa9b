"""Lead segmentation: K-Means clusters of open leads with stable ids, generated names and
profiles, plus optional DBSCAN outlier flags (docs/segments.md; why the ids are stable and
DBSCAN only flags outliers: DECISIONS.md, "Cluster ids are stable across runs").

One job per module, each importing only the ones above it:

- ``config``, ``schemas``: SegmentationConfig (through ``leadscore.settings``), the tables
- ``scaling``: signed log1p, NULL fill, standardization (FeatureScaler)
- ``choosing_k``, ``stable_ids``, ``naming``, ``outliers``: the k search, id matching,
  generated names, DBSCAN
- ``fit``, ``assign``, ``profiles``: segment_centroids, lead_clusters, segment_profiles
- ``runs``: what the dbt Python models in ``models/segmentation`` call

This package re-exports the public names of them all (the former ``segmentation.py``)."""

from leadscore.segmentation.assign import Segmenter, assign_leads, nearest_centroid
from leadscore.segmentation.choosing_k import KCandidate, choose_k, evaluate_k_range
from leadscore.segmentation.config import (
    AGE_COLUMN,
    ASSIGN_CHUNK_ROWS,
    DEFAULT_FEATURES,
    OUTLIER_METHODS,
    RECENCY_PREFIX,
    ZERO_WHEN_NULL,
    SegmentationConfig,
)
from leadscore.segmentation.fit import fit_segments
from leadscore.segmentation.naming import (
    DEFAULT_NOUN,
    NO_ADJECTIVE,
    NameTerm,
    cluster_name,
    cluster_names,
    contrast_with_rest,
    distinguishing_features,
)
from leadscore.segmentation.outliers import dbscan_outliers
from leadscore.segmentation.profiles import WILSON_Z, build_profiles, wilson_interval
from leadscore.segmentation.runs import (
    centroids_of_run,
    clusters_of_run,
    model_selection,
    profiles_of_run,
)
from leadscore.segmentation.scaling import FeatureScaler, raw_matrix, signed_expm1, signed_log1p
from leadscore.segmentation.schemas import ASSIGNMENT_SCHEMA, CENTROID_SCHEMA, SELECTION_SCHEMA
from leadscore.segmentation.stable_ids import PreviousRun, match_cluster_ids, previous_run

__all__ = [
    "AGE_COLUMN",
    "ASSIGNMENT_SCHEMA",
    "ASSIGN_CHUNK_ROWS",
    "CENTROID_SCHEMA",
    "DEFAULT_FEATURES",
    "DEFAULT_NOUN",
    "NO_ADJECTIVE",
    "OUTLIER_METHODS",
    "RECENCY_PREFIX",
    "SELECTION_SCHEMA",
    "WILSON_Z",
    "ZERO_WHEN_NULL",
    "FeatureScaler",
    "KCandidate",
    "NameTerm",
    "PreviousRun",
    "SegmentationConfig",
    "Segmenter",
    "assign_leads",
    "build_profiles",
    "centroids_of_run",
    "choose_k",
    "cluster_name",
    "cluster_names",
    "clusters_of_run",
    "contrast_with_rest",
    "dbscan_outliers",
    "distinguishing_features",
    "evaluate_k_range",
    "fit_segments",
    "match_cluster_ids",
    "model_selection",
    "nearest_centroid",
    "previous_run",
    "profiles_of_run",
    "raw_matrix",
    "signed_expm1",
    "signed_log1p",
    "wilson_interval",
]
