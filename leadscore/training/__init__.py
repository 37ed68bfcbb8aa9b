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
per-feature contributions. Why: DECISIONS.md.

Modules: ``splits`` (labels, groups, times, weights), ``calibration``, ``artifact``
(ModelArtifact, JSON serialization), ``search`` (purged folds, hyperparameter search),
``evaluation`` (metrics, baselines, the blend, choose_candidate), ``refit``, ``train``
(train_candidates, TrainingReport), ``mlp`` (the small neural network).

How each step works (search, calibration, choice, baselines): docs/training-and-registry.md
"How training works"; why: DECISIONS.md.
"""

from leadscore.training import mlp
from leadscore.training.artifact import Explanation, ModelArtifact, Prediction
from leadscore.training.calibration import (
    Calibrator,
    choose_calibration,
    fit_calibrator,
    fit_isotonic,
    fit_platt,
)
from leadscore.training.evaluation import choose_candidate, curve_points
from leadscore.training.search import US_PER_DAY, purged_time_folds
from leadscore.training.splits import (
    InsufficientTrainingData,
    check_enough_data,
    labels_of,
    training_weights,
)
from leadscore.training.train import TrainingReport, train_candidates

__all__ = [
    "US_PER_DAY",
    "Calibrator",
    "Explanation",
    "InsufficientTrainingData",
    "ModelArtifact",
    "Prediction",
    "TrainingReport",
    "check_enough_data",
    "choose_calibration",
    "choose_candidate",
    "curve_points",
    "fit_calibrator",
    "fit_isotonic",
    "fit_platt",
    "labels_of",
    "mlp",
    "purged_time_folds",
    "train_candidates",
    "training_weights",
]
