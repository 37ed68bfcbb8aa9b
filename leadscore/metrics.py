"""Evaluation metrics of binary lead scores: pure functions on numpy arrays.

Conventions: ``y`` holds 0/1 labels; ``score`` is any ranking score (higher = more likely to
convert), ``prob`` a probability in [0, 1]. A metric that is undefined for the given rows (for
example ROC-AUC when every row has the same label, precision when nothing is predicted
positive) is returned as ``None``, never raised and never NaN, so reports by group do not crash.
Ranking metrics that look at the top of the ranking (lift, precision@k) break ties in the score
fairly: rows tied at the cut-off count with the fraction that falls inside it, i.e. the
expected value under random tie-breaking (rule scores are whole numbers with many ties).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

PROB_EPS = 1e-15


def _as_labels(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64).ravel()
    if y.size and not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("labels must be 0/1 (or booleans) without missing values")
    return y


def _has_both_classes(y: np.ndarray) -> bool:
    return y.size > 0 and 0 < y.sum() < y.size


def roc_auc(y: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve (ties count half); None when only one class is present."""
    y = _as_labels(y)
    if not _has_both_classes(y):
        return None
    return float(roc_auc_score(y, np.asarray(score, dtype=np.float64)))


def pr_auc(y: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the precision-recall curve as average precision (sklearn's step-wise
    definition, no interpolation); None when only one class is present."""
    y = _as_labels(y)
    if not _has_both_classes(y):
        return None
    return float(average_precision_score(y, np.asarray(score, dtype=np.float64)))


def log_loss(y: np.ndarray, prob: np.ndarray) -> float | None:
    """Mean negative log-likelihood (natural log) with probabilities clipped to
    [1e-15, 1 - 1e-15]; None for zero rows. Defined for a single class too."""
    y = _as_labels(y)
    if y.size == 0:
        return None
    p = np.clip(np.asarray(prob, dtype=np.float64), PROB_EPS, 1 - PROB_EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def brier_score(y: np.ndarray, prob: np.ndarray) -> float | None:
    """Mean squared error of the probability; None for zero rows."""
    y = _as_labels(y)
    if y.size == 0:
        return None
    return float(np.mean((np.asarray(prob, dtype=np.float64) - y) ** 2))


def precision_recall_f1(
    y: np.ndarray, prob: np.ndarray, threshold: float
) -> tuple[float | None, float | None, float | None]:
    """Precision, recall and F1 of the rule ``prob >= threshold``.

    Precision is None when no row is predicted positive, recall None when no row is
    positive; F1 is None when either is None and 0.0 when both are 0."""
    y = _as_labels(y)
    pred = np.asarray(prob, dtype=np.float64) >= threshold
    tp = float(np.sum(pred & (y == 1)))
    n_pred = int(pred.sum())
    n_pos = float(y.sum())
    precision = tp / n_pred if n_pred else None
    recall = tp / n_pos if n_pos else None
    if precision is None or recall is None:
        return precision, recall, None
    f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return precision, recall, f1


def best_f1_threshold(y: np.ndarray, prob: np.ndarray) -> float:
    """The threshold t maximising F1 of ``prob >= t`` (t is one of the observed values; the
    highest such t on ties). Returns 0.5 when there are no positives or no rows."""
    y = _as_labels(y)
    p = np.asarray(prob, dtype=np.float64)
    if y.size == 0 or y.sum() == 0:
        return 0.5
    order = np.argsort(-p, kind="stable")
    p_sorted, y_sorted = p[order], y[order]
    tp = np.cumsum(y_sorted)
    n_pred = np.arange(1, y.size + 1)
    # only cut between distinct values: the last index of each run of equal probabilities
    last_of_run = np.r_[p_sorted[1:] != p_sorted[:-1], True]
    tp, n_pred, cut = tp[last_of_run], n_pred[last_of_run], p_sorted[last_of_run]
    f1 = 2 * tp / (n_pred + y.sum())
    return float(cut[int(np.argmax(f1))])


def top_k_positives(y: np.ndarray, score: np.ndarray, k: float) -> float:
    """Expected number of positives among the k highest-scoring rows, ties at the cut-off
    broken at random (in expectation). k may be fractional; it is clipped to [0, n]."""
    y = _as_labels(y)
    s = np.asarray(score, dtype=np.float64)
    k = min(max(float(k), 0.0), float(y.size))
    if k == 0:
        return 0.0
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    idx = min(math.ceil(k) - 1, y.size - 1)
    cut = s_sorted[idx]
    above = s_sorted > cut
    tied = s_sorted == cut
    n_above = int(above.sum())
    n_tied = int(tied.sum())
    inside_from_tie = k - n_above
    return float(y_sorted[above].sum() + y_sorted[tied].sum() * inside_from_tie / n_tied)


def precision_at_k(y: np.ndarray, score: np.ndarray, k: int) -> float | None:
    """Share of positives among the k highest-scoring rows (tie-fair); None when k < 1 or
    there are no rows."""
    y = _as_labels(y)
    k = min(int(k), y.size)
    if k < 1:
        return None
    return top_k_positives(y, score, k) / k


def lift_at_fraction(y: np.ndarray, score: np.ndarray, fraction: float = 0.1) -> float | None:
    """Conversion rate among the top ``fraction`` of rows by score divided by the overall
    rate (top-decile lift for 0.1). A perfect ranking reaches min(1/fraction, 1/base rate);
    a random one 1. None when there are no rows or no positives."""
    y = _as_labels(y)
    if y.size == 0 or y.sum() == 0:
        return None
    k = fraction * y.size
    if k <= 0:
        return None
    return (top_k_positives(y, score, k) / k) / float(y.mean())


def expected_calibration_error(y: np.ndarray, prob: np.ndarray, n_bins: int = 10) -> float | None:
    """Expected calibration error over equal-frequency bins of the probability:
    sum over bins of (bin rows / rows) x |mean label - mean probability|.

    Rows are sorted by probability and cut into ``n_bins`` groups of (nearly) equal size, so
    every bin has data even when probabilities are concentrated. None for zero rows."""
    y = _as_labels(y)
    if y.size == 0:
        return None
    p = np.asarray(prob, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    total = 0.0
    for chunk in np.array_split(order, min(n_bins, y.size)):
        total += chunk.size * abs(float(y[chunk].mean()) - float(p[chunk].mean()))
    return total / y.size


def _labels_prob_rank(
    y: np.ndarray, prob: np.ndarray, score: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The labels, the probabilities and the ranking score (``score``, or ``prob`` when it
    is None) as float arrays, for :func:`evaluate` and :func:`evaluate_by_group`."""
    y = _as_labels(y)
    prob = np.asarray(prob, dtype=np.float64)
    return y, prob, prob if score is None else np.asarray(score, dtype=np.float64)


def evaluate(
    y: np.ndarray,
    prob: np.ndarray,
    threshold: float,
    k_fraction: float = 0.1,
    ece_bins: int = 10,
    score: np.ndarray | None = None,
) -> dict[str, float | int | None]:
    """All evaluation metrics of one set of rows as a JSON-able dict.

    prob: calibrated probabilities (for log loss, Brier, ECE and the thresholded metrics);
    score: the ranking score for ROC/PR-AUC, lift and precision@k (defaults to prob; pass the
    raw model margin so that ties introduced by isotonic calibration do not blur the ranking).
    precision@k uses k = max(1, round(k_fraction x rows))."""
    y, prob, rank = _labels_prob_rank(y, prob, score)
    precision, recall, f1 = precision_recall_f1(y, prob, threshold)
    k = max(1, round(k_fraction * y.size)) if y.size else 0
    return {
        "n_rows": int(y.size),
        "n_positives": int(y.sum()),
        "positive_rate": float(y.mean()) if y.size else None,
        "mean_probability": float(prob.mean()) if y.size else None,
        "roc_auc": roc_auc(y, rank),
        "pr_auc": pr_auc(y, rank),
        "log_loss": log_loss(y, prob),
        "brier": brier_score(y, prob),
        "ece": expected_calibration_error(y, prob, ece_bins),
        "threshold": float(threshold),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "top_decile_lift": lift_at_fraction(y, rank, 0.1),
        "precision_at_k": precision_at_k(y, rank, k),
        "k": int(k),
    }


def evaluate_by_group(
    y: np.ndarray,
    prob: np.ndarray,
    groups: np.ndarray,
    threshold: float,
    k_fraction: float = 0.1,
    ece_bins: int = 10,
    score: np.ndarray | None = None,
) -> dict[str, dict[str, float | int | None]]:
    """:func:`evaluate` for each distinct value of ``groups`` (strings), sorted by group.
    precision@k uses k = k_fraction of the group's rows."""
    groups = np.array([str(v) for v in np.asarray(groups, dtype=object)], dtype=object)
    y, prob, rank = _labels_prob_rank(y, prob, score)
    out: dict[str, dict[str, float | int | None]] = {}
    for g in sorted(set(groups)):
        mask = groups == g
        out[g] = evaluate(y[mask], prob[mask], threshold, k_fraction, ece_bins, rank[mask])
    return out


def summarize(metrics: Mapping[str, float | int | None], keys: tuple[str, ...]) -> str:
    """One line 'key=value' of selected metrics (None shown as '-'), for logs."""
    parts = []
    for key in keys:
        v = metrics.get(key)
        parts.append(
            f"{key}=" + ("-" if v is None else f"{v:.4f}" if isinstance(v, float) else f"{v}")
        )
    return " ".join(parts)
