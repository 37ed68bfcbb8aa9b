"""Candidate training, calibration, evaluation, serialization and prediction.

:func:`train_candidates` trains logistic regression and XGBoost, each with and without class
weighting, and a small neural network, on the purged train split; tunes them on purged,
lead-disjoint time-ordered folds within train (on valid when no fold fits); calibrates them
on valid; adds the blend of the best logistic regression and XGBoost; chooses one on valid
(on the rows of the evaluation population, preferring the blend among near-ties); reports
every candidate (and any baseline score, e.g. the rule score) on test with the same metrics;
and refits the chosen setting before the test window (reported, calibrated on test, gated)
and on every matured row (deployed). Every artifact is a :class:`ModelArtifact` whose whole
state is JSON (no pickle) and that predicts calibrated probabilities, raw margins and
per-feature contributions. Why: docs/decisions.md.

Decisions (see also ``preprocess`` and ``metrics``):

* Search: ``purged_time_folds`` — the leads of train that can be judged are cut into
  ``n_time_folds`` blocks by first snapshot; fold i scores block i and fits on the rows whose
  label window ends before it (expanding window, never a lead of the block). Folds whose parts
  lack a class are skipped; with none left, settings are scored on valid. A setting's score is
  the mean over folds of the selection metric. The preprocessing is fitted once on all of
  train (it uses no labels). Settings are tried in a fixed, seeded order, the default
  first; each candidate stops when ``max_search_trials`` is reached or its share of
  ``search_budget_seconds`` is spent (``SEARCH_SHARES``: logistic regression and the network a
  quarter each, XGBoost half; candidates of a family take turns), but the default is always
  tried. Given
  the seed the search is deterministic up to where the wall-clock budget cuts it.
* Logistic regression: L2, C tuned over a fixed grid (1 first), solver newton-cholesky: an
  exact Newton method that converges in a handful of iterations on this shape (many rows,
  ~150 columns) where lbfgs stopped early on the collinear one-hot layout and was 2-7x slower.
* XGBoost: hist, early stopping on each fold's (later) validation block, on log loss
  weighted like the training rows. The final model is refitted on all of train with the
  number of rounds early stopping found (mean over folds weighted by fold size).
* Class weighting: ``class_weight='balanced'`` (LR) or ``scale_pos_weight = negatives /
  positives`` (XGBoost). Weighted models rank differently but their raw probabilities are
  inflated; calibration on valid puts them back on the probability scale.
* Calibration: fitted on valid on the raw margin (logit). Isotonic (stored as x/y
  thresholds for ``np.interp``, probabilities kept in [1e-4, 1 - 1e-4] so log loss stays
  finite) or Platt (``sigmoid(a · margin + b)`` with Platt's smoothed targets).
* Choice (``choose_candidate``): the selection loss on the valid rows of the evaluation
  population: ``pr_auc`` (default; average precision of the raw ranking, unaffected by
  calibration — the business question is who to call first at a low base rate) or
  ``log_loss`` (after a Platt fit on valid). Every candidate within one bootstrap standard
  error of the best is a near-tie, and the first of ``PREFERENCE`` among them wins (the blend,
  then logistic regression, ...): on a shifting CRM the hedge is worth more than a difference
  the valid window cannot resolve. Test is only reported, never used to choose.
* Operating threshold: the calibrated probability maximising F1 on valid.
* Ranking metrics on test (ROC/PR-AUC, lift, precision@k) use the raw margin, probability
  metrics (log loss, Brier, ECE, precision/recall/F1) the calibrated probability.
* Threads: BLAS and OpenMP pools are limited to ``n_jobs`` during training (see the
  config for why the default is 1).
* Baselines: ``baseline_scores = {"rules": (valid_scores, test_scores)}`` — two arrays
  aligned row by row with the ``valid`` and ``test`` tables (higher = more likely; NaN not
  allowed). Each gets a Platt calibration and an F1 threshold fitted on valid and is
  evaluated on test exactly like the models. Keep baseline columns out of the feature
  tables (or list them in ``exclude_features``).
"""

from __future__ import annotations

import itertools
import json
import math
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xgboost as xgb
from sklearn.exceptions import ConvergenceWarning
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve, roc_curve
from threadpoolctl import threadpool_limits

from leadscore import metrics as m
from leadscore import mlp
from leadscore import populations as pops
from leadscore.config import TrainingConfig
from leadscore.preprocess import FeatureSpec, Preprocessor, fit_preprocessor

LABEL = "is_converted"
TIME = "snapshot_at"
FIRST = "lead_first_snapshot_at"
GROUP = "lead_source"
UNKNOWN_GROUP = "(unknown)"
ARTIFACT_FORMAT_VERSION = 1
CALIBRATION_EPS = 1e-4
LR_SEARCH_SHARE = 0.25
LR_C_GRID: tuple[float, ...] = (1.0, 0.1, 10.0, 0.01, 0.001, 100.0)
LR_MAX_ITER = 2000
XGB_DEFAULT: dict[str, float | int] = {
    "max_depth": 3,
    "learning_rate": 0.1,
    "min_child_weight": 5,
    "subsample": 0.8,
    "colsample_bytree": 1.0,
    "n_estimators": 600,
}
XGB_GRID: dict[str, tuple[float | int, ...]] = {
    "max_depth": (2, 3, 4, 5, 6),
    "learning_rate": (0.03, 0.05, 0.1, 0.2),
    "min_child_weight": (1, 3, 10, 30),
    "subsample": (0.6, 0.8, 1.0),
    "colsample_bytree": (0.6, 0.8, 1.0),
    "n_estimators": (300, 600, 1000),
}
XGB_FALLBACK_ROUNDS = 100
XGB_MAX_BIN = 256
REPORT_METRICS: tuple[str, ...] = ("roc_auc", "pr_auc", "log_loss", "brier", "ece")
CURVE_MAX_POINTS = 101


