"""Unit tests of leadscore.monitoring (performance on matured cohorts) and of the registry
reading the retrain recommendation (no dbt)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import roc_auc_score

from leadscore.monitoring import PERFORMANCE_SCHEMA, performance_rows, registry_test_metrics
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
