"""Unit tests of leadscore.monitoring (performance on matured cohorts) and of the registry
reading the retrain recommendation (no dbt)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import roc_auc_score

from leadscore.monitoring import (
    PERFORMANCE_SCHEMA,
    age_band_of,
    performance_rows,
    registry_metric_columns,
    registry_population_metrics,
    registry_test_metrics,
)
from leadscore.registry import RegistryPolicy, retrain_reasons

AS_OF = datetime(2026, 6, 1)


def cohort(n: int, seed: int, as_of: datetime = AS_OF, version: str = "m1") -> pa.Table:
    rng = np.random.default_rng(seed)
    p = rng.beta(1, 6, n)
    y = rng.random(n) < p
    score = np.clip(np.ceil(100 * p), 1, 100).astype(np.int32)
    order = np.argsort(-p)
    tier = np.full(n, "cold", dtype=object)
    tier[order[:20]] = "hot"
    return pa.table(
        {
            "as_of": pa.array([as_of] * n, pa.timestamp("us")),
            "model_version": [version] * n,
            "lead_id": [f"L{i:05d}" for i in range(n)],
            "lead_source": rng.choice(["organic", "referral", "tiny"], n, p=[0.6, 0.38, 0.02]),
            "conversion_probability": p,
            "score": score,
            "tier": tier.tolist(),
            "is_converted": y,
        }
    )


def values(out: pa.Table, segment: str = "overall", decile: int | None = None) -> dict:
    rows = [r for r in out.to_pylist() if r["segment"] == segment and r["decile"] == decile]
    return {r["metric"]: r for r in rows}


def test_performance_matches_hand_computed_metrics_and_compares_with_test():
    table = cohort(2000, 1)
    tests = {"m1": {"roc_auc": 0.8, "ece": 0.02}}
    out = performance_rows(table, tests)
    assert out.schema == PERFORMANCE_SCHEMA
    overall = values(out)
    y = np.asarray(table.column("is_converted").to_pylist(), dtype=float)
    p = table.column("conversion_probability").to_numpy()
    auc = roc_auc_score(y, p)
    assert overall["roc_auc"]["value"] == pytest.approx(auc)
    assert overall["roc_auc"]["test_value"] == 0.8
    assert overall["roc_auc"]["change_vs_test"] == pytest.approx((auc - 0.8) / 0.8)
    hot = np.asarray(table.column("tier").to_pylist()) == "hot"
    assert overall["hot_precision"]["value"] == pytest.approx(y[hot].mean())
    assert overall["hot_recall"]["value"] == pytest.approx(y[hot].sum() / y.sum())
    assert overall["conversion_rate"]["value"] == pytest.approx(y.mean())
    assert overall["n_converted"]["n_leads"] == 2000


def test_deciles_rank_by_probability_and_calibration_compares_means():
    table = cohort(1000, 2)
    out = performance_rows(table, {})
    p = table.column("conversion_probability").to_numpy()
    y = np.asarray(table.column("is_converted").to_pylist(), dtype=float)
    top = np.argsort(-p)[:100]
    first = values(out, decile=1)
    assert first["mean_predicted"]["value"] == pytest.approx(p[top].mean())
    assert first["observed_rate"]["value"] == pytest.approx(y[top].mean())
    assert first["lift"]["value"] == pytest.approx(y[top].mean() / y.mean())
    assert sum(values(out, decile=d)["observed_rate"]["n_leads"] for d in range(1, 11)) == 1000
    # a good ranking: the top decile converts more than the bottom one
    assert first["observed_rate"]["value"] > values(out, decile=10)["observed_rate"]["value"]


def test_each_run_and_each_large_source_is_judged_separately():
    table = pa.concat_tables(
        [cohort(800, 3), cohort(600, 4, AS_OF + timedelta(days=7)), cohort(500, 5, version="m2")]
    )
    out = performance_rows(table, {})
    runs = {(r["as_of"], r["model_version"]) for r in out.to_pylist()}
    assert runs == {(AS_OF, "m1"), (AS_OF + timedelta(days=7), "m1"), (AS_OF, "m2")}
    segments = {r["segment"] for r in out.to_pylist()}
    assert {"overall", "lead_source=organic", "lead_source=referral"} <= segments
    assert "lead_source=tiny" not in segments  # fewer than MIN_SEGMENT_ROWS


def test_one_class_gives_null_metrics_and_rules_without_probability_rank_by_score():
    table = cohort(300, 6)
    table = table.set_column(
        table.schema.get_field_index("is_converted"), "is_converted", pa.array([False] * 300)
    )
    assert values(performance_rows(table, {}))["roc_auc"]["value"] is None
    rules = cohort(300, 7).set_column(4, "conversion_probability", pa.nulls(300, pa.float64()))
    overall = values(performance_rows(rules, {}))
    assert overall["roc_auc"]["value"] is not None
    assert "ece" not in overall and "brier" not in overall
    assert performance_rows(rules.slice(0, 0), {}).num_rows == 0


def test_registry_test_metrics_reads_metrics_json():
    registry = pa.table(
        {
            "model_version": ["m1", "m2"],
            "metrics_json": [json.dumps({"roc_auc": 0.81, "ece": 0.01, "k": 5}), None],
        }
    )
    assert registry_test_metrics(registry) == {"m1": {"roc_auc": 0.81, "ece": 0.01}}


def test_lead_age_bands_are_whole_days_elapsed():
    ages = np.array([0.0, 7.99, 8.0, 30.99, 31.0, 90.5, 91.0, 400.0, np.nan, -1.0])
    assert age_band_of(ages).tolist() == [
        "age_0_7",
        "age_0_7",
        "age_8_30",
        "age_8_30",
        "age_31_90",
        "age_31_90",
        "age_over_90",
        "age_over_90",
        None,
        None,
    ]


def band(age: float, positives: list[float], negatives: list[float], start: int) -> pa.Table:
    """Leads of one age with the given probabilities of converters and non-converters."""
    prob = positives + negatives
    n = len(prob)
    return pa.table(
        {
            "as_of": pa.array([AS_OF] * n, pa.timestamp("us")),
            "model_version": ["m1"] * n,
            "lead_id": [f"L{start + i:04d}" for i in range(n)],
            "lead_source": ["web"] * n,
            "lead_age_days": [age] * n,
            "conversion_probability": prob,
            "score": [int(100 * p) for p in prob],
            "tier": ["cold"] * n,
            "is_converted": [True] * len(positives) + [False] * len(negatives),
        }
    )


def aged_cohort() -> pa.Table:
    """Three bands with hand-computable ROC-AUC (inverted pairs / all pairs) and one too small
    for a row:
    - 3 days old, 10 converters at 0.5 and 50 non-converters, 10 of them at 0.6 above every
      converter: 100 of 500 pairs inverted, ROC-AUC 0.8;
    - 45 days, 10 converters at 0.3, 25 of 50 non-converters above them: ROC-AUC 0.5;
    - 200 days, 20 converters at 0.2, 24 of 60 non-converters above them: 480 of 1,200
      inverted, ROC-AUC 0.6;
    - 10 days, 10 leads (< MIN_SEGMENT_ROWS): no age_8_30 row."""
    return pa.concat_tables(
        [
            band(3.2, [0.5] * 10, [0.6] * 10 + [0.1] * 40, 0),
            band(45.0, [0.3] * 10, [0.4] * 25 + [0.05] * 25, 100),
            band(200.0, [0.2] * 20, [0.25] * 24 + [0.1] * 36, 200),
            band(10.0, [], [0.15] * 10, 300),
        ]
    )


# the registry's test metrics: overall, and by lead age (no band over 90 days: the test split
# hardly has such leads)
TEST_ALL = {"m1": {"roc_auc": 0.75, "ece": 0.02}}
TEST_BY_AGE = {
    "m1": {
        "all": {"roc_auc": 0.75, "ece": 0.02},
        "age_0_7": {"roc_auc": 0.85},
        "age_8_30": {"roc_auc": 0.8},
        "age_31_90": {"roc_auc": 0.55},
    }
}


def test_each_age_band_is_compared_with_the_same_band_on_test_else_the_overall_value():
    out = performance_rows(aged_cohort(), TEST_ALL, TEST_BY_AGE)
    assert out.schema == PERFORMANCE_SCHEMA
    young, middle, old = (
        values(out, f"age_band={b}")["roc_auc"] for b in ("age_0_7", "age_31_90", "age_over_90")
    )
    assert (young["value"], young["test_value"], young["test_population"]) == (
        pytest.approx(0.8),
        0.85,
        "age_0_7",
    )
    assert young["change_vs_test"] == pytest.approx((0.8 - 0.85) / 0.85)
    assert young["n_leads"] == 60
    assert (middle["value"], middle["test_value"], middle["test_population"]) == (
        pytest.approx(0.5),
        0.55,
        "age_31_90",
    )
    # no test value for leads over 90 days: the overall one, flagged
    assert (old["value"], old["test_value"], old["test_population"]) == (
        pytest.approx(0.6),
        0.75,
        "all",
    )
    assert old["n_leads"] == 80
    assert "age_band=age_8_30" not in {r["segment"] for r in out.to_pylist()}
    # ECE has no band value on test: every band falls back to the overall one
    assert values(out, "age_band=age_0_7")["ece"]["test_population"] == "all"
    # today's overall row is unchanged: overall test value, population all
    overall = values(out)["roc_auc"]
    assert (overall["test_value"], overall["test_population"], overall["n_leads"]) == (
        0.75,
        "all",
        210,
    )
    assert values(out, "lead_source=web")["roc_auc"]["test_population"] is None


def test_age_matched_weights_the_bands_own_test_values_by_the_cohorts_age_mix():
    out = performance_rows(aged_cohort(), TEST_ALL, TEST_BY_AGE)
    matched = values(out, "age_matched")
    # roc_auc: the two bands with their own test value, 60 leads each (the band over 90
    # days compares with the overall value and is left out)
    roc = matched["roc_auc"]
    assert roc["value"] == pytest.approx((0.8 * 60 + 0.5 * 60) / 120)  # 0.65
    assert roc["test_value"] == pytest.approx((0.85 * 60 + 0.55 * 60) / 120)  # 0.70
    assert roc["change_vs_test"] == pytest.approx((0.65 - 0.70) / 0.70)
    assert (roc["n_leads"], roc["test_population"], roc["decile"]) == (120, "age_bands", None)
    # no band has its own ECE on test: no age_matched ECE
    assert "ece" not in matched
    # unequal band sizes: the weights are the cohort's leads per band
    uneven = pa.concat_tables([aged_cohort(), band(5.0, [], [0.1] * 60, 400)])
    roc = values(performance_rows(uneven, TEST_ALL, TEST_BY_AGE), "age_matched")["roc_auc"]
    young = values(performance_rows(uneven, TEST_ALL, TEST_BY_AGE), "age_band=age_0_7")
    # the 3-day band now holds 120 leads: 10 converters, 110 non-converters of which 10 above
    assert young["roc_auc"]["value"] == pytest.approx(1 - 100 / 1100)
    assert roc["value"] == pytest.approx((120 * (1 - 100 / 1100) + 60 * 0.5) / 180)
    assert roc["test_value"] == pytest.approx((120 * 0.85 + 60 * 0.55) / 180)


def test_without_test_metrics_by_age_the_bands_use_the_overall_value_and_no_age_matched_row():
    for by_population in (None, {}, {"m1": {"all": {"roc_auc": 0.75}}}):
        out = performance_rows(aged_cohort(), TEST_ALL, by_population)
        segments = {r["segment"] for r in out.to_pylist()}
        assert "age_matched" not in segments and "age_band=age_0_7" in segments
        young = values(out, "age_band=age_0_7")["roc_auc"]
        assert (young["test_value"], young["test_population"]) == (0.75, "all")
    # no lead_age_days column (older int_matured_scores): no band rows at all
    plain = performance_rows(aged_cohort().drop_columns(["lead_age_days"]), TEST_ALL)
    assert {r["segment"] for r in plain.to_pylist()} == {"overall", "lead_source=web"}


def test_registry_population_metrics_reads_metrics_by_population_json_and_old_registries():
    by_population = {
        "all": {"roc_auc": 0.81, "ece": 0.01, "n_rows": 900},
        "age_0_7": {"roc_auc": 0.86, "ece": None, "brier": float("nan")},
        "age_over_90": None,
        "age_8_30": {"roc_auc": None},
    }
    registry = pa.table(
        {
            "model_version": ["m1", "m2"],
            "metrics_json": [json.dumps({"roc_auc": 0.81}), None],
            "metrics_by_population_json": [json.dumps(by_population), None],
        }
    )
    assert registry_population_metrics(registry) == {
        "m1": {"all": {"roc_auc": 0.81, "ece": 0.01}, "age_0_7": {"roc_auc": 0.86}}
    }
    old = registry.drop_columns(["metrics_by_population_json"])
    assert registry_population_metrics(old) == {}
    assert registry_metric_columns(old.column_names) == ["model_version", "metrics_json"]
    assert registry_metric_columns([*registry.column_names, "artifact_json"]) == [
        "model_version",
        "metrics_json",
        "metrics_by_population_json",
    ]


def _champion(data_as_of: datetime) -> dict:
    return {
        "model_version": "m1",
        "is_champion": True,
        "data_as_of": data_as_of,
        "status_changed_at": data_as_of,
    }


def _recommendation(as_of: datetime, version: str = "m1", retrain: bool = True) -> dict:
    return {
        "as_of": as_of,
        "champion_version": version,
        "should_retrain": retrain,
        "reasons": "drift alert on important features: n_email_open_30d",
    }


def test_a_recommendation_about_the_champion_triggers_a_retrain_once_it_is_old_enough():
    policy = RegistryPolicy(retrain_every_days=28, min_days_between_retrains=7)
    rows = [_champion(AS_OF)]
    today = AS_OF + timedelta(days=10)
    reasons = retrain_reasons(rows, today, policy, _recommendation(AS_OF + timedelta(days=9)))
    assert len(reasons) == 1 and "drift alert" in reasons[0]
    # no: the champion is younger than min_days_between_retrains
    young = retrain_reasons(rows, AS_OF + timedelta(days=3), policy, _recommendation(AS_OF))
    assert young == []
    # no: about another version, made before the champion's data, or says no
    for rec in (
        _recommendation(AS_OF, version="m0"),
        _recommendation(AS_OF - timedelta(days=1)),
        _recommendation(AS_OF, retrain=False),
    ):
        assert retrain_reasons(rows, today, policy, rec) == []
    off = RegistryPolicy(retrain_on_recommendation=False)
    assert retrain_reasons(rows, today, off, _recommendation(AS_OF)) == []
    with pytest.raises(ValueError, match="min_days_between_retrains"):
        RegistryPolicy(min_days_between_retrains=-1)


def test_a_rejected_challenger_also_counts_against_retraining_too_often():
    policy = RegistryPolicy(retrain_every_days=28, min_days_between_retrains=7)
    challenger = {
        "model_version": "m2",
        "is_champion": False,
        "status": "rejected",
        "data_as_of": AS_OF + timedelta(days=8),
        "status_changed_at": AS_OF + timedelta(days=8),
    }
    rows = [_champion(AS_OF), challenger]
    rec = _recommendation(AS_OF + timedelta(days=9))
    assert retrain_reasons(rows, AS_OF + timedelta(days=10), policy, rec) == []
    assert retrain_reasons(rows, AS_OF + timedelta(days=15), policy, rec) != []