class InsufficientTrainingData(Exception):
    """Too little labelled data to train and evaluate a model; the caller falls back to the
    rule score. ``reason`` says which split and counts, and which var to change."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------------------
# calibration


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


@dataclass
class Calibrator:
    """Maps a raw margin (logit) to a calibrated probability.

    method 'isotonic': ``np.interp(margin, x, y)`` (flat beyond the ends);
    method 'platt': ``sigmoid(a · margin + b)``."""

    method: str
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    a: float = 1.0
    b: float = 0.0

    def apply(self, margin: np.ndarray) -> np.ndarray:
        z = np.asarray(margin, dtype=np.float64)
        if self.method == "isotonic":
            return np.interp(z, np.asarray(self.x), np.asarray(self.y))
        return _sigmoid(self.a * z + self.b)

    def to_dict(self) -> dict[str, Any]:
        if self.method == "isotonic":
            return {"method": "isotonic", "x": self.x, "y": self.y}
        return {"method": "platt", "a": self.a, "b": self.b}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibrator:
        if data["method"] == "isotonic":
            return cls("isotonic", x=list(data["x"]), y=list(data["y"]))
        return cls("platt", a=float(data["a"]), b=float(data["b"]))


def fit_platt(score: np.ndarray, y: np.ndarray, max_iter: int = 100) -> Calibrator:
    """Platt scaling by Newton's method on Platt's smoothed targets
    ((N+ + 1)/(N+ + 2) and 1/(N- + 2)), which keeps the fit finite on separable data."""
    s = np.asarray(score, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n_pos, n_neg = float(y.sum()), float(y.size - y.sum())
    t = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    mu, sd = (float(s.mean()), float(s.std())) if s.size else (0.0, 1.0)
    sd = sd if sd > 1e-12 else 1.0
    x = np.column_stack([(s - mu) / sd, np.ones_like(s)])

    def loss(w: np.ndarray) -> float:
        z = x @ w
        return float(np.sum(np.logaddexp(0, z) - t * z))

    w = np.array([1.0, math.log((n_pos + 1) / (n_neg + 1))])
    current = loss(w)
    for _ in range(max_iter):
        p = _sigmoid(x @ w)
        grad = x.T @ (p - t)
        hess = (x * (p * (1 - p))[:, None]).T @ x + 1e-9 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        scale = 1.0
        while scale > 1e-8:
            candidate = w - scale * step
            new = loss(candidate)
            if new <= current:
                break
            scale /= 2
        else:
            break
        w, improvement, current = candidate, current - new, new
        if improvement < 1e-12 * max(1.0, abs(current)):
            break
    a = w[0] / sd
    return Calibrator("platt", a=float(a), b=float(w[1] - a * mu))


def fit_isotonic(score: np.ndarray, y: np.ndarray) -> Calibrator:
    """Isotonic regression of the label on the score, stored as interpolation thresholds."""
    iso = IsotonicRegression(out_of_bounds="clip", y_min=CALIBRATION_EPS, y_max=1 - CALIBRATION_EPS)
    iso.fit(np.asarray(score, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return Calibrator(
        "isotonic",
        x=[float(v) for v in iso.X_thresholds_],
        y=[float(v) for v in iso.y_thresholds_],
    )


def choose_calibration(method: str, y: np.ndarray, min_rows: int, min_positives: int) -> str:
    """'auto' → isotonic when there are at least min_rows rows and min_positives positives
    (isotonic overfits small sets), else platt."""
    if method != "auto":
        return method
    enough = y.size >= min_rows and y.sum() >= min_positives
    return "isotonic" if enough else "platt"


def fit_calibrator(score: np.ndarray, y: np.ndarray, method: str) -> Calibrator:
    return fit_isotonic(score, y) if method == "isotonic" else fit_platt(score, y)


# --------------------------------------------------------------------------------------
# the artifact


@dataclass
class Prediction:
    """Calibrated probabilities, raw margins (logits) and, per categorical feature, how
    many rows had a value never seen in train."""

    probability: np.ndarray
    margin: np.ndarray
    unknown_counts: dict[str, int]


@dataclass
class Explanation:
    """:meth:`ModelArtifact.explain`: the prediction, the contributions ([n, n_features + 1],
    bias last, rows sum to the margin), their column names, the input column behind each
    (``sources``, without the bias) and per categorical column a mask of rows whose value
    was never seen in train."""

    prediction: Prediction
    contributions: np.ndarray
    names: list[str]
    sources: list[str]
    unknown: dict[str, np.ndarray]


@dataclass
class ModelArtifact:
    """A trained, calibrated model with everything needed to score a table.

    model: LR ``{"coef": [...], "intercept": float}``; XGBoost ``{"booster_json": str}``
    (``booster.save_raw("json")`` decoded). Serialised by :meth:`to_json` (plain JSON)."""

    name: str
    model_type: str
    preprocessor: Preprocessor
    model: dict[str, Any]
    calibrator: Calibrator
    params: dict[str, Any]
    threshold: float
    format_version: int = ARTIFACT_FORMAT_VERSION
    _booster: xgb.Booster | None = field(default=None, init=False, repr=False, compare=False)
    _parts: list[tuple[ModelArtifact, float, float, float]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def feature_spec(self) -> FeatureSpec:
        return self.preprocessor.spec

    @property
    def feature_names(self) -> list[str]:
        if self.model_type == "blend":
            return [f"{p.model_type}:{n}" for p, *_ in self.components for n in p.feature_names]
        return self.preprocessor.feature_names

    @property
    def components(self) -> list[tuple[ModelArtifact, float, float, float]]:
        """A blend's parts: (artifact, weight, a, b); the blend's margin is
        sum(weight * (a * part margin + b)) — an average of Platt-calibrated logits."""
        if self.model_type != "blend":
            return []
        if self._parts is None:
            self._parts = [
                (ModelArtifact.from_dict(c["artifact"]), c["weight"], c["a"], c["b"])
                for c in self.model["components"]
            ]
        return self._parts

    @property
    def uses_trees(self) -> bool:
        """XGBoost, or a blend with an XGBoost part (exact vs approximate reasons matter)."""
        return self.model_type == "xgboost" or any(p.uses_trees for p, *_ in self.components)

    def source_columns(self) -> list[str]:
        """The input column behind each of :attr:`feature_names`."""
        if self.model_type == "blend":
            return [c for p, *_ in self.components for c in p.source_columns()]
        return self.preprocessor.source_columns()

    def booster(self) -> xgb.Booster:
        if self._booster is None:
            booster = xgb.Booster()
            booster.load_model(bytearray(self.model["booster_json"], "utf-8"))
            booster.set_param({"nthread": int(self.params.get("n_jobs", 2))})
            self._booster = booster
        return self._booster

    def _margin_from_matrix(self, x: np.ndarray) -> np.ndarray:
        if self.model_type == "mlp":
            return mlp.margin(x, self.model)
        if self.model_type == "logistic_regression":
            coef = np.asarray(self.model["coef"], dtype=np.float64)
            return x @ coef + float(self.model["intercept"])
        # inplace_predict: no DMatrix copy of the matrix (the same trees, the same margins)
        margin = self.booster().inplace_predict(x, predict_type="margin", missing=np.nan)
        return np.asarray(margin, dtype=np.float64)

    def predict(self, table: pa.Table) -> Prediction:
        """Probabilities, margins and unknown-category counts for every row of ``table``."""
        if self.model_type == "blend":
            parts = [(p.predict(table), w, a, b) for p, w, a, b in self.components]
            margin = sum(w * (a * pred.margin + b) for pred, w, a, b in parts)
            return Prediction(self.calibrator.apply(margin), margin, parts[0][0].unknown_counts)
        t = self.preprocessor.transform(table)
        margin = self._margin_from_matrix(t.matrix)
        return Prediction(self.calibrator.apply(margin), margin, t.unknown_counts)

    def predict_proba(self, table: pa.Table) -> np.ndarray:
        """Calibrated conversion probability of every row."""
        return self.predict(table).probability

    def raw_margin(self, table: pa.Table) -> np.ndarray:
        """Uncalibrated model output on the logit scale."""
        if self.model_type == "blend":
            return self.predict(table).margin
        return self._margin_from_matrix(self.preprocessor.transform(table).matrix)

    def contributions(
        self, table: pa.Table, approximate: bool = False
    ) -> tuple[np.ndarray, list[str]]:
        """Per-row additive contributions to the raw margin: [n, n_features + 1], the last
        column being the bias/intercept; each row sums to :meth:`raw_margin`. XGBoost:
        TreeSHAP (``pred_contribs``), or with ``approximate`` Saabas' path attribution
        (``approx_contribs``: 6-13x faster in the benchmarks, also additive, but it credits
        features by where they sit in the trees); LR: coef x transformed value (exact either
        way); MLP: integrated gradients (``leadscore.mlp``); blend: its parts' contributions
        scaled by weight x Platt slope, side by side (the bias column also holds the offsets)."""
        if self.model_type == "blend":
            e = self.explain(table, approximate)
            return e.contributions, e.names
        return self._contributions_from_matrix(
            self.preprocessor.transform(table).matrix, approximate
        )

    def _contributions_from_matrix(
        self, x: np.ndarray, approximate: bool = False
    ) -> tuple[np.ndarray, list[str]]:
        names = self.feature_names
        if self.model_type == "mlp":
            return mlp.contributions(x, self.model), [*names, "(bias)"]
        if self.model_type == "logistic_regression":
            coef = np.asarray(self.model["coef"], dtype=np.float64)
            contrib = np.empty((x.shape[0], x.shape[1] + 1))
            contrib[:, :-1] = x * coef
            contrib[:, -1] = float(self.model["intercept"])
            return contrib, [*names, "(intercept)"]
        dm = xgb.DMatrix(x, missing=np.nan, nthread=int(self.params.get("n_jobs", 2)))
        contrib = self.booster().predict(dm, pred_contribs=True, approx_contribs=approximate)
        contrib = contrib.astype(np.float64)
        return contrib, [*names, "(bias)"]

    def explain(self, table: pa.Table, approximate: bool = False) -> Explanation:
        """Prediction and contributions of every row from one transformation of ``table``
        (``approximate``: see :meth:`contributions`)."""
        if self.model_type == "blend":
            return self._explain_blend(table, approximate)
        t = self.preprocessor.transform(table)
        contrib, names = self._contributions_from_matrix(t.matrix, approximate)
        margin = self._margin_from_matrix(t.matrix)
        unknown = {
            col: t.matrix[:, j] == 1 for col, j in self.preprocessor.unknown_positions().items()
        }
        return Explanation(
            Prediction(self.calibrator.apply(margin), margin, t.unknown_counts),
            contrib,
            names,
            self.preprocessor.source_columns(),
            unknown,
        )

    def _explain_blend(self, table: pa.Table, approximate: bool) -> Explanation:
        parts = [(p.explain(table, approximate), w, a, b) for p, w, a, b in self.components]
        blocks = [e.contributions[:, :-1] * (w * a) for e, w, a, _ in parts]
        bias = sum(w * (a * e.contributions[:, -1] + b) for e, w, a, b in parts)
        sources = self.source_columns()
        # the parts' columns of one input side by side (reasons sum them per input column)
        rank = {src: i for i, src in enumerate(dict.fromkeys(sources))}
        perm = np.argsort([rank[src] for src in sources], kind="stable")
        contrib = np.column_stack([np.column_stack(blocks)[:, perm], bias])
        margin = sum(w * (a * e.prediction.margin + b) for e, w, a, b in parts)
        first = parts[0][0]
        names = self.feature_names
        return Explanation(
            Prediction(self.calibrator.apply(margin), margin, first.prediction.unknown_counts),
            contrib,
            [*(names[i] for i in perm), "(bias)"],
            [sources[i] for i in perm],
            first.unknown,
        )

    def feature_importance(self) -> dict[str, float]:
        """|coef| on the standardised scale (LR), total gain (XGBoost), weight-path magnitude
        (MLP) per feature; a blend lists its parts' (prefixed, scaled to shares x weight)."""
        names = self.feature_names
        if self.model_type == "blend":
            out: dict[str, float] = {}
            for part, weight, _, _ in self.components:
                raw = part.feature_importance()
                total = sum(raw.values()) or 1.0
                for name, value in raw.items():
                    out[f"{part.model_type}:{name}"] = weight * value / total
            return out
        if self.model_type == "mlp":
            return {n: float(v) for n, v in zip(names, mlp.importance(self.model), strict=True)}
        if self.model_type == "logistic_regression":
            return {n: abs(float(c)) for n, c in zip(names, self.model["coef"], strict=True)}
        gains = self.booster().get_score(importance_type="total_gain")
        return {names[int(k[1:])]: float(v) for k, v in gains.items()}

    def top_features(self, n: int = 20) -> list[dict[str, Any]]:
        ranked = sorted(self.feature_importance().items(), key=lambda kv: (-kv[1], kv[0]))
        kind = {"logistic_regression": "abs_coef", "xgboost": "total_gain"}.get(
            self.model_type, "share" if self.model_type == "blend" else "weight_path"
        )
        return [{"feature": k, "importance": v, "kind": kind} for k, v in ranked[:n] if v > 0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "name": self.name,
            "model_type": self.model_type,
            "preprocessor": self.preprocessor.to_dict(),
            "model": self.model,
            "calibrator": self.calibrator.to_dict(),
            "params": self.params,
            "threshold": self.threshold,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), allow_nan=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelArtifact:
        version = data.get("format_version")
        if version != ARTIFACT_FORMAT_VERSION:
            raise ValueError(
                f"model artifact format_version {version!r} is not supported (expected "
                f"{ARTIFACT_FORMAT_VERSION}); retrain the model with this leadscore version"
            )
        return cls(
            name=data["name"],
            model_type=data["model_type"],
            preprocessor=Preprocessor.from_dict(data["preprocessor"]),
            model=dict(data["model"]),
            calibrator=Calibrator.from_dict(data["calibrator"]),
            params=dict(data["params"]),
            threshold=float(data["threshold"]),
        )

    @classmethod
    def from_json(cls, text: str) -> ModelArtifact:
        return cls.from_dict(json.loads(text))


