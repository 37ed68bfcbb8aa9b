"""Lead segmentation: K-Means clusters of open leads with stable ids, generated names and
profiles, plus optional DBSCAN outlier discovery.

The dbt Python models in ``models/segmentation`` call one function each:

- ``segment_centroids`` → :func:`fit_segments`: the k search (elbow and silhouette), the
  K-Means fit with the chosen k, ids matched to the previous run's centroids, generated
  names (incremental history, one row per (as_of, cluster_id)).
- ``segment_model_selection`` → :func:`model_selection`: the k search of every run, one row
  per (as_of, k), expanded from the centroids' ``selection_json`` (nothing is fitted twice).
- ``lead_clusters`` → :func:`assign_leads`: every open lead to its nearest centroid (and the
  DBSCAN outlier flag when ``segment_outlier_method: dbscan``).
- ``segment_profiles`` → :func:`build_profiles`: per cluster size, feature means, the
  conversion rate of matured training snapshots assigned to the same centroids, the name.

Decisions
- Features (var ``segment_features``, numeric or boolean columns of ``lead_features``) are
  transformed by a signed log1p (counts, days and company sizes are heavily skewed; the sign
  keeps negative velocities) and standardized with the mean and standard deviation of the fit
  sample. NULLs are filled before scaling: ``days_since_*`` with the row's ``lead_age_days``
  (never engaged = silent since creation), ``engagement_score_decayed`` with 0 (the decayed
  sum of no activity), anything else with the fit sample's median. A feature that is
  constant (or NULL) in the whole sample gets scale 1 and so no weight — B2C data without
  company sizes still clusters.
- Fit on a sample, assign all: the sample is the first ``segment_sample_rows`` leads in
  ``hash(lead_id)`` order (drawn by DuckDB, deterministic, and a lead that stays open stays
  in the sample on the next day). Assignment is a chunked nearest-centroid pass, linear in
  the number of leads.
- k: every k of ``segment_k_range`` is fitted (k-means++, ``n_init`` starts) and scored by
  the silhouette on the first ``silhouette_rows`` sample rows (the same rows for every k).
  The previous run's k is also fitted starting from the previous centroids, and that
  solution is kept unless a fresh one is better by more than ``segment_k_tolerance`` (fresh
  k-means++ runs land in different local optima from day to day). The best silhouette wins,
  except that the previous k is kept while its silhouette is within ``segment_k_tolerance``
  of the best, so k does not flip on noise. The chosen k's fit is the model (no refit).
- Stable ids: the scaler is refitted on every run (it follows the population) and the
  previous run's centroids — stored in transformed units, before standardization — are
  mapped into this run's scaled space (the warm start above uses them). Ids are then matched
  by a Hungarian assignment on centroid distance. A pair counts only when the new centroid
  lies within ``segment_match_radius`` (0.5) x the distance from the old centroid to its
  nearest other old centroid — inside the old cluster's territory, a rule that does not
  depend on the number of features — so when k shrinks, the merged cluster keeps the id of
  the part it sits closest to. A new cluster without a partner gets a new id (one more than
  the largest id ever used); an id whose cluster disappeared is never reused. The previous
  run is the latest run before this as_of (or, when a backfill runs an older date last,
  the earliest one after it); a rerun of the same as_of therefore reproduces its own result.
- Names are generated from how far the centroid lies from the mean of the *other* leads, in
  standard deviations (see :func:`contrast_with_rest`): per axis of the seed
  ``segment_name_terms`` the feature with the largest |z| >= ``segment_name_z_threshold``
  gives an adjective ("high-engagement", "dormant"), the ``segment_name_max_terms`` strongest
  axes are kept, and the noun comes from company size ("enterprise", "SMB"; "leads" when
  the size is near the rest's or not a feature). Names are regenerated on every run from today's
  centroid, so a cluster that changes character is renamed while its id stays.
- DBSCAN is offered for outlier discovery, not as the segmentation: its clusters have no
  centroid to assign new leads to or to match ids by, and their number moves with density.
  With ``segment_outlier_method: dbscan``, DBSCAN runs on the first ``dbscan_sample_rows``
  sample rows; a lead is an outlier when no core sample lies within eps of it (exactly
  DBSCAN's noise rule for the sample, extended to every lead). eps null = the
  ``dbscan_auto_eps_quantile`` quantile of the distance to the ``min_samples``-th neighbour.
- Conversion rate of a cluster: today's members have not matured yet, so the rate is that of
  the matured training snapshots (a lead at a past date T whose conversion window has closed)
  assigned to today's centroids with today's scaler: "leads that looked like this converted
  at this rate". At most ``profile_snapshot_rows`` snapshots (hash sample) are read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import DBSCAN, KMeans
from sklearn.metrics import silhouette_score
from sklearn.neighbors import NearestNeighbors
from threadpoolctl import threadpool_limits

from leadscore import settings
from leadscore.dbt_inputs import resolved_as_of
from leadscore.settings import check_fields, setting_field

DEFAULT_FEATURES: tuple[str, ...] = settings.default("segment_features")
OUTLIER_METHODS: tuple[str, ...] = settings.setting("segment_outlier_method").choices
ZERO_WHEN_NULL: frozenset[str] = frozenset({"engagement_score_decayed"})
RECENCY_PREFIX = "days_since_"
AGE_COLUMN = "lead_age_days"
ASSIGN_CHUNK_ROWS = 200_000
WILSON_Z = 1.96  # 95 % interval of a conversion rate

SELECTION_SCHEMA = pa.schema(
    [
        ("as_of", pa.timestamp("us")),
        ("k", pa.int64()),
        ("inertia", pa.float64()),
        ("silhouette", pa.float64()),
        ("is_chosen", pa.bool_()),
        ("is_warm_started", pa.bool_()),
        ("chosen_reason", pa.string()),
        ("note", pa.string()),
        ("n_fit_rows", pa.int64()),
        ("n_silhouette_rows", pa.int64()),
        ("features", pa.string()),
    ]
)
CENTROID_SCHEMA = pa.schema(
    [
        ("as_of", pa.timestamp("us")),
        ("cluster_id", pa.int64()),
        ("cluster_name", pa.string()),
        ("k", pa.int64()),
        ("n_sample_members", pa.int64()),
        ("sample_share", pa.float64()),
        ("inertia", pa.float64()),
        ("is_warm_started", pa.bool_()),
        ("previous_as_of", pa.timestamp("us")),
        ("previous_distance", pa.float64()),
        ("is_new_cluster", pa.bool_()),
        ("distinguishing_features", pa.string()),
        ("centroid_json", pa.string()),
        ("centroid_z_json", pa.string()),
        ("scaler_json", pa.string()),
        ("selection_json", pa.string()),
    ]
)
ASSIGNMENT_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("as_of", pa.timestamp("us")),
        ("cluster_id", pa.int64()),
        ("distance_to_centroid", pa.float64()),
        ("is_outlier", pa.bool_()),
    ]
)


# --- configuration ---------------------------------------------------------------------------


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
                f"{', '.join(DEFAULT_FEATURES[:4])}: {_fix('features')}"
            )
        wanted = ["lead_id", *self.features]
        if any(_fill_policy(f) == "lead_age" for f in self.features):
            wanted.append(AGE_COLUMN)
        return list(dict.fromkeys(c for c in wanted if c in available))


def _fix(name: str) -> str:
    """How to set var ``segment_<name>`` (the table's wording)."""
    return settings.setting(f"segment_{name}").fix


# --- features and the scaler -------------------------------------------------------------------


def signed_log1p(x: np.ndarray) -> np.ndarray:
    """sign(x) * ln(1 + |x|): compresses skewed counts, days and sizes, keeps the sign."""
    return np.sign(x) * np.log1p(np.abs(x))


def signed_expm1(x: np.ndarray) -> np.ndarray:
    """Inverse of :func:`signed_log1p`."""
    return np.sign(x) * np.expm1(np.abs(x))


def _column_as_float(table: pa.Table, name: str) -> np.ndarray:
    column = table.column(name)
    kind = column.type
    numeric = (pa.types.is_boolean, pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)
    if not any(check(kind) for check in numeric):
        raise ValueError(
            f"var segment_features names {name}, a {kind} column; clustering needs numeric or "
            f"boolean columns: {_fix('features')}"
        )
    as_float = pc.cast(column, pa.float64())
    return pc.fill_null(as_float, math.nan).to_numpy(zero_copy_only=False).astype(np.float64)


def raw_matrix(table: pa.Table, features: Sequence[str], source: str) -> np.ndarray:
    """The features of ``table`` as floats (NaN = NULL), in the original units. Raises
    ValueError naming a feature that is not a column of ``source``."""
    missing = [f for f in features if f not in table.column_names]
    if missing:
        numeric = [
            field.name
            for field in table.schema
            if pa.types.is_integer(field.type)
            or pa.types.is_floating(field.type)
            or pa.types.is_boolean(field.type)
        ]
        raise ValueError(
            f"var segment_features names {', '.join(missing)}, not a column of {source}; "
            f"use its numeric columns (e.g. {', '.join(numeric[:12])}): {_fix('features')}"
        )
    if table.num_rows == 0:
        return np.empty((0, len(features)))
    return np.column_stack([_column_as_float(table, f) for f in features])


def _fill_policy(feature: str) -> str:
    if feature.startswith(RECENCY_PREFIX):
        return "lead_age"
    if feature in ZERO_WHEN_NULL:
        return "zero"
    return "median"


@dataclass(frozen=True)
class FeatureScaler:
    """signed log1p, NULL fill and standardization of the clustering features, fitted on the
    fit sample. ``fill`` holds the fill value (transformed units) of "median"/"zero" features;
    ``days_since_*`` features are filled per row from lead_age_days (``fill`` None)."""

    features: tuple[str, ...]
    fill: tuple[float | None, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    constant: tuple[bool, ...]

    @classmethod
    def fit(cls, table: pa.Table, features: Sequence[str], source: str) -> FeatureScaler:
        raw = raw_matrix(table, features, source)
        age = _age(table, features, source)
        fills: list[float | None] = []
        for j, feature in enumerate(features):
            policy = _fill_policy(feature)
            if policy == "lead_age":
                fills.append(None)
            elif policy == "zero":
                fills.append(0.0)
            else:
                observed = raw[:, j][~np.isnan(raw[:, j])]
                fills.append(float(np.median(signed_log1p(observed))) if observed.size else 0.0)
        n = len(features)
        unfitted = cls(tuple(features), tuple(fills), (0.0,) * n, (1.0,) * n, (False,) * n)
        x = unfitted._fill(signed_log1p(raw), age)
        mean = x.mean(axis=0) if len(x) else np.zeros(len(features))
        std = x.std(axis=0) if len(x) else np.zeros(len(features))
        constant = std < 1e-9
        scale = np.where(constant, 1.0, std)
        return cls(
            tuple(features),
            tuple(fills),
            tuple(float(v) for v in mean),
            tuple(float(v) for v in scale),
            tuple(bool(v) for v in constant),
        )

    def _fill(self, x: np.ndarray, age: np.ndarray | None) -> np.ndarray:
        x = x.copy()
        for j, value in enumerate(self.fill):
            holes = np.isnan(x[:, j])
            if not holes.any():
                continue
            if value is None:
                if age is None:  # pragma: no cover - _age raises first
                    raise ValueError(f"{self.features[j]} needs {AGE_COLUMN} to fill NULLs")
                fallback = np.nan_to_num(signed_log1p(age), nan=0.0)
                x[holes, j] = fallback[holes]
            else:
                x[holes, j] = value
        return x

    def transform(self, table: pa.Table, source: str) -> np.ndarray:
        """Transformed units (signed log1p, NULLs filled), before standardization."""
        raw = raw_matrix(table, self.features, source)
        return self._fill(signed_log1p(raw), _age(table, self.features, source))

    def standardize(self, x: np.ndarray) -> np.ndarray:
        return (x - np.asarray(self.mean)) / np.asarray(self.scale)

    def scaled(self, table: pa.Table, source: str) -> np.ndarray:
        return self.standardize(self.transform(table, source))

    def to_json(self) -> str:
        return json.dumps(
            {
                "transform": "signed_log1p",
                "features": list(self.features),
                "fill": list(self.fill),
                "mean": list(self.mean),
                "scale": list(self.scale),
                "constant": list(self.constant),
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> FeatureScaler:
        data = json.loads(text)
        return cls(
            tuple(data["features"]),
            tuple(data["fill"]),
            tuple(data["mean"]),
            tuple(data["scale"]),
            tuple(data["constant"]),
        )


def _age(table: pa.Table, features: Sequence[str], source: str) -> np.ndarray | None:
    if not any(_fill_policy(f) == "lead_age" for f in features):
        return None
    if AGE_COLUMN not in table.column_names:
        raise ValueError(
            f"{source} has no {AGE_COLUMN}, which fills the NULLs of "
            f"{', '.join(f for f in features if _fill_policy(f) == 'lead_age')} (never engaged "
            f"= silent since creation); add the column or drop those features: " + _fix("features")
        )
    return raw_matrix(table, [AGE_COLUMN], source)[:, 0]


# --- choosing k ---------------------------------------------------------------------------------


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


# --- stable ids ---------------------------------------------------------------------------------


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


# --- names --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NameTerm:
    """A row of seed segment_name_terms: the words a feature contributes to a name."""

    feature: str
    axis: str
    part: str  # adjective | noun
    high_term: str | None
    low_term: str | None
    neutral_term: str | None = None

    @classmethod
    def from_rows(cls, rows: Sequence[Mapping[str, Any]]) -> dict[str, NameTerm]:
        terms: dict[str, NameTerm] = {}
        for row in rows:
            part = (row.get("part") or "adjective").strip()
            if part not in ("adjective", "noun"):
                raise ValueError(
                    f"seed segment_name_terms: feature {row.get('feature')} has part {part!r}; "
                    "use adjective or noun"
                )
            terms[row["feature"]] = cls(
                feature=row["feature"],
                axis=row.get("axis") or row["feature"],
                part=part,
                high_term=(row.get("high_term") or None),
                low_term=(row.get("low_term") or None),
                neutral_term=(row.get("neutral_term") or None),
            )
        return terms


DEFAULT_NOUN = "leads"
NO_ADJECTIVE = "typical"


def _term_of(feature: str, z: float, terms: Mapping[str, NameTerm]) -> str | None:
    term = terms.get(feature)
    if term is None:
        return f"high {feature}" if z > 0 else f"low {feature}"
    return term.high_term if z > 0 else term.low_term


def cluster_name(
    center_z: np.ndarray,
    features: Sequence[str],
    constant: Sequence[bool],
    terms: Mapping[str, NameTerm],
    threshold: float,
    max_terms: int,
) -> str:
    """'<adjective>, <adjective> <noun>' from the distinguishing features of a centroid in
    standard deviations. Per axis only the strongest feature speaks; adjectives are ordered
    by |z|. A feature without a seed row reads 'high <feature>' / 'low <feature>'."""
    noun = DEFAULT_NOUN
    best_by_axis: dict[str, tuple[float, str]] = {}
    for j, feature in enumerate(features):
        if constant[j]:
            continue
        z = float(center_z[j])
        term = terms.get(feature)
        if term is not None and term.part == "noun":
            if z >= threshold and term.high_term:
                noun = term.high_term
            elif z <= -threshold and term.low_term:
                noun = term.low_term
            elif term.neutral_term:
                noun = term.neutral_term
            continue
        if abs(z) < threshold:
            continue
        word = _term_of(feature, z, terms)
        if not word:
            continue
        axis = term.axis if term is not None else feature
        if axis not in best_by_axis or abs(z) > best_by_axis[axis][0]:
            best_by_axis[axis] = (abs(z), word)
    words = [w for _, w in sorted(best_by_axis.values(), key=lambda t: -t[0])][:max_terms]
    return f"{', '.join(words) if words else NO_ADJECTIVE} {noun}"


def cluster_names(
    centers_z: np.ndarray,
    ids: Sequence[int],
    features: Sequence[str],
    constant: Sequence[bool],
    terms: Mapping[str, NameTerm],
    threshold: float,
    max_terms: int,
) -> list[str]:
    """Names of all clusters, made unique: clashing clusters get more terms, and if they
    still clash, their id ('dormant SMB (cluster 4)')."""
    names = [cluster_name(c, features, constant, terms, threshold, max_terms) for c in centers_z]
    for extra in range(1, len(features) + 1):
        clashes = {n for n in names if names.count(n) > 1}
        if not clashes:
            return names
        names = [
            cluster_name(c, features, constant, terms, threshold, max_terms + extra)
            if n in clashes
            else n
            for c, n in zip(centers_z, names, strict=True)
        ]
    return [
        f"{n} (cluster {i})" if names.count(n) > 1 else n for n, i in zip(names, ids, strict=True)
    ]


def contrast_with_rest(centers_z: np.ndarray, shares: Sequence[float]) -> np.ndarray:
    """How far each cluster's centroid lies from the mean of all *other* leads, in standard
    deviations. The fit sample's mean is 0 in z and K-Means centroids are member means, so
    the rest's mean is -share/(1 - share) x centroid and the contrast is centroid/(1 - share).
    A dominant cluster sits near the overall mean but far from the rest: naming by contrast
    calls it "dormant", not "typical"."""
    rest = 1.0 - np.minimum(np.asarray(shares, dtype=np.float64), 0.99)
    return centers_z / rest[:, None]


def distinguishing_features(
    contrast: np.ndarray, features: Sequence[str], threshold: float, limit: int = 4
) -> str:
    """'engagement_score_decayed +1.6 sd; company_size -0.8 sd': the centroid minus the
    other leads' mean (see :func:`contrast_with_rest`), largest first."""
    order = sorted(range(len(features)), key=lambda j: -abs(contrast[j]))
    parts = [f"{features[j]} {contrast[j]:+.1f} sd" for j in order if abs(contrast[j]) >= threshold]
    return "; ".join(parts[:limit]) if parts else "close to the other leads on every feature"


# --- the dbt models -----------------------------------------------------------------------------


def _empty(schema: pa.Schema) -> pa.Table:
    return schema.empty_table()


def _naive(ts: datetime) -> datetime:
    return ts.replace(tzinfo=None) if ts.tzinfo else ts


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
    :func:`model_selection`). No rows when no k can be scored (no or too few open leads)."""
    as_of = _naive(as_of)
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
        return _empty(CENTROID_SCHEMA)
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


def model_selection(centroids: pa.Table) -> pa.Table:
    """segment_model_selection: the k search of every run in segment_centroids, one row per
    (as_of, k) (expanded from ``selection_json``)."""
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
        as_of = _naive(as_of)
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
    as_of = _naive(as_of)
    segmenter = Segmenter.from_rows(centroids, as_of)
    if segmenter is None or features.num_rows == 0:
        return _empty(ASSIGNMENT_SCHEMA)
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
    as_of = _naive(as_of)
    segmenter = Segmenter.from_rows(centroids, as_of)
    feature_names = list(config.features if segmenter is None else segmenter.scaler.features)
    schema = _profile_schema(feature_names)
    if segmenter is None:
        return _empty(schema)
    member = pc.fill_null(members.column("cluster_id"), -1).to_numpy(zero_copy_only=False)
    raw = raw_matrix(members, feature_names, "lead_features")
    outliers = members.column("is_outlier")
    flags = None
    if members.num_rows and outliers.null_count < members.num_rows:
        flags = pc.fill_null(outliers, False).to_numpy(zero_copy_only=False).astype(bool)

    snap_ids = np.empty(0, dtype=np.int64)
    converted = np.empty(0, dtype=bool)
    if matured_snapshots.num_rows:
        snap_ids, _, _ = segmenter.assign(matured_snapshots, "training_snapshots")
        converted = (
            pc.fill_null(pc.cast(matured_snapshots.column("is_converted"), pa.bool_()), False)
            .to_numpy(zero_copy_only=False)
            .astype(bool)
        )
    overall = float(converted.mean()) if len(converted) else None
    n_total = int((member >= 0).sum())
    rows = []
    for cluster_id in segmenter.ids.tolist():
        in_cluster = member == cluster_id
        snaps = snap_ids == cluster_id
        n_snaps, n_conv = int(snaps.sum()), int(converted[snaps].sum())
        rate = n_conv / n_snaps if n_snaps else None
        low, high = wilson_interval(n_conv, n_snaps)
        row: dict[str, Any] = {
            "as_of": as_of,
            "cluster_id": cluster_id,
            "cluster_name": segmenter.names[cluster_id],
            "n_leads": int(in_cluster.sum()),
            "share_of_leads": float(in_cluster.sum() / n_total) if n_total else None,
            "n_outliers": None if flags is None else int(flags[in_cluster].sum()),
            "n_matured_snapshots": n_snaps,
            "n_converted": n_conv,
            "conversion_rate": rate,
            "conversion_rate_low": low,
            "conversion_rate_high": high,
            "conversion_lift": rate / overall if rate is not None and overall else None,
            "distinguishing_features": segmenter.distinguishing[cluster_id],
        }
        for j, feature in enumerate(feature_names):
            values = raw[in_cluster, j]
            values = values[~np.isnan(values)]
            row[f"avg_{feature}"] = float(values.mean()) if values.size else None
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=schema)


def _profile_schema(features: Sequence[str]) -> pa.Schema:
    return pa.schema(
        [
            ("as_of", pa.timestamp("us")),
            ("cluster_id", pa.int64()),
            ("cluster_name", pa.string()),
            ("n_leads", pa.int64()),
            ("share_of_leads", pa.float64()),
            ("n_outliers", pa.int64()),
            ("n_matured_snapshots", pa.int64()),
            ("n_converted", pa.int64()),
            ("conversion_rate", pa.float64()),
            ("conversion_rate_low", pa.float64()),
            ("conversion_rate_high", pa.float64()),
            ("conversion_lift", pa.float64()),
            ("distinguishing_features", pa.string()),
            *[(f"avg_{f}", pa.float64()) for f in features],
        ]
    )


# ---------------------------------------------------------------------------------------------
# what the dbt Python models call: the relations of their refs in, a table out


def _run_centroids(centroids: Any, as_of: datetime) -> pa.Table:
    return centroids.filter(f"as_of = '{_naive(as_of)}'::timestamp").to_arrow_table()


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
