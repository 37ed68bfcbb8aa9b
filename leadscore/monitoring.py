"""Model performance on matured cohorts: how the scores of past runs did once their
conversion window had passed.

``performance_rows`` is what the dbt Python model ``model_performance`` calls (through
``performance_of_run``) with the rows of ``int_matured_scores`` (one per lead and past scoring
run, with the realised outcome) and the test metrics of the registry versions. It returns one
row per (as_of, model_version, segment, metric[, decile]) — long format, like
``model_comparison``, so a dashboard filters instead of reshaping: overall, per lead_source,
per lead-age band against the same band on test, and ``age_matched`` (the bands weighted by
the run's own age mix), which the retrain recommendation's decay check reads. Why by age:
DECISIONS.md, "Drift and performance compare like with like"; the columns are described in
docs/monitoring.md.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore import metrics as m
from leadscore.populations import AGE_BANDS, AGE_COLUMN, age_band_of

MIN_SEGMENT_ROWS = 50
N_DECILES = 10
TEST_METRICS: tuple[str, ...] = ("roc_auc", "pr_auc", "brier", "log_loss", "ece")
#: the registry's test metrics of the whole test split: metrics_json, key ``all`` of
#: metrics_by_population_json
ALL_POPULATION = "all"
#: lead age bands: (key of metrics_by_population_json, first and last whole day of age);
#: training evaluates its test split by the same bands (lead age at the snapshot)
AGE_BAND_SEGMENT = "age_band="
AGE_MATCHED_SEGMENT = "age_matched"
#: test_population of an age_matched row: the bands' own test values
AGE_BANDS_POPULATION = "age_bands"
REGISTRY_METRIC_COLUMNS: tuple[str, ...] = (
    "model_version",
    "metrics_json",
    "metrics_by_population_json",
)

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
        ("test_population", pa.string()),
    ]
)

#: metric -> (test value, the test population it was measured on)
References = Mapping[str, tuple[float, str]]


def registry_metric_columns(columns: Sequence[str]) -> list[str]:
    """The registry columns ``registry_test_metrics`` and ``registry_population_metrics``
    read, among ``columns`` (a registry written before metrics_by_population_json has no
    such column)."""
    return [c for c in REGISTRY_METRIC_COLUMNS if c in columns]


def _known_metrics(stored: Any) -> dict[str, float]:
    if not isinstance(stored, Mapping):
        return {}
    return {
        k: float(stored[k])
        for k in TEST_METRICS
        if isinstance(stored.get(k), int | float)
        and not isinstance(stored.get(k), bool)
        and math.isfinite(stored[k])
    }


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


def registry_population_metrics(registry: pa.Table) -> dict[str, dict[str, dict[str, float]]]:
    """model_version → test population (``all``, ``first_score``, the ``AGE_BANDS`` keys) →
    its test metrics (TEST_METRICS with a value), from metrics_by_population_json. Empty
    without that column (older registries); a population missing, not an object or with
    null metrics is left out."""
    if "metrics_by_population_json" not in registry.column_names:
        return {}
    out: dict[str, dict[str, dict[str, float]]] = {}
    for row in registry.select(["model_version", "metrics_by_population_json"]).to_pylist():
        text = row["metrics_by_population_json"]
        stored = json.loads(text) if text else None
        if not isinstance(stored, Mapping):
            continue
        by_population = {key: _known_metrics(value) for key, value in stored.items()}
        out[row["model_version"]] = {k: v for k, v in by_population.items() if v}
    return out


def band_references(
    band: str, overall: Mapping[str, float], by_population: Mapping[str, Mapping[str, float]]
) -> dict[str, tuple[float, str]]:
    """Per test metric the reference of an age band: the band's own test value when the
    registry has it, else the overall one (population ``all``)."""
    own = by_population.get(band, {})
    refs = {k: (v, ALL_POPULATION) for k, v in overall.items()}
    refs.update({k: (v, band) for k, v in own.items()})
    return refs


def _deciles(rank_score: np.ndarray, lead_ids: np.ndarray) -> np.ndarray:
    """1..N_DECILES of the run's own ranking by descending score (decile 1 = the top 10 %;
    ties broken by lead_id, so the split is deterministic)."""
    order = np.lexsort((lead_ids, -rank_score))
    decile = np.empty(rank_score.size, dtype=np.int32)
    decile[order] = np.arange(rank_score.size) * N_DECILES // max(rank_score.size, 1) + 1
    return decile


def _scalar_metrics(
    y: np.ndarray, prob: np.ndarray | None, rank_score: np.ndarray, hot: np.ndarray
) -> dict[str, float | None]:
    """The metrics of one group. Ranking metrics (ROC-AUC, PR-AUC, lift) use ``rank_score``:
    the probability, or the score of the rule fallback, which has none. Probability metrics
    (Brier, log loss, ECE) need a probability and are left out without one. The hot tier is
    judged as the run's call list: precision = share of hot leads that converted, recall =
    share of converters that were hot. A metric undefined on the group (one class) is None
    (NULL), never NaN."""
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
    references: References,
    deciles: bool = False,
) -> list[dict[str, Any]]:
    """The rows of one segment. ``change_vs_test`` is relative, (value - test value) / test
    value, for the metrics with a reference (the TEST_METRICS the registry stores on test): a
    negative change in ROC-AUC is decay, which the retrain recommendation reads. With
    ``deciles``, per decile the observed conversion rate, lift and mean predicted probability
    (calibration per decile: the last beside the first)."""
    base = {"as_of": as_of, "model_version": version, "segment": segment}
    rows = []
    for metric, value in _scalar_metrics(y, prob, rank_score, hot).items():
        reference, population = references.get(metric, (None, None))
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
                "test_population": population,
            }
        )
    if not deciles or not y.size:
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
                    "test_population": None,
                }
            )
    return rows


def age_matched_rows(band_rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The ``age_matched`` rows of one run from its ``age_band=`` rows: per test metric the
    run's band values and the bands' own test values, both averaged with the run's band
    leads as weights (a direct standardisation to the run's age mix), over the bands that
    have a value and their own test value. Bands with only the overall fallback are left out
    rather than compared with it (the test split hardly holds leads over 90 days old);
    ``n_leads`` says how many leads the average covers. None of them (a registry written
    before metrics_by_population_json): no row for that metric, and the recommendation falls
    back to the overall comparison.

    The run's overall ROC-AUC is not compared with that average: an overall AUC also ranks
    leads of different bands against each other, a within-band one does not, so the two are
    not the same quantity."""
    rows = []
    for metric in TEST_METRICS:
        used = [
            r
            for r in band_rows
            if r["metric"] == metric
            and r["value"] is not None
            and r["test_value"] is not None
            and r["test_population"] == r["segment"].removeprefix(AGE_BAND_SEGMENT)
        ]
        if not used:
            continue
        weight = np.array([r["n_leads"] for r in used], dtype=np.float64)
        value = float(np.dot(weight, [r["value"] for r in used]) / weight.sum())
        test = float(np.dot(weight, [r["test_value"] for r in used]) / weight.sum())
        rows.append(
            {
                "as_of": used[0]["as_of"],
                "model_version": used[0]["model_version"],
                "segment": AGE_MATCHED_SEGMENT,
                "metric": metric,
                "decile": None,
                "value": value,
                "test_value": test,
                "change_vs_test": (value - test) / test if test else None,
                "n_leads": int(weight.sum()),
                "test_population": AGE_BANDS_POPULATION,
            }
        )
    return rows