# --------------------------------------------------------------------------------------
# data checks and folds


def labels_of(table: pa.Table, split: str) -> np.ndarray:
    """0/1 float labels from is_converted; raises ValueError on a missing column or NULLs."""
    if LABEL not in table.column_names:
        raise ValueError(f"{split} lacks the label column {LABEL}; pass training_snapshots rows")
    col = table.column(LABEL)
    if col.null_count:
        raise ValueError(
            f"{split} has {col.null_count} rows with NULL {LABEL}; pass only labelled "
            "(matured) snapshots of the train/valid/test splits"
        )
    return pc.cast(col, pa.float64()).to_numpy().astype(np.float64)


def groups_of(table: pa.Table) -> np.ndarray | None:
    """lead_source as strings (NULL → '(unknown)'), or None without the column."""
    if GROUP not in table.column_names:
        return None
    col = pc.cast(table.column(GROUP), pa.string()).fill_null(UNKNOWN_GROUP)
    return np.asarray(col.to_pylist(), dtype=object)


def _times_of(table: pa.Table, split: str) -> np.ndarray:
    if TIME not in table.column_names:
        raise ValueError(f"{split} lacks column {TIME}, needed for the time-ordered folds")
    col = pc.cast(table.column(TIME), pa.timestamp("us"))
    return col.to_numpy().astype("datetime64[us]").astype(np.int64)


def check_enough_data(ys: Mapping[str, np.ndarray], min_training_conversions: int) -> None:
    """Raise InsufficientTrainingData when train has too few positives or any split has
    fewer than two classes (zero rows included)."""
    for split, y in ys.items():
        n, pos = int(y.size), int(y.sum())
        if n == 0:
            raise InsufficientTrainingData(
                f"the {split} split has no labelled rows; training needs train, valid and test "
                "splits with conversions in each, and the purged splits put an embargo of "
                "conversion_window_days before valid and before test, so they need more than "
                "three conversion windows of matured history (more history, a shorter var "
                "conversion_window_days, or a larger valid_fraction / smaller train_fraction)"
            )
        if pos == 0 or pos == n:
            raise InsufficientTrainingData(
                f"the {split} split has {pos} conversions among {n} labelled rows (a single "
                "class); calibration and evaluation need both classes — more history is needed"
            )
    pos_train = int(ys["train"].sum())
    if pos_train < min_training_conversions:
        raise InsufficientTrainingData(
            f"the train split has {pos_train} conversions among {ys['train'].size} rows, fewer "
            f"than var min_training_conversions = {min_training_conversions}; scoring falls "
            "back to the rule score until more conversions mature (or lower the var)"
        )


Fold = tuple[int, np.ndarray]
US_PER_DAY = 86_400_000_000
MIN_FIT_DAYS = 28


def purged_time_folds(
    times: np.ndarray, firsts: np.ndarray, n_folds: int, embargo_days: int
) -> list[Fold]:
    """Purged, lead-disjoint expanding-window folds on rows sorted by ``times`` (µs).

    ``firsts``: each row's lead's first snapshot time, which puts the whole lead in one block.
    The leads that can be judged (first snapshot at least ``embargo_days`` +
    ``MIN_FIT_DAYS`` after the earliest row, so that something is left to fit on) are cut into
    ``n_folds`` blocks of about equal rows by first snapshot. Fold i evaluates the rows of the
    leads of block i and fits on the rows whose label window ends by the block's start:
    ``time + embargo <= cut`` — a prefix of the sorted rows (``fit_end``), never a lead of the
    block or a later one. Returns (fit_end, eval_rows) per non-empty fold."""
    n = times.size
    if n == 0:
        return []
    embargo = embargo_days * US_PER_DAY
    eligible = np.flatnonzero(firsts >= times.min() + embargo + MIN_FIT_DAYS * US_PER_DAY)
    if eligible.size == 0:
        return []
    order = eligible[np.argsort(firsts[eligible], kind="stable")]
    values = firsts[order]
    cuts = [values[0]]
    for i in range(1, n_folds):
        pos = round(i * values.size / n_folds)
        if 0 < pos < values.size and values[pos] > cuts[-1]:
            cuts.append(values[pos])
    cuts.append(np.iinfo(np.int64).max)
    folds = []
    for lo, hi in itertools.pairwise(cuts):
        rows = np.sort(order[(values >= lo) & (values < hi)])
        fit_end = int(np.searchsorted(times, lo - embargo, side="right"))
        if rows.size and fit_end:
            folds.append((fit_end, rows))
    return folds


