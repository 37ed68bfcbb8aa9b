"""Evaluation of candidates: metrics on test (overall, by lead source, by population), curves,
baselines, the blend, and the choice of a candidate on valid."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from sklearn.metrics import precision_recall_curve, roc_curve

from leadscore import metrics as m
from leadscore.config import TrainingConfig
from leadscore.training.artifact import ModelArtifact
from leadscore.training.calibration import Calibrator, choose_calibration, fit_calibrator, fit_platt
from leadscore.training.search import BLEND, _score_of, _selection_loss

REPORT_METRICS: tuple[str, ...] = ("roc_auc", "pr_auc", "log_loss", "brier", "ece")
CURVE_MAX_POINTS = 101


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


@dataclass
class _Judged:
    """A candidate artifact calibrated on valid and judged on valid and test."""

    art: ModelArtifact
    entry: dict[str, Any]
    selection: float
    margin_valid: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))


# among candidates whose valid score is within one bootstrap standard error of the best, the
# first of this order is chosen: the hedge between extrapolation and interactions first, then
# the model that extrapolates, then the rest (DECISIONS.md "Robust model choice")
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
