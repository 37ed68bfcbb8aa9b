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