def _usable_folds(folds: list[Fold], y: np.ndarray) -> list[Fold]:
    def two_classes(part: np.ndarray) -> bool:
        return part.size > 0 and 0 < part.sum() < part.size

    return [(a, rows) for a, rows in folds if two_classes(y[:a]) and two_classes(y[rows])]


def training_weights(table: pa.Table, scheme: str) -> np.ndarray:
    """Row weights of a fit, mean 1: ``lead`` gives every lead the same total weight (1 / its
    rows), so a lead open for 13 weekly snapshots does not count 13 times its first score;
    ``row`` weighs every snapshot alike (docs/decisions.md "Lead-balanced training")."""
    n = table.num_rows
    if scheme == "row" or "lead_id" not in table.column_names or n == 0:
        return np.ones(n)
    ids = np.asarray(pc.cast(table.column("lead_id"), pa.string()).to_pylist(), dtype=object)
    _, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
    w = 1.0 / counts[inverse]
    return w * (n / w.sum())


def firsts_of(table: pa.Table, times: np.ndarray) -> np.ndarray:
    """Each row's lead's first snapshot time (µs): column lead_first_snapshot_at when present,
    else the earliest snapshot_at of the lead_id among these rows (a row alone without it)."""
    if FIRST in table.column_names:
        col = pc.cast(table.column(FIRST), pa.timestamp("us"))
        return col.to_numpy(zero_copy_only=False).astype("datetime64[us]").astype(np.int64)
    if "lead_id" not in table.column_names:
        return times.copy()
    ids = np.asarray(pc.cast(table.column("lead_id"), pa.string()).to_pylist(), dtype=object)
    _, inverse = np.unique(ids, return_inverse=True)
    first = np.full(inverse.max() + 1 if inverse.size else 0, np.iinfo(np.int64).max)
    np.minimum.at(first, inverse, times)
    return first[inverse]


# --------------------------------------------------------------------------------------
# model fitting


def _selection_loss(y: np.ndarray, margin: np.ndarray, metric: str) -> float:
    """Lower is better: -PR-AUC, or log loss after a Platt fit on the same rows."""
    if metric == "pr_auc":
        return -float(m.pr_auc(y, margin) or 0.0)
    prob = fit_platt(margin, y).apply(margin)
    return float(m.log_loss(y, prob))


def _fit_lr(
    x: np.ndarray,
    y: np.ndarray,
    params: Mapping[str, Any],
    seed: int,
    weight: np.ndarray | None = None,
) -> LogisticRegression:
    model = LogisticRegression(
        C=float(params["C"]),
        class_weight="balanced" if params["class_weighting"] else None,
        solver="newton-cholesky",
        max_iter=LR_MAX_ITER,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, y, sample_weight=weight)
    return model


def _xgb_params(params: Mapping[str, Any], y: np.ndarray, config: TrainingConfig) -> dict:
    spw = float((y.size - y.sum()) / max(y.sum(), 1.0)) if params["class_weighting"] else 1.0
    return {
        "objective": "binary:logistic",
        "eval_metric": "logloss",
        "tree_method": "hist",
        "max_bin": XGB_MAX_BIN,
        "nthread": config.n_jobs,
        "seed": config.seed,
        "max_depth": int(params["max_depth"]),
        "eta": float(params["learning_rate"]),
        "min_child_weight": float(params["min_child_weight"]),
        "subsample": float(params["subsample"]),
        "colsample_bytree": float(params["colsample_bytree"]),
        "scale_pos_weight": spw,
        "verbosity": 0,
    }


@dataclass
class _Trial:
    params: dict[str, Any]
    loss: float
    seconds: float
    n_rounds: int | None = None
    fold_losses: list[float] = field(default_factory=list)

    def to_dict(self, metric: str) -> dict[str, Any]:
        sign = -1.0 if metric == "pr_auc" else 1.0
        out: dict[str, Any] = {
            "params": self.params,
            f"cv_{metric}": sign * self.loss,
            "fold_scores": [sign * v for v in self.fold_losses],
            "seconds": round(self.seconds, 3),
        }
        if self.n_rounds is not None:
            out["n_rounds"] = self.n_rounds
        return out


class _FoldData:
    """Fold slices of one family's train matrix (fit rows a prefix, evaluation rows an index),
    with XGBoost matrices built once."""

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        folds: list[Fold],
        n_jobs: int,
        weight: np.ndarray | None = None,
    ):
        self.x, self.y, self.folds, self.n_jobs = x, y, folds, n_jobs
        self.w = np.ones(y.size) if weight is None else weight
        self._dtrain: dict[int, xgb.QuantileDMatrix] = {}
        self._deval: dict[tuple[int, float], xgb.DMatrix] = {}
        self._xeval: dict[int, np.ndarray] = {}

    def x_eval(self, i: int) -> np.ndarray:
        if i not in self._xeval:
            self._xeval[i] = self.x[self.folds[i][1]]
        return self._xeval[i]

    def y_eval(self, i: int) -> np.ndarray:
        return self.y[self.folds[i][1]]

    def dtrain(self, i: int) -> xgb.QuantileDMatrix:
        if i not in self._dtrain:
            a, _ = self.folds[i]
            self._dtrain[i] = xgb.QuantileDMatrix(
                self.x[:a],
                label=self.y[:a],
                weight=self.w[:a],
                max_bin=XGB_MAX_BIN,
                nthread=self.n_jobs,
            )
        return self._dtrain[i]

    def deval(self, i: int, spw: float) -> xgb.DMatrix:
        key = (i, round(spw, 9))
        if key not in self._deval:
            y = self.y_eval(i)
            self._deval[key] = xgb.DMatrix(
                self.x_eval(i),
                label=y,
                weight=np.where(y == 1, spw, 1.0),
                missing=np.nan,
                nthread=self.n_jobs,
            )
        return self._deval[key]


def _cv_lr(data: _FoldData, params: dict[str, Any], config: TrainingConfig) -> _Trial:
    start = time.perf_counter()
    losses = []
    for i, (a, _) in enumerate(data.folds):
        model = _fit_lr(data.x[:a], data.y[:a], params, config.seed, data.w[:a])
        margin = model.decision_function(data.x_eval(i))
        losses.append(_selection_loss(data.y_eval(i), margin, config.selection_metric))
    return _Trial(params, float(np.mean(losses)), time.perf_counter() - start, None, losses)


def _cv_mlp(data: _FoldData, params: dict[str, Any], config: TrainingConfig) -> _Trial:
    start = time.perf_counter()
    losses = []
    for i, (a, _) in enumerate(data.folds):
        payload = mlp.fit_mlp(data.x[:a], data.y[:a], params, config.seed, data.w[:a])
        margin = mlp.margin(data.x_eval(i), payload)
        losses.append(_selection_loss(data.y_eval(i), margin, config.selection_metric))
    return _Trial(params, float(np.mean(losses)), time.perf_counter() - start, None, losses)


