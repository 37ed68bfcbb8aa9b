"""Typed configuration of model training, built once from dbt vars.

Configuration flows one way: dbt vars → :meth:`TrainingConfig.from_vars` → functions. No
function in the package reads vars or the environment on its own. Every field is also a dbt
var of the same name (unset or null → the default below), e.g.
``dbt build --vars '{search_budget_seconds: 120, calibration: platt}'``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

MODEL_TYPES: tuple[str, ...] = ("logistic_regression", "xgboost", "mlp")
POPULATIONS: tuple[str, ...] = (
    "all",
    "first_score",
    "age_0_7",
    "age_8_30",
    "age_31_90",
    "age_over_90",
)
CALIBRATION_METHODS: tuple[str, ...] = ("auto", "isotonic", "platt")
SELECTION_METRICS: tuple[str, ...] = ("pr_auc", "log_loss")


@dataclass(frozen=True)
class TrainingConfig:
    """All knobs of candidate training, calibration and evaluation.

    Attributes:
        seed: seed of every random choice (search order, XGBoost subsampling).
        exclude_features: feature columns never used by the models (besides the always
            excluded keys, labels and timestamps; see ``preprocess.ALWAYS_EXCLUDED``).
        min_category_count: a category seen in fewer train rows is bucketed as rare (one
            shared column ``<col>=(rare)``).
        max_categories: at most this many most frequent categories per column get their own
            column; the rest are bucketed as rare.
        min_training_conversions: fewer positive train rows than this → no model is trained
            (``InsufficientTrainingData``); the caller falls back to the rule score.
        n_time_folds: expanding-window, time-ordered folds on train for the search.
        search_budget_seconds: wall-clock budget of the hyperparameter search over all
            candidates: no new setting is started once it is spent, but the default setting
            of every candidate is always tried (at 20k demo leads the defaults alone take
            ~25 s on one thread, so the default budget adds a few LR settings only; raise it
            to let XGBoost try more).
        max_search_trials: at most this many settings per candidate (also keeps the search
            deterministic on small data, where the budget is never reached).
        calibration: ``isotonic`` | ``platt`` | ``auto`` (isotonic when valid has at least
            ``isotonic_min_rows`` rows and ``isotonic_min_positives`` positives, else Platt).
        isotonic_min_rows / isotonic_min_positives: thresholds of ``auto``.
        selection_metric: how the ML candidate is chosen on valid: ``pr_auc`` (average
            precision of the model's ranking) or ``log_loss`` (after a Platt fit on valid).
        model_types: model families to train (``logistic_regression``, ``xgboost``).
        class_weight_variants: also train each family with class weighting
            (``class_weight='balanced'`` / ``scale_pos_weight``) and report both.
        precision_at_k_fraction: k of precision@k as a fraction of the evaluated rows.
        ece_bins: equal-frequency bins of the expected calibration error.
        early_stopping_rounds: XGBoost rounds without improvement before stopping.
        n_jobs: threads for XGBoost and BLAS during training. Default 1: with OpenMP's
            default (active) wait policy, 2 threads on a 2-core machine that is also busy
            with dbt's other threads run several times slower than 1; set 2 together with
            env OMP_WAIT_POLICY=PASSIVE.
        top_n_features: features listed in the report's top features.
        max_rows_per_split: at most this many labelled snapshots of each split are read for
            training and evaluation (a deterministic hash sample; the base rate is kept),
            so memory stays bounded on large CRMs.
        conversion_window_days: the label window, also the embargo of the purged CV folds
            (a fit row's label window ends before the evaluated leads' first snapshot).
        evaluation_population: the rows model choice and the champion gate judge on
            (``leadscore.populations``): ``first_score`` (default: the score that routes a
            new lead to sales), ``all`` snapshots, or an age band ``age_0_7`` …
        min_population_positives: fewer valid conversions in that population → ``all``.
        blend: also offer the blend of the best logistic regression and the best XGBoost
            (the average of their Platt-calibrated logits on valid).
        refit: after choosing, refit the chosen setting on every matured row before the
            test window (judged and calibrated on test: the figures the registry reports),
            then on every matured row (the deployed model, with that calibration).
        training_weights: ``row`` (every snapshot alike; default) or ``lead`` (every lead
            the same total weight in a fit: 1 / its snapshots; docs/decisions.md).
    """

    seed: int = 42
    exclude_features: tuple[str, ...] = ()
    min_category_count: int = 20
    max_categories: int = 50
    min_training_conversions: int = 50
    n_time_folds: int = 3
    search_budget_seconds: float = 20.0
    max_search_trials: int = 12
    calibration: str = "auto"
    isotonic_min_rows: int = 1000
    isotonic_min_positives: int = 50
    selection_metric: str = "pr_auc"
    model_types: tuple[str, ...] = MODEL_TYPES
    class_weight_variants: bool = True
    precision_at_k_fraction: float = 0.1
    ece_bins: int = 10
    early_stopping_rounds: int = 30
    n_jobs: int = 1
    top_n_features: int = 20
    max_rows_per_split: int = 200_000
    conversion_window_days: int = 90
    evaluation_population: str = "first_score"
    min_population_positives: int = 20
    blend: bool = True
    refit: bool = True
    training_weights: str = "row"

    def __post_init__(self) -> None:
        for f in fields(self):
            _validate(f.name, getattr(self, f.name))

    @classmethod
    def from_vars(cls, mapping: Mapping[str, Any]) -> TrainingConfig:
        """Build a config from dbt vars (or any mapping): keys are the field names, unknown
        keys are ignored (the mapping may hold all of the project's vars), a missing or null
        value keeps the default. Raises ValueError naming the var and the fix."""
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in mapping or mapping[f.name] is None:
                continue
            kwargs[f.name] = _coerce(f.name, mapping[f.name])
        return cls(**kwargs)


_INT_RANGES: dict[str, tuple[int, int | None]] = {
    "seed": (0, None),
    "min_category_count": (1, None),
    "max_categories": (1, None),
    "min_training_conversions": (1, None),
    "n_time_folds": (1, 20),
    "max_search_trials": (1, None),
    "isotonic_min_rows": (1, None),
    "isotonic_min_positives": (1, None),
    "ece_bins": (1, 1000),
    "early_stopping_rounds": (1, None),
    "n_jobs": (1, 256),
    "top_n_features": (1, None),
    "max_rows_per_split": (100, None),
    "conversion_window_days": (1, None),
    "min_population_positives": (1, None),
}
_CHOICES: dict[str, tuple[str, ...]] = {
    "calibration": CALIBRATION_METHODS,
    "selection_metric": SELECTION_METRICS,
    "evaluation_population": POPULATIONS,
    "training_weights": ("lead", "row"),
}


def _fix(name: str, example: str) -> str:
    return f"set it in dbt_project.yml vars or with --vars '{{{name}: {example}}}'"


def _default_of(name: str) -> str:
    value = TrainingConfig.__dataclass_fields__[name].default
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _coerce(name: str, value: Any) -> Any:
    """dbt vars arrive as YAML/JSON scalars or lists; turn lists into tuples and
    comma-separated strings into tuples for the tuple fields."""
    if name in ("exclude_features", "model_types"):
        if isinstance(value, str):
            return tuple(v.strip() for v in value.split(",") if v.strip())
        if isinstance(value, list | tuple):
            return tuple(value)
    return value


def _validate(name: str, value: Any) -> None:
    if name in _INT_RANGES:
        lo, hi = _INT_RANGES[name]
        bound = f">= {lo}" if hi is None else f"between {lo} and {hi}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(
                f"var {name} must be a whole number {bound}, got {value!r}; "
                + _fix(name, _default_of(name))
            )
        if value < lo or (hi is not None and value > hi):
            raise ValueError(
                f"var {name} must be {bound}, got {value}; " + _fix(name, _default_of(name))
            )
    elif name in ("search_budget_seconds",):
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError(
                f"var {name} must be a number of seconds > 0, got {value!r}; "
                + _fix(name, _default_of(name))
            )
        if not math.isfinite(value):
            raise ValueError(
                f"var {name} must be finite, got {value!r}; " + _fix(name, _default_of(name))
            )
    elif name == "precision_at_k_fraction":
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            raise ValueError(
                f"var {name} must be a fraction in (0, 1], got {value!r}; "
                + _fix(name, _default_of(name))
            )
    elif name in _CHOICES:
        if value not in _CHOICES[name]:
            options = " | ".join(_CHOICES[name])
            raise ValueError(
                f"var {name} must be one of {options}, got {value!r}; "
                + _fix(name, _default_of(name))
            )
    elif name in ("class_weight_variants", "blend", "refit"):
        if not isinstance(value, bool):
            raise ValueError(
                f"var {name} must be true or false, got {value!r}; " + _fix(name, _default_of(name))
            )
    elif name == "exclude_features":
        if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError(
                f"var {name} must be a list of column names, got {value!r}; "
                + _fix(name, "[country, created_hour]")
            )
    elif name == "model_types":
        bad = [v for v in value if v not in MODEL_TYPES] if isinstance(value, tuple) else value
        if not isinstance(value, tuple) or bad or not value:
            raise ValueError(
                f"var {name} must be a non-empty list of {', '.join(MODEL_TYPES)}, "
                f"got {value!r}; " + _fix(name, _default_of(name))
            )
