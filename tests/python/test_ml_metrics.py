"""leadscore.metrics against scikit-learn and hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.metrics import log_loss as sk_log_loss

from leadscore import metrics as m


@pytest.fixture
def noisy() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.random(2000) < 0.15
    p = np.clip(0.1 + 0.4 * y + rng.normal(0, 0.2, 2000), 0.001, 0.999)
    return y, p


def test_ranking_and_probability_metrics_match_sklearn(noisy):
    y, p = noisy
    assert m.roc_auc(y, p) == pytest.approx(roc_auc_score(y, p))
    assert m.pr_auc(y, p) == pytest.approx(average_precision_score(y, p))
    assert m.log_loss(y, p) == pytest.approx(sk_log_loss(y, p))
    assert m.brier_score(y, p) == pytest.approx(brier_score_loss(y, p))
    precision, recall, f1 = m.precision_recall_f1(y, p, 0.3)
    assert precision == pytest.approx(precision_score(y, p >= 0.3))
    assert recall == pytest.approx(recall_score(y, p >= 0.3))
    assert f1 == pytest.approx(f1_score(y, p >= 0.3))


def test_best_f1_threshold_beats_every_other_cut(noisy):
    y, p = noisy
    best = m.best_f1_threshold(y, p)
    best_f1 = m.precision_recall_f1(y, p, best)[2]
    for t in np.quantile(p, np.linspace(0.01, 0.99, 60)):
        assert m.precision_recall_f1(y, p, t)[2] <= best_f1 + 1e-12


def test_lift_and_precision_at_k_of_perfect_and_random_rankings():
    y = np.zeros(1000, dtype=bool)
    y[:50] = True  # base rate 5 %
    perfect = -np.arange(1000.0)  # positives on top
    assert m.lift_at_fraction(y, perfect, 0.1) == pytest.approx(10.0)  # 50 of 100 / 0.05
    assert m.precision_at_k(y, perfect, 50) == pytest.approx(1.0)
    assert m.precision_at_k(y, perfect, 100) == pytest.approx(0.5)
    constant = np.ones(1000)  # one big tie: expected value of a random order
    assert m.lift_at_fraction(y, constant, 0.1) == pytest.approx(1.0)
    assert m.precision_at_k(y, constant, 100) == pytest.approx(0.05)


def test_ties_at_the_cut_count_fractionally():
    y = np.array([1, 0, 1, 0, 0, 0])
    score = np.array([3.0, 2.0, 2.0, 2.0, 2.0, 1.0])
    # top 3: the 3.0 row (positive) + 2 of the 4 rows tied at 2.0 (1 positive among them)
    assert m.top_k_positives(y, score, 3) == pytest.approx(1 + 1 * 2 / 4)


def test_ece_is_near_zero_for_calibrated_and_large_for_miscalibrated_data():
    rng = np.random.default_rng(1)
    p = rng.random(50_000)
    y = rng.random(50_000) < p
    assert m.expected_calibration_error(y, p) < 0.01
    assert m.expected_calibration_error(y, np.clip(p + 0.2, 0, 1)) > 0.15
    # hand value: two bins, |0 - 0.2| and |1 - 0.6| weighted equally
    assert m.expected_calibration_error(
        np.array([0, 0, 1, 1]), np.array([0.1, 0.3, 0.5, 0.7]), n_bins=2
    ) == pytest.approx(0.5 * 0.2 + 0.5 * 0.4)


def test_undefined_metrics_are_none_not_errors():
    y = np.zeros(10)
    p = np.linspace(0, 0.5, 10)
    assert m.roc_auc(y, p) is None
    assert m.pr_auc(y, p) is None
    assert m.lift_at_fraction(y, p) is None
    assert m.precision_recall_f1(y, p, 0.9) == (None, None, None)
    assert m.log_loss(y, p) is not None  # defined for a single class
    empty = m.evaluate(np.array([]), np.array([]), 0.5)
    assert empty["n_rows"] == 0 and empty["roc_auc"] is None and empty["log_loss"] is None


def test_evaluate_by_group_handles_single_class_groups(noisy):
    y, p = noisy
    groups = np.where(np.arange(y.size) < 1000, "a", "b").astype(object)
    y = y.copy()
    y[groups == "b"] = False
    out = m.evaluate_by_group(y, p, groups, threshold=0.3)
    assert set(out) == {"a", "b"}
    assert out["a"]["roc_auc"] == pytest.approx(roc_auc_score(y[:1000], p[:1000]))
    assert out["b"]["roc_auc"] is None and out["b"]["n_rows"] == 1000


def test_labels_must_be_binary():
    with pytest.raises(ValueError, match="0/1"):
        m.roc_auc(np.array([0, 2, 1]), np.array([0.1, 0.2, 0.3]))