def _cv_xgb(data: _FoldData, params: dict[str, Any], config: TrainingConfig) -> _Trial:
    start = time.perf_counter()
    losses, rounds, sizes = [], [], []
    for i, (a, _) in enumerate(data.folds):
        xp = _xgb_params(params, data.y[:a], config)
        booster = xgb.train(
            xp,
            data.dtrain(i),
            num_boost_round=int(params["n_estimators"]),
            evals=[(data.deval(i, xp["scale_pos_weight"]), "valid")],
            early_stopping_rounds=config.early_stopping_rounds,
            verbose_eval=False,
        )
        best = int(booster.best_iteration) + 1
        margin = booster.predict(
            data.deval(i, xp["scale_pos_weight"]), output_margin=True, iteration_range=(0, best)
        )
        losses.append(_selection_loss(data.y_eval(i), margin, config.selection_metric))
        rounds.append(best)
        sizes.append(a)
    n_rounds = max(1, round(float(np.average(rounds, weights=sizes))))
    return _Trial(params, float(np.mean(losses)), time.perf_counter() - start, n_rounds, losses)


def _lr_settings(weighted: bool, n: int) -> list[dict[str, Any]]:
    return [{"C": c, "class_weighting": weighted} for c in LR_C_GRID[:n]]


def _xgb_settings(weighted: bool, n: int, seed: int) -> list[dict[str, Any]]:
    """The default, then distinct random grid points in a seeded order."""
    rng = np.random.default_rng(seed)
    settings = [{**XGB_DEFAULT, "class_weighting": weighted}]
    seen = {tuple(sorted(XGB_DEFAULT.items()))}
    for _ in range(50 * n):
        if len(settings) >= n:
            break
        s = {k: v[int(rng.integers(len(v)))] for k, v in XGB_GRID.items()}
        s = {k: (float(v) if isinstance(v, float) else int(v)) for k, v in s.items()}
        key = tuple(sorted(s.items()))
        if key not in seen:
            seen.add(key)
            settings.append({**s, "class_weighting": weighted})
    return settings


@dataclass
class _Candidate:
    name: str
    model_type: str
    trials: list[_Trial]
    seconds: float = 0.0

    @property
    def best(self) -> _Trial:
        return min(self.trials, key=lambda t: t.loss)  # first on ties: the default


def _search_family(
    model_type: str,
    data: _FoldData,
    config: TrainingConfig,
    deadline: float,
) -> list[_Candidate]:
    """Round-robin search over the family's variants (unweighted, weighted) until
    max_search_trials each or the deadline (the defaults are always tried)."""
    # the network has no class weighting in scikit-learn: one variant
    weighted = config.class_weight_variants and model_type != "mlp"
    variants = [False, True] if weighted else [False]
    suffix = {False: "", True: "_balanced"}
    cands, plans = [], []
    for w in variants:
        cands.append(_Candidate(model_type + suffix[w], model_type, []))
        if model_type == "logistic_regression":
            plans.append(_lr_settings(w, config.max_search_trials))
        elif model_type == "mlp":
            plans.append([dict(p) for p in mlp.MLP_GRID[: config.max_search_trials]])
        else:
            plans.append(_xgb_settings(w, config.max_search_trials, config.seed))
    if not data.folds:  # no usable fold: defaults only, without a score
        for cand, plan in zip(cands, plans, strict=True):
            rounds = XGB_FALLBACK_ROUNDS if model_type == "xgboost" else None
            cand.trials.append(_Trial(plan[0], 0.0, 0.0, rounds))
        return cands
    cv: Callable[[_FoldData, dict[str, Any], TrainingConfig], _Trial]
    cv = {"logistic_regression": _cv_lr, "mlp": _cv_mlp}.get(model_type, _cv_xgb)
    for t in range(max(len(p) for p in plans)):
        for cand, plan in zip(cands, plans, strict=True):
            if t >= len(plan) or (t > 0 and time.perf_counter() >= deadline):
                continue
            trial = cv(data, plan[t], config)
            cand.trials.append(trial)
            cand.seconds += trial.seconds
    return cands


def _fit_payload(
    model_type: str,
    trial: _Trial,
    x: np.ndarray,
    y: np.ndarray,
    config: TrainingConfig,
    weight: np.ndarray | None = None,
) -> tuple[dict[str, Any], dict[str, Any], float]:
    """Fit a setting (with the rounds its search found) on x, y → (model payload, params,
    seconds). Used for the fit on train and for both refits (before test, on everything)."""
    start = time.perf_counter()
    params: dict[str, Any] = {**trial.params, "n_jobs": config.n_jobs, "seed": config.seed}
    if model_type == "logistic_regression":
        model = _fit_lr(x, y, trial.params, config.seed, weight)
        payload = {
            "coef": [float(v) for v in model.coef_[0]],
            "intercept": float(model.intercept_[0]),
        }
        params.update(solver="newton-cholesky", n_iter=int(model.n_iter_[0]))
    elif model_type == "mlp":
        payload = mlp.fit_mlp(x, y, trial.params, config.seed, weight)
        params.update(n_iter=payload.pop("n_iter"))
    else:
        xp = _xgb_params(trial.params, y, config)
        n_rounds = int(trial.n_rounds or XGB_FALLBACK_ROUNDS)
        dtrain = xgb.QuantileDMatrix(
            x, label=y, weight=weight, max_bin=XGB_MAX_BIN, nthread=config.n_jobs
        )
        booster = xgb.train(xp, dtrain, num_boost_round=n_rounds, verbose_eval=False)
        payload = {"booster_json": booster.save_raw("json").decode("utf-8")}
        params.update(n_rounds=n_rounds, scale_pos_weight=xp["scale_pos_weight"])
    return payload, params, time.perf_counter() - start


# --------------------------------------------------------------------------------------
# report


@dataclass
class TrainingReport:
    """Everything :func:`train_candidates` learned; ``to_dict()`` is JSON-able.

    candidates: one dict per ML candidate and baseline — name, model_type, params,
    class_weighting, calibration, threshold, valid_selection_score, metrics (test overall),
    metrics_valid, metrics_by_lead_source (test), curves (test ROC and precision-recall
    points of the ranking score, :func:`curve_points`), train_seconds, search_seconds, search
    (every tried setting with its CV score and time), metrics_by_population (test, per
    ``leadscore.populations``). chosen: the name of the candidate with the best valid score
    on ``population``; evaluation_artifact: it as fitted on train and calibrated on valid
    (out of sample on valid and test: holdout predictions use it); gate_artifact: the same
    setting refitted on every matured row before the test window and calibrated on test —
    the reported figures (:meth:`reported`) and the champion gate use it; artifact: the
    deployed model, refitted on every matured row with that calibration (all three are the
    evaluation artifact with ``refit`` off); artifacts: every candidate's train fit.
    """

    candidates: list[dict[str, Any]]
    chosen: str
    artifact: ModelArtifact
    splits: dict[str, dict[str, Any]]
    features: list[str]
    feature_spec: dict[str, Any]
    top_features: list[dict[str, Any]]
    selection_metric: str
    search_seconds: float
    total_seconds: float
    config: dict[str, Any]
    artifacts: dict[str, ModelArtifact] = field(default_factory=dict, repr=False)
    evaluation_artifact: ModelArtifact | None = field(default=None, repr=False)
    gate_artifact: ModelArtifact | None = field(default=None, repr=False)
    population: str = pops.ALL
    population_note: str | None = None
    refit: dict[str, Any] = field(default_factory=dict)
    n_folds: int = 0
    searched_on: str = ""
    choice: dict[str, Any] = field(default_factory=dict)

    def reported(self) -> dict[str, Any]:
        """The candidate entry whose test figures the registry reports: the refit before
        test when there is one, else the chosen candidate."""
        name = f"{self.chosen}_refit"
        return next((c for c in self.candidates if c["name"] == name), self.candidate(self.chosen))

    def candidate(self, name: str) -> dict[str, Any]:
        for c in self.candidates:
            if c["name"] == name:
                return c
        raise KeyError(f"no candidate {name!r}; have {[c['name'] for c in self.candidates]}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "chosen": self.chosen,
            "selection_metric": self.selection_metric,
            "candidates": self.candidates,
            "splits": self.splits,
            "features": self.features,
            "feature_spec": self.feature_spec,
            "top_features": self.top_features,
            "search_seconds": self.search_seconds,
            "total_seconds": self.total_seconds,
            "config": self.config,
            "population": self.population,
            "population_note": self.population_note,
            "refit": self.refit,
            "n_folds": self.n_folds,
            "searched_on": self.searched_on,
            "choice": self.choice,
        }

    def summary(self) -> str:
        """A few lines per candidate with the test metrics, for logs."""
        lines = [
            f"chosen: {self.chosen} (on valid {self.selection_metric}, population "
            f"{self.population}; hyperparameters on {self.searched_on})"
        ]
        for c in self.candidates:
            lines.append(f"  {c['name']:<34} " + m.summarize(c["metrics"], REPORT_METRICS))
        return "\n".join(lines)


