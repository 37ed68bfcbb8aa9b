"""Model performance on matured cohorts: how the scores of past runs did once their
conversion window had passed.

``performance_rows`` is what the dbt Python model ``model_performance`` calls with the rows of
``int_matured_scores`` (one per lead and past scoring run, with the realised outcome) and the
test metrics of the registry versions. It returns one row per (as_of, model_version, segment,
metric[, decile]) — long format, like ``model_comparison``, so a dashboard filters instead of
reshaping.

Decisions
- Ranking metrics (ROC-AUC, PR-AUC, lift) use the probability; the rule fallback without a
  probability is ranked by its score. Probability metrics (Brier, log loss, ECE, calibration
  per decile) need a probability and are left out otherwise.
- The hot tier is judged as the run's call list: precision = share of hot leads that
  converted, recall = share of converters that were hot.
- Deciles are of the run's own ranking (decile 1 = the top 10 %); ties are broken by
  lead_id so the split is deterministic. Calibration per decile compares the mean predicted
  probability with the observed conversion rate.
- ``change_vs_test`` is relative: (value - the version's test value) / test value, for the
  metrics the registry stores on test (roc_auc, pr_auc, brier, log_loss, ece). A negative
  change in ROC-AUC is decay; the retrain recommendation reads it.
- A lead_source segment needs at least ``MIN_SEGMENT_ROWS`` rows; metrics undefined on a
  segment (one class) are NULL, never NaN.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore import metrics as m

MIN_SEGMENT_ROWS = 50
N_DECILES = 10
TEST_METRICS: tuple[str, ...] = ("roc_auc", "pr_auc", "brier", "log_loss", "ece")

PERFORMANCE_SCHEMA = pa.schema(
    [
        ("as_of", pa.timestamp("us")),
        ("model_version", pa.string()),
        ("segment", pa.string()),
        ("metric", pa.string()),
        ("decile", pa.int32()),
        ("value", pa.float64()),
        ("test_value", pa.float64()),
        ("change_vs_test", pa.float64()),
        ("n_leads", pa.int64()),
    ]
)


def registry_test_metrics(registry: pa.Table) -> dict[str, dict[str, float]]:
    """model_version → its test metrics (from metrics_json) for the TEST_METRICS."""
    out: dict[str, dict[str, float]] = {}
    for row in registry.select(["model_version", "metrics_json"]).to_pylist():
        if not row["metrics_json"]:
            continue
        stored = json.loads(row["metrics_json"])
        out[row["model_version"]] = {
            k: float(stored[k]) for k in TEST_METRICS if stored.get(k) is not None
        }
    return out


def _deciles(rank_score: np.ndarray, lead_ids: np.ndarray) -> np.ndarray:
    """1..N_DECILES by descending score (ties broken by lead_id)."""
    order = np.lexsort((lead_ids, -rank_score))
    decile = np.empty(rank_score.size, dtype=np.int32)
    decile[order] = np.arange(rank_score.size) * N_DECILES // max(rank_score.size, 1) + 1
    return decile


def _scalar_metrics(
    y: np.ndarray, prob: np.ndarray | None, rank_score: np.ndarray, hot: np.ndarray
) -> dict[str, float | None]:
    n_hot, n_pos = int(hot.sum()), int(y.sum())
    values: dict[str, float | None] = {
        "n_converted": float(n_pos),
        "conversion_rate": float(y.mean()) if y.size else None,
        "roc_auc": m.roc_auc(y, rank_score),
        "pr_auc": m.pr_auc(y, rank_score),
        "top_decile_lift": m.lift_at_fraction(y, rank_score, 0.1),
        "hot_precision": float(y[hot].mean()) if n_hot else None,
        "hot_recall": float(y[hot].sum() / n_pos) if n_pos else None,
    }
    if prob is not None:
        values.update(
            mean_predicted=float(prob.mean()) if prob.size else None,
            brier=m.brier_score(y, prob),
            log_loss=m.log_loss(y, prob),
            ece=m.expected_calibration_error(y, prob),
        )
    return values


def _group_rows(
    as_of: Any,
    version: str,
    segment: str,
    y: np.ndarray,
    prob: np.ndarray | None,
    rank_score: np.ndarray,
    hot: np.ndarray,
    lead_ids: np.ndarray,
    test: Mapping[str, float],
) -> list[dict[str, Any]]:
    base = {"as_of": as_of, "model_version": version, "segment": segment}
    rows = []
    for metric, value in _scalar_metrics(y, prob, rank_score, hot).items():
        reference = test.get(metric) if segment == "overall" else None
        change = None
        if value is not None and reference:
            change = (value - reference) / reference
        rows.append(
            {
                **base,
                "metric": metric,
                "decile": None,
                "value": value,
                "test_value": reference,
                "change_vs_test": change,
                "n_leads": int(y.size),
            }
        )
    if segment != "overall" or not y.size:
        return rows
    decile = _deciles(rank_score, lead_ids)
    rate = y.mean()
    for d in range(1, N_DECILES + 1):
        inside = decile == d
        if not inside.any():
            continue
        observed = float(y[inside].mean())
        per_decile = {
            "observed_rate": observed,
            "lift": observed / rate if rate > 0 else None,
        }
        if prob is not None:
            per_decile["mean_predicted"] = float(prob[inside].mean())
        for metric, value in per_decile.items():
            rows.append(
                {
                    **base,
                    "metric": metric,
                    "decile": d,
                    "value": value,
                    "test_value": None,
                    "change_vs_test": None,
                    "n_leads": int(inside.sum()),
                }
            )
    return rows


def performance_rows(scored: pa.Table, test_metrics: Mapping[str, Mapping[str, float]]) -> pa.Table:
    """Performance of every (as_of, model_version) run in ``scored`` (int_matured_scores:
    as_of, model_version, lead_id, lead_source, conversion_probability, score, tier,
    is_converted), overall and per lead_source (PERFORMANCE_SCHEMA)."""
    if scored.num_rows == 0:
        return PERFORMANCE_SCHEMA.empty_table()
    scored = scored.sort_by([("as_of", "ascending"), ("model_version", "ascending")])
    runs = pc.binary_join_element_wise(
        pc.cast(scored.column("as_of"), pa.string()), scored.column("model_version"), "|"
    ).to_numpy(zero_copy_only=False)
    boundaries = np.flatnonzero(runs[1:] != runs[:-1]) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [runs.size]])
    rows: list[dict[str, Any]] = []
    for start, end in zip(starts, ends, strict=True):
        run = scored.slice(start, end - start)
        as_of = run.column("as_of")[0].as_py()
        version = run.column("model_version")[0].as_py()
        y = pc.cast(run.column("is_converted"), pa.float64()).to_numpy(zero_copy_only=False)
        prob_col = run.column("conversion_probability")
        prob = (
            None
            if prob_col.null_count
            else pc.cast(prob_col, pa.float64()).to_numpy(zero_copy_only=False)
        )
        score = pc.cast(run.column("score"), pa.float64()).to_numpy(zero_copy_only=False)
        rank_score = score if prob is None else prob
        hot = pc.equal(run.column("tier"), "hot").to_numpy(zero_copy_only=False)
        lead_ids = run.column("lead_id").to_numpy(zero_copy_only=False)
        sources = pc.fill_null(run.column("lead_source"), "(unknown)").to_numpy(
            zero_copy_only=False
        )
        test = test_metrics.get(version, {})
        rows += _group_rows(as_of, version, "overall", y, prob, rank_score, hot, lead_ids, test)
        for source in sorted(set(sources)):
            inside = sources == source
            if inside.sum() < MIN_SEGMENT_ROWS:
                continue
            rows += _group_rows(
                as_of,
                version,
                f"lead_source={source}",
                y[inside],
                None if prob is None else prob[inside],
                rank_score[inside],
                hot[inside],
                lead_ids[inside],
                test,
            )
    return pa.Table.from_pylist(rows, schema=PERFORMANCE_SCHEMA)
