"""Typed configuration of model training, built once from dbt vars.

Configuration flows one way: dbt vars → :meth:`TrainingConfig.from_vars` → functions. No
function in the package reads vars or the environment on its own. Every field is the setting
of the same name in ``leadscore.settings`` (kind, bounds, default and doc live there, once);
most are dbt vars (unset or null → the default), e.g.
``dbt build --vars '{search_budget_seconds: 120, calibration: platt}'``; the others
(``seed``, ``n_time_folds`` …) are package knobs a Python caller sets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leadscore import settings
from leadscore.settings import check_fields, setting_field

MODEL_TYPES: tuple[str, ...] = settings.MODEL_TYPES
POPULATIONS: tuple[str, ...] = settings.setting("evaluation_population").choices
CALIBRATION_METHODS: tuple[str, ...] = settings.setting("calibration").choices
SELECTION_METRICS: tuple[str, ...] = settings.setting("selection_metric").choices


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
            ~25 s on one thread; raise it to let XGBoost try more).
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
            the same total weight in a fit: 1 / its snapshots; DECISIONS.md).
    """

    seed: int = setting_field("seed")
    exclude_features: tuple[str, ...] = setting_field("exclude_features")
    min_category_count: int = setting_field("min_category_count")
    max_categories: int = setting_field("max_categories")
    min_training_conversions: int = setting_field("min_training_conversions")
    n_time_folds: int = setting_field("n_time_folds")
    search_budget_seconds: float = setting_field("search_budget_seconds")
    max_search_trials: int = setting_field("max_search_trials")
    calibration: str = setting_field("calibration")
    isotonic_min_rows: int = setting_field("isotonic_min_rows")
    isotonic_min_positives: int = setting_field("isotonic_min_positives")
    selection_metric: str = setting_field("selection_metric")
    model_types: tuple[str, ...] = setting_field("model_types")
    class_weight_variants: bool = setting_field("class_weight_variants")
    precision_at_k_fraction: float = setting_field("precision_at_k_fraction")
    ece_bins: int = setting_field("ece_bins")
    early_stopping_rounds: int = setting_field("early_stopping_rounds")
    n_jobs: int = setting_field("n_jobs")
    top_n_features: int = setting_field("top_n_features")
    max_rows_per_split: int = setting_field("max_rows_per_split")
    conversion_window_days: int = setting_field("conversion_window_days")
    evaluation_population: str = setting_field("evaluation_population")
    min_population_positives: int = setting_field("min_population_positives")
    blend: bool = setting_field("blend")
    refit: bool = setting_field("refit")
    training_weights: str = setting_field("training_weights")

    def __post_init__(self) -> None:
        check_fields(self)

    @classmethod
    def from_vars(cls, mapping: Mapping[str, Any]) -> TrainingConfig:
        """Build a config from dbt vars (or any mapping): keys are the field names, unknown
        keys are ignored (the mapping may hold all of the project's vars), a missing or null
        value keeps the default. Raises ValueError naming the var and the fix."""
        return settings.from_vars(cls, mapping)