def _split_summary(table: pa.Table, y: np.ndarray) -> dict[str, Any]:
    out: dict[str, Any] = {"rows": int(y.size), "positives": int(y.sum())}
    out["positive_rate"] = float(y.mean()) if y.size else None
    if TIME in table.column_names and table.num_rows:
        lo, hi = pc.min_max(table.column(TIME)).values()
        out["min_snapshot_at"] = _iso(lo.as_py())
        out["max_snapshot_at"] = _iso(hi.as_py())
    return out


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def _evaluate_all(
    y: np.ndarray,
    prob: np.ndarray,
    score: np.ndarray,
    groups: np.ndarray | None,
    threshold: float,
    config: TrainingConfig,
) -> tuple[dict[str, Any], dict[str, Any]]:
    k, bins = config.precision_at_k_fraction, config.ece_bins
    overall = m.evaluate(y, prob, threshold, k, bins, score)
    by_group = (
        {} if groups is None else m.evaluate_by_group(y, prob, groups, threshold, k, bins, score)
    )
    return overall, by_group


def curve_points(
    y: np.ndarray, score: np.ndarray, max_points: int = CURVE_MAX_POINTS
) -> dict[str, dict[str, list[float]]]:
    """ROC (x: false positive rate, y: true positive rate) and precision-recall (x: recall,
    y: precision) curves of a ranking score, for charts: at most ``max_points`` points each,
    spread evenly along the curve with both ends kept, rounded to 4 decimals. The PR curve
    runs from the highest score to the lowest (sklearn's artificial end point at recall 0
    is dropped). ``y`` must hold both classes."""
    fpr, tpr, _ = roc_curve(y, score)
    precision, recall, _ = precision_recall_curve(y, score)
    return {
        "roc": _thinned(fpr, tpr, max_points),
        "pr": _thinned(recall[-2::-1], precision[-2::-1], max_points),
    }


def _thinned(x: np.ndarray, y: np.ndarray, max_points: int) -> dict[str, list[float]]:
    keep = np.unique(np.linspace(0, x.size - 1, min(max_points, x.size)).round().astype(int))
    return {"x": [round(float(v), 4) for v in x[keep]], "y": [round(float(v), 4) for v in y[keep]]}


def _check_baselines(
    baseline_scores: Mapping[str, tuple[np.ndarray, np.ndarray]] | None, n_valid: int, n_test: int
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for name, pair in (baseline_scores or {}).items():
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise ValueError(
                f"baseline_scores[{name!r}] must be a pair (valid_scores, test_scores) aligned "
                "with the valid and test tables"
            )
        valid, test = (np.asarray(a, dtype=np.float64).ravel() for a in pair)
        for split, arr, n in (("valid", valid, n_valid), ("test", test, n_test)):
            if arr.size != n:
                raise ValueError(
                    f"baseline {name!r} has {arr.size} {split} scores but the {split} table has "
                    f"{n} rows; align the scores with the table rows (join on lead_id, snapshot_at)"
                )
            if not np.isfinite(arr).all():
                raise ValueError(
                    f"baseline {name!r} has {int((~np.isfinite(arr)).sum())} missing/non-finite "
                    f"{split} scores; fill them (e.g. with the minimum score) before training"
                )
        out[name] = (valid, test)
    return out


def train_candidates(
    train: pa.Table,
    valid: pa.Table,
    test: pa.Table,
    config: TrainingConfig | None = None,
    baseline_scores: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    purged: pa.Table | None = None,
) -> TrainingReport:
    """Train, tune, calibrate and evaluate every candidate; return the report with the
    chosen model's artifact. Tables are training_snapshots rows of one split each (features,
    snapshot_at, is_converted, lead_source; lead_first_snapshot_at, snapshot_kind and
    lead_age_days when present). ``purged``: the matured rows of no split, used only by the
    refits. See the module docstring for the decisions.

    Raises InsufficientTrainingData when train has fewer than min_training_conversions
    positives or any split has a single class or no rows.

    BLAS/OpenMP pools are limited to config.n_jobs threads for the duration of the call."""
    config = config or TrainingConfig()
    with threadpool_limits(limits=config.n_jobs):
        return _train_candidates(train, valid, test, config, baseline_scores, purged)


MODES = {"logistic_regression": "linear", "xgboost": "tree", "mlp": "linear"}
SEARCH_SHARES = {"logistic_regression": 0.25, "mlp": 0.25, "xgboost": 0.5}
BLEND = "blend"


@dataclass
class _Judged:
    """A candidate artifact calibrated on valid and judged on valid and test."""

    art: ModelArtifact
    entry: dict[str, Any]
    selection: float
    margin_valid: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))


# among candidates whose valid score is within one bootstrap standard error of the best, the
# first of this order is chosen: the hedge between extrapolation and interactions first, then
# the model that extrapolates, then the rest (docs/decisions.md "Robust model choice")
PREFERENCE: tuple[str, ...] = (
    "blend",
    "logistic_regression",
    "logistic_regression_balanced",
    "xgboost",
    "xgboost_balanced",
    "mlp",
)
CHOICE_BOOTSTRAPS = 100
CHOICE_MAX_ROWS = 20_000


def choose_candidate(
    judged: Mapping[str, _Judged], y: np.ndarray, mask: np.ndarray, config: TrainingConfig
) -> tuple[str, dict[str, Any]]:
    """The candidate to deploy: the most preferred (PREFERENCE) among those whose valid
    selection loss is within one standard error of the best one's, the error being that of
    the paired difference over bootstrap resamples of the valid rows of the population
    (at most CHOICE_MAX_ROWS rows, CHOICE_BOOTSTRAPS resamples, seeded). Returns the name and
    what was decided, for the report."""
    best = min(judged, key=lambda n: judged[n].selection)  # first (LR) on ties
    rows = np.flatnonzero(mask)
    rng = np.random.default_rng(config.seed)
    if rows.size > CHOICE_MAX_ROWS:
        rows = np.sort(rng.choice(rows, CHOICE_MAX_ROWS, replace=False))
    losses = {n: [] for n in judged}
    for _ in range(CHOICE_BOOTSTRAPS):
        sample = rows[rng.integers(0, rows.size, rows.size)]
        ys = y[sample]
        if not 0 < ys.sum() < ys.size:
            continue
        for name, j in judged.items():
            losses[name].append(
                _selection_loss(ys, j.margin_valid[sample], config.selection_metric)
            )
    tied = []
    for name, j in judged.items():
        diff = np.asarray(losses[name]) - np.asarray(losses[best])
        se = float(diff.std()) if diff.size > 1 else 0.0
        if j.selection - judged[best].selection <= se:
            tied.append(name)
    rank = {name: i for i, name in enumerate(PREFERENCE)}
    chosen = min(tied, key=lambda n: (rank.get(n, len(rank)), judged[n].selection))
    return chosen, {
        "best_on_valid": best,
        "within_one_se": tied,
        "chosen": chosen,
        "rule": "most preferred within one bootstrap standard error of the best on valid",
    }


