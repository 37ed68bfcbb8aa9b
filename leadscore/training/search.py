"""The hyperparameter search: purged time folds, the settings tried per family, cross-validated
trials within a time budget, and the final fit of a setting."""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xgboost as xgb
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from leadscore import metrics as m
from leadscore.config import TrainingConfig
from leadscore.training import mlp
from leadscore.training.calibration import fit_platt

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
US_PER_DAY = 86_400_000_000
MIN_FIT_DAYS = 28
Fold = tuple[int, np.ndarray]  # (rows fitted: a prefix of the time-sorted rows, rows scored)


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


MODES = {"logistic_regression": "linear", "xgboost": "tree", "mlp": "linear"}
SEARCH_SHARES = {"logistic_regression": 0.25, "mlp": 0.25, "xgboost": 0.5}
BLEND = "blend"


def _score_of(loss: float, metric: str) -> float:
    return -loss if metric == "pr_auc" else loss
