"""SegmentationConfig: the knobs of every segmentation model, built from dbt vars through
``leadscore.settings``; and which columns the segmentation reads (the features, and
lead_age_days, which fills the NULLs of ``days_since_*`` features)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from leadscore import settings
from leadscore.settings import check_fields, setting_field

DEFAULT_FEATURES: tuple[str, ...] = settings.default("segment_features")
OUTLIER_METHODS: tuple[str, ...] = settings.setting("segment_outlier_method").choices
ZERO_WHEN_NULL: frozenset[str] = frozenset({"engagement_score_decayed"})
RECENCY_PREFIX = "days_since_"
AGE_COLUMN = "lead_age_days"
ASSIGN_CHUNK_ROWS = 200_000  # rows per block of the nearest-centroid and outlier passes


@dataclass(frozen=True)
class SegmentationConfig:
    """All knobs of segmentation. Fields marked (var) are dbt vars ``segment_<field>``;
    the rest keep their defaults unless a caller sets them (kinds, bounds and defaults of
    both in ``leadscore.settings``).

    Attributes:
        features: (var) numeric/boolean columns of lead_features to cluster on.
        k_range: (var, ``[min, max]``) the k tried by the silhouette search.
        k_tolerance: (var) keep the previous run's k while its silhouette is within this of
            the best k's.
        sample_rows: (var) leads the scaler and K-Means are fitted on (hash sample).
        match_radius: (var) a new centroid inherits a previous id only within this fraction
            of the distance from that previous centroid to its nearest other previous one.
        reset_ids: (var) ignore the previous runs: fresh ids 1..k (largest cluster first).
        outlier_method: (var) ``none`` | ``dbscan``.
        dbscan_eps: (var) DBSCAN radius in standard deviations; null = automatic.
        dbscan_min_samples: (var) DBSCAN neighbours (incl. the point) of a core sample.
        name_z_threshold: (var) |z| of a centroid feature that counts as distinguishing.
        name_max_terms: (var) adjectives in a generated name (besides the noun).
        silhouette_rows: sample rows the silhouette is computed on (it is quadratic).
        n_init: k-means++ starts per k.
        dbscan_sample_rows: sample rows DBSCAN runs on (its memory grows with density).
        dbscan_auto_eps_quantile: quantile of the min_samples-th neighbour distance used as
            eps when dbscan_eps is null.
        profile_snapshot_rows: matured training snapshots read for conversion rates.
        seed: seed of K-Means.
        n_jobs: OpenMP/BLAS threads of the fits. Default 1: on a small machine that also
            runs dbt's other threads, OpenMP's busy-waiting makes 2 threads many times slower
            than 1 (measured 13x on 2 cores).
    """

    features: tuple[str, ...] = setting_field("segment_features")
    k_range: tuple[int, int] = setting_field("segment_k_range")
    k_tolerance: float = setting_field("segment_k_tolerance")
    sample_rows: int = setting_field("segment_sample_rows")
    match_radius: float = setting_field("segment_match_radius")
    reset_ids: bool = setting_field("segment_reset_ids")
    outlier_method: str = setting_field("segment_outlier_method")
    dbscan_eps: float | None = setting_field("segment_dbscan_eps")
    dbscan_min_samples: int = setting_field("segment_dbscan_min_samples")
    name_z_threshold: float = setting_field("segment_name_z_threshold")
    name_max_terms: int = setting_field("segment_name_max_terms")
    silhouette_rows: int = setting_field("segment_silhouette_rows")
    n_init: int = setting_field("segment_n_init")
    dbscan_sample_rows: int = setting_field("segment_dbscan_sample_rows")
    dbscan_auto_eps_quantile: float = setting_field("segment_dbscan_auto_eps_quantile")
    profile_snapshot_rows: int = setting_field("segment_profile_snapshot_rows")
    seed: int = setting_field("seed")
    n_jobs: int = setting_field("n_jobs")

    def __post_init__(self) -> None:
        check_fields(self)

    @classmethod
    def from_vars(cls, mapping: Mapping[str, Any]) -> SegmentationConfig:
        """Build a config from dbt vars: key ``segment_<field>`` (``seed``, ``n_jobs``: the
        bare name), unknown keys ignored, a missing or null value keeps the default (for the
        nullable ``dbscan_eps`` null means automatic). Raises ValueError naming the var and
        the fix."""
        return settings.from_vars(cls, mapping)

    def input_columns(self, available: Sequence[str], source: str) -> list[str]:
        """The columns of ``source`` the segmentation reads: lead_id, the features and
        lead_age_days (it fills the NULLs of days_since_* features). Raises ValueError naming
        a feature that ``source`` does not have, so the error is ours, not a SQL binder's."""
        missing = [f for f in self.features if f not in available]
        if missing:
            raise ValueError(
                f"var segment_features names {', '.join(missing)}, not a column of {source}; "
                f"use numeric columns of lead_features such as "
                f"{', '.join(DEFAULT_FEATURES[:4])}: {var_fix('features')}"
            )
        wanted = ["lead_id", *self.features]
        if any(fill_policy(f) == "lead_age" for f in self.features):
            wanted.append(AGE_COLUMN)
        return list(dict.fromkeys(c for c in wanted if c in available))


def var_fix(name: str) -> str:
    """How to set var ``segment_<name>`` (the table's wording)."""
    return settings.setting(f"segment_{name}").fix


def fill_policy(feature: str) -> str:
    """What fills a NULL of ``feature``: ``lead_age`` (the row's lead_age_days, for
    ``days_since_*``: never engaged = silent since creation), ``zero`` (the decayed sum of no
    activity) or ``median`` (of the fit sample)."""
    if feature.startswith(RECENCY_PREFIX):
        return "lead_age"
    if feature in ZERO_WHEN_NULL:
        return "zero"
    return "median"