def _judge(
    art: ModelArtifact,
    tables: Mapping[str, pa.Table],
    ys: Mapping[str, np.ndarray],
    masks: Mapping[str, Mapping[str, np.ndarray]],
    population: str,
    groups_test: np.ndarray | None,
    config: TrainingConfig,
) -> _Judged:
    """Calibrate on valid, pick the F1 threshold on valid, score valid (selection on the
    chosen population) and test (overall, by lead_source, by population)."""
    margin_valid = art.raw_margin(tables["valid"])
    method = choose_calibration(
        config.calibration, ys["valid"], config.isotonic_min_rows, config.isotonic_min_positives
    )
    art.calibrator = fit_calibrator(margin_valid, ys["valid"], method)
    prob_valid = art.calibrator.apply(margin_valid)
    art.threshold = m.best_f1_threshold(ys["valid"], prob_valid)
    pred_test = art.predict(tables["test"])
    metrics, by_group = _evaluate_all(
        ys["test"], pred_test.probability, pred_test.margin, groups_test, art.threshold, config
    )
    metrics_valid, _ = _evaluate_all(
        ys["valid"], prob_valid, margin_valid, None, art.threshold, config
    )
    sel = masks["valid"][population]
    selection = _selection_loss(ys["valid"][sel], margin_valid[sel], config.selection_metric)
    margin_kept = margin_valid
    entry = {
        "name": art.name,
        "model_type": art.model_type,
        "params": art.params,
        "class_weighting": bool(art.params.get("class_weighting", False)),
        "calibration": art.calibrator.method,
        "threshold": art.threshold,
        "valid_selection_score": _score_of(selection, config.selection_metric),
        "metrics": metrics,
        "metrics_valid": metrics_valid,
        "metrics_by_lead_source": by_group,
        "metrics_by_population": _by_population(
            ys["test"], pred_test.probability, pred_test.margin, masks["test"], art, config
        ),
        "metrics_valid_by_population": _by_population(
            ys["valid"], prob_valid, margin_valid, masks["valid"], art, config
        ),
        "curves": curve_points(ys["test"], pred_test.margin),
        "top_features": art.top_features(config.top_n_features),
        "unknown_category_rows_test": pred_test.unknown_counts,
    }
    return _Judged(art, entry, selection, margin_kept)


def _by_population(
    y: np.ndarray,
    prob: np.ndarray,
    score: np.ndarray,
    masks: Mapping[str, np.ndarray],
    art: ModelArtifact | None,
    config: TrainingConfig,
) -> dict[str, Any]:
    threshold = art.threshold if art is not None else 0.5
    k, bins = config.precision_at_k_fraction, config.ece_bins
    return {
        name: m.evaluate(y[mask], prob[mask], threshold, k, bins, score[mask])
        for name, mask in masks.items()
        if mask.any()
    }


def _blend_of(parts: list[_Judged], tables: Mapping[str, pa.Table], ys: Mapping) -> ModelArtifact:
    """The average of the parts' logits after a Platt fit of each on valid: a model that
    extrapolates (logistic regression) hedged with one that does not (trees)."""
    components = []
    for part in parts:
        cal = fit_platt(part.art.raw_margin(tables["valid"]), ys["valid"])
        components.append(
            {"artifact": part.art.to_dict(), "weight": 1.0 / len(parts), "a": cal.a, "b": cal.b}
        )
    params = {"parts": [p.art.name for p in parts], "class_weighting": False}
    first = parts[0].art
    return ModelArtifact(
        BLEND,
        BLEND,
        first.preprocessor,
        {"components": components},
        Calibrator("platt"),
        params,
        0.5,
    )


def _train_candidates(
    train: pa.Table,
    valid: pa.Table,
    test: pa.Table,
    config: TrainingConfig,
    baseline_scores: Mapping[str, tuple[np.ndarray, np.ndarray]] | None,
    purged: pa.Table | None,
) -> TrainingReport:
    started = time.perf_counter()
    baselines = _check_baselines(baseline_scores, valid.num_rows, test.num_rows)
    # the warehouse returns rows in no fixed order; the same rows must make the same model
    # (baseline scores follow their rows)
    order_valid, order_test = _fixed_order(valid), _fixed_order(test)
    valid, test = valid.take(order_valid), test.take(order_test)
    baselines = {n: (v[order_valid], t[order_test]) for n, (v, t) in baselines.items()}
    train = train.take(_fixed_order(train))
    purged = None if purged is None else purged.take(_fixed_order(purged))
    tables = {"train": train, "valid": valid, "test": test}
    ys = {split: labels_of(t, split) for split, t in tables.items()}
    check_enough_data(ys, config.min_training_conversions)

    order = np.argsort(_times_of(train, "train"), kind="stable")
    train = train.take(pa.array(order))
    tables["train"] = train
    times, y_train = _times_of(train, "train"), ys["train"][order]
    ys["train"] = y_train
    w_train = training_weights(train, config.training_weights)
    folds = _usable_folds(
        purged_time_folds(
            times, firsts_of(train, times), config.n_time_folds, config.conversion_window_days
        ),
        y_train,
    )

    spec = FeatureSpec.from_schema(train.schema, config.exclude_features)
    if not spec.columns:
        raise ValueError(
            "no feature columns left after exclusions; check var exclude_features and the "
            f"table columns ({', '.join(train.column_names)})"
        )
    groups_test = groups_of(test)
    masks = {s: pops.population_masks(tables[s]) for s in ("valid", "test")}
    population, population_note = pops.usable_population(
        config.evaluation_population, masks["valid"], ys["valid"], config.min_population_positives
    )

    search_start = time.perf_counter()
    total_share = sum(SEARCH_SHARES[t] for t in config.model_types)
    spent = 0.0
    fitted: list[tuple[_Candidate, Preprocessor, np.ndarray]] = []
    for model_type in config.model_types:
        pre = fit_preprocessor(
            train, spec, MODES[model_type], config.min_category_count, config.max_categories
        )
        x_train = pre.transform(train).matrix
        spent += SEARCH_SHARES[model_type] / total_share
        deadline = search_start + spent * config.search_budget_seconds
        if folds:
            data = _FoldData(x_train, y_train, folds, config.n_jobs, w_train)
        else:
            # no purged fold fits in train (history shorter than two windows): tune on valid,
            # whose leads and label windows are purged from train by construction
            n = x_train.shape[0]
            x_both = np.vstack([x_train, pre.transform(valid).matrix])
            y_both = np.concatenate([y_train, ys["valid"]])
            w_both = np.concatenate([w_train, np.ones(valid.num_rows)])
            folds_valid = [(n, np.arange(n, x_both.shape[0]))]
            data = _FoldData(x_both, y_both, folds_valid, config.n_jobs, w_both)
        for cand in _search_family(model_type, data, config, deadline):
            fitted.append((cand, pre, x_train))
    search_seconds = time.perf_counter() - search_start

    judged: dict[str, _Judged] = {}
    settings: dict[str, tuple[str, _Trial]] = {}
    for cand, pre, x_train in fitted:
        payload, params, fit_seconds = _fit_payload(
            cand.model_type, cand.best, x_train, y_train, config, w_train
        )
        art = ModelArtifact(
            cand.name, cand.model_type, pre, payload, Calibrator("platt"), params, 0.5
        )
        j = _judge(art, tables, ys, masks, population, groups_test, config)
        j.entry["metrics"]["train_seconds"] = round(fit_seconds, 3)
        j.entry.update(
            train_seconds=round(fit_seconds, 3),
            search_seconds=round(cand.seconds, 3),
            search=[t.to_dict(config.selection_metric) for t in cand.trials],
        )
        judged[cand.name] = j
        settings[cand.name] = (cand.model_type, cand.best)

    best_of = {}
    for name, j in judged.items():
        family = j.art.model_type
        if family not in best_of or j.selection < judged[best_of[family]].selection:
            best_of[family] = name
    if config.blend and {"logistic_regression", "xgboost"} <= set(best_of):
        parts = [judged[best_of["logistic_regression"]], judged[best_of["xgboost"]]]
        blend = _judge(
            _blend_of(parts, tables, ys), tables, ys, masks, population, groups_test, config
        )
        blend.entry.update(train_seconds=None, search_seconds=None, search=[])
        judged[BLEND] = blend

    candidates = [j.entry for j in judged.values()]
    for name, (valid_scores, test_scores) in baselines.items():
        candidates.append(
            _baseline_candidate(name, valid_scores, test_scores, ys, masks, groups_test, config)
        )

    chosen, choice = choose_candidate(judged, ys["valid"], masks["valid"][population], config)
    evaluation = judged[chosen].art
    deployed, gate, refit = evaluation, evaluation, None
    if config.refit:
        refitter = _Refitter(spec, settings, evaluation, config)
        gate, deployed, refit = refitter.run(tables, ys, masks, purged, groups_test)
        if "candidate" in refit:
            candidates.append(refit["candidate"])
    return TrainingReport(
        candidates=candidates,
        chosen=chosen,
        artifact=deployed,
        splits={s: _split_summary(t, ys[s]) for s, t in tables.items()},
        features=list(spec.columns),
        feature_spec=spec.to_dict(),
        top_features=deployed.top_features(config.top_n_features),
        selection_metric=config.selection_metric,
        search_seconds=round(search_seconds, 3),
        total_seconds=round(time.perf_counter() - started, 3),
        config=_config_dict(config),
        artifacts={n: j.art for n, j in judged.items()},
        evaluation_artifact=evaluation,
        gate_artifact=gate,
        population=population,
        population_note=population_note,
        refit={k: v for k, v in (refit or {}).items() if k != "candidate"},
        n_folds=len(folds),
        searched_on="purged CV folds of train" if folds else "valid (no purged fold fits in train)",
        choice=choice,
    )