def performance_rows(
    scored: pa.Table,
    test_metrics: Mapping[str, Mapping[str, float]],
    population_metrics: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None,
) -> pa.Table:
    """Performance of every (as_of, model_version) run in ``scored`` (int_matured_scores:
    as_of, model_version, lead_id, lead_source, conversion_probability, score, tier,
    is_converted, and lead_age_days for the age bands), overall, per lead_source and, with
    lead_age_days, per ``AGE_BANDS`` band plus ``age_matched`` (PERFORMANCE_SCHEMA).
    ``test_metrics``: ``registry_test_metrics``; ``population_metrics``:
    ``registry_population_metrics`` (None or empty: the bands are compared with the overall
    test values and there is no ``age_matched`` row)."""
    if scored.num_rows == 0:
        return PERFORMANCE_SCHEMA.empty_table()
    population_metrics = population_metrics or {}
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
        version = run.column("model_version")[0].as_py()
        rows += _run_rows(run, test_metrics.get(version, {}), population_metrics.get(version, {}))
    return pa.Table.from_pylist(rows, schema=PERFORMANCE_SCHEMA)


def _numpy(column: pa.ChunkedArray) -> np.ndarray:
    return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)


def _run_rows(
    run: pa.Table,
    test: Mapping[str, float],
    by_population: Mapping[str, Mapping[str, float]],
) -> list[dict[str, Any]]:
    """The rows of one (as_of, model_version) run, its version's test metrics given. A
    lead_source segment or age band needs at least ``MIN_SEGMENT_ROWS`` rows; the band is the
    lead's age in whole days at the run's as_of (``AGE_BANDS``: 0-7, 8-30, 31-90, over 90)."""
    as_of = run.column("as_of")[0].as_py()
    version = run.column("model_version")[0].as_py()
    y = _numpy(run.column("is_converted"))
    prob_col = run.column("conversion_probability")
    prob = None if prob_col.null_count else _numpy(prob_col)
    rank_score = _numpy(run.column("score")) if prob is None else prob
    hot = pc.equal(run.column("tier"), "hot").to_numpy(zero_copy_only=False)
    lead_ids = run.column("lead_id").to_numpy(zero_copy_only=False)

    def group(segment: str, inside: np.ndarray, references: References) -> list[dict]:
        return _group_rows(
            as_of,
            version,
            segment,
            y[inside],
            None if prob is None else prob[inside],
            rank_score[inside],
            hot[inside],
            lead_ids[inside],
            references,
        )

    overall = {k: (v, ALL_POPULATION) for k, v in test.items()}
    rows = _group_rows(
        as_of, version, "overall", y, prob, rank_score, hot, lead_ids, overall, deciles=True
    )
    sources = pc.fill_null(run.column("lead_source"), "(unknown)").to_numpy(zero_copy_only=False)
    for source in sorted(set(sources)):
        inside = sources == source
        if inside.sum() >= MIN_SEGMENT_ROWS:
            rows += group(f"lead_source={source}", inside, {})
    if AGE_COLUMN not in run.column_names:
        return rows
    bands = age_band_of(_numpy(run.column(AGE_COLUMN)))
    band_rows: list[dict[str, Any]] = []
    for band, _, _ in AGE_BANDS:
        inside = bands == band
        if inside.sum() >= MIN_SEGMENT_ROWS:
            band_rows += group(
                f"{AGE_BAND_SEGMENT}{band}", inside, band_references(band, test, by_population)
            )
    return rows + band_rows + age_matched_rows(band_rows)


def performance_of_run(matured: Any, registry: Any) -> pa.Table:
    """model_performance: performance_rows of the matured cohorts (int_matured_scores)
    against the test metrics of every model_registry version (DuckDB relations)."""
    tests = registry.select(", ".join(registry_metric_columns(registry.columns))).to_arrow_table()
    return performance_rows(
        matured.to_arrow_table(), registry_test_metrics(tests), registry_population_metrics(tests)
    )