class _Refitter:
    """The chosen setting refitted (preprocessing included) on more matured rows: before the
    test window (judged and calibrated on test) and on every matured row (deployed)."""

    def __init__(
        self,
        spec: FeatureSpec,
        settings: Mapping[str, tuple[str, _Trial]],
        evaluation: ModelArtifact,
        config: TrainingConfig,
    ) -> None:
        self.spec, self.settings, self.evaluation, self.config = spec, settings, evaluation, config

    def fit(self, name: str, table: pa.Table) -> ModelArtifact:
        if name == BLEND:
            comps = [
                {**c, "artifact": self.fit(c["artifact"]["name"], table).to_dict()}
                for c in self.evaluation.model["components"]
            ]
            first = ModelArtifact.from_dict(comps[0]["artifact"])
            return ModelArtifact(
                BLEND,
                BLEND,
                first.preprocessor,
                {"components": comps},
                Calibrator("platt"),
                dict(self.evaluation.params),
                self.evaluation.threshold,
            )
        model_type, trial = self.settings[name]
        c = self.config
        pre = fit_preprocessor(
            table, self.spec, MODES[model_type], c.min_category_count, c.max_categories
        )
        y = labels_of(table, "refit")
        w = training_weights(table, c.training_weights)
        x = pre.transform(table).matrix
        payload, params, _ = _fit_payload(model_type, trial, x, y, c, w)
        return ModelArtifact(name, model_type, pre, payload, Calibrator("platt"), params, 0.5)

    def run(
        self,
        tables: Mapping[str, pa.Table],
        ys: Mapping[str, np.ndarray],
        masks: Mapping[str, Mapping[str, np.ndarray]],
        purged: pa.Table | None,
        groups_test: np.ndarray | None,
    ) -> tuple[ModelArtifact, ModelArtifact, dict[str, Any]]:
        c = self.config
        test = tables["test"]
        extra = [] if purged is None or not purged.num_rows else [purged]
        everything = pa.concat_tables([tables["train"], tables["valid"], test, *extra])
        test_from = int(_times_of(test, "test").min())
        before = _times_of(everything, "refit") + c.conversion_window_days * US_PER_DAY
        firsts = firsts_of(everything, _times_of(everything, "refit"))
        keep = (before <= test_from) & (firsts < test_from)
        pre_test = everything.filter(pa.array(keep))
        y_pre = labels_of(pre_test, "refit")
        if y_pre.sum() < c.min_training_conversions or y_pre.sum() == y_pre.size:
            note = (
                f"refit skipped: {int(y_pre.sum())} conversions among {y_pre.size} matured rows "
                f"whose label window ends before the test window (fewer than var "
                f"min_training_conversions = {c.min_training_conversions}); the model fitted "
                "on train and calibrated on valid is deployed"
            )
            return self.evaluation, self.evaluation, {"skipped": note}
        name = self.evaluation.name
        gate = self.fit(name, pre_test)
        margin = gate.raw_margin(test)
        method = choose_calibration(
            c.calibration, ys["test"], c.isotonic_min_rows, c.isotonic_min_positives
        )
        gate.calibrator = fit_calibrator(margin, ys["test"], method)
        gate.threshold = self.evaluation.threshold
        prob = gate.calibrator.apply(margin)
        metrics, by_group = _evaluate_all(ys["test"], prob, margin, groups_test, gate.threshold, c)
        deployed = self.fit(name, everything)
        deployed.calibrator, deployed.threshold = gate.calibrator, gate.threshold
        entry = {
            "name": f"{name}_refit",
            "model_type": "refit",
            "params": gate.params,
            "class_weighting": bool(gate.params.get("class_weighting", False)),
            "calibration": gate.calibrator.method,
            "threshold": gate.threshold,
            "valid_selection_score": None,
            "metrics": metrics,
            "metrics_valid": {},
            "metrics_by_lead_source": by_group,
            "metrics_by_population": _by_population(
                ys["test"], prob, margin, masks["test"], gate, c
            ),
            "curves": curve_points(ys["test"], margin),
            "train_seconds": None,
            "search_seconds": None,
            "search": [],
            "top_features": [],
        }
        info = {
            "pre_test_rows": pre_test.num_rows,
            "all_rows": everything.num_rows,
            "calibrated_on": "test",
            "candidate": entry,
        }
        return gate, deployed, info


def _fixed_order(table: pa.Table) -> np.ndarray:
    """Row indices sorting by (snapshot_at, lead_id) where the columns exist (stable)."""
    keys = [(c, "ascending") for c in (TIME, "lead_id") if c in table.column_names]
    if not keys:
        return np.arange(table.num_rows)
    return pc.sort_indices(table, sort_keys=keys).to_numpy()


def _score_of(loss: float, metric: str) -> float:
    return -loss if metric == "pr_auc" else loss


def _config_dict(config: TrainingConfig) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}


def _baseline_candidate(
    name: str,
    valid_scores: np.ndarray,
    test_scores: np.ndarray,
    ys: Mapping[str, np.ndarray],
    masks: Mapping[str, Mapping[str, np.ndarray]],
    groups_test: np.ndarray | None,
    config: TrainingConfig,
) -> dict[str, Any]:
    """A baseline score evaluated like the models: Platt + F1 threshold fitted on valid."""
    cal = fit_platt(valid_scores, ys["valid"])
    threshold = m.best_f1_threshold(ys["valid"], cal.apply(valid_scores))
    metrics, by_group = _evaluate_all(
        ys["test"], cal.apply(test_scores), test_scores, groups_test, threshold, config
    )
    metrics_valid, _ = _evaluate_all(
        ys["valid"], cal.apply(valid_scores), valid_scores, None, threshold, config
    )
    metrics["train_seconds"] = None
    return {
        "name": name,
        "model_type": "baseline",
        "params": {},
        "class_weighting": False,
        "calibration": "platt",
        "calibrator": cal.to_dict(),
        "threshold": threshold,
        "valid_selection_score": _score_of(
            _selection_loss(ys["valid"], valid_scores, config.selection_metric),
            config.selection_metric,
        ),
        "metrics": metrics,
        "metrics_valid": metrics_valid,
        "metrics_by_lead_source": by_group,
        "metrics_by_population": _by_population(
            ys["test"], cal.apply(test_scores), test_scores, masks["test"], None, config
        ),
        "curves": curve_points(ys["test"], test_scores),
        "train_seconds": None,
        "search_seconds": None,
        "search": [],
        "top_features": [],
    }
