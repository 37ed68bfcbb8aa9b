"""Unit tests of the ML library and the registry policy on small synthetic data."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from leadscore import metrics as m
from leadscore.config import TrainingConfig
from leadscore.registry import (
    RegistryPolicy,
    apply_pin,
    retrain_reasons,
    update_registry,
)
from leadscore.training import InsufficientTrainingData, ModelArtifact, train_candidates

T0 = datetime(2026, 1, 5)
FAST = TrainingConfig(search_budget_seconds=2, max_search_trials=2, min_training_conversions=20)


def synthetic(n: int, seed: int, start: datetime = T0) -> pa.Table:
    """Snapshots whose conversion depends on a numeric signal, a category and a flag, with
    NULLs, a constant column and an all-NULL column."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    industry = rng.choice(["software", "retail", "finance", "other"], size=n)
    corporate = rng.random(n) < 0.6
    logit = -2.2 + 1.3 * signal + 0.8 * (industry == "software") + 0.6 * corporate
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    size = np.where(rng.random(n) < 0.1, np.nan, np.exp(rng.normal(5, 1.5, size=n)))
    return pa.table(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "snapshot_at": pa.array(
                [start + timedelta(hours=int(h)) for h in np.sort(rng.integers(0, 2000, n))],
                pa.timestamp("us"),
            ),
            "lead_source": rng.choice(["organic", "referral"], size=n),
            "industry": pa.array([None if rng.random() < 0.05 else v for v in industry]),
            "n_signal_30d": signal,
            "company_size": pa.array(size, from_pandas=True),
            "is_corporate_email": corporate,
            "constant_feature": np.ones(n),
            "all_null_feature": pa.nulls(n, pa.float64()),
            "is_converted": y,
            "split": ["x"] * n,
        }
    )


@pytest.fixture(scope="module")
def report():
    return train_candidates(synthetic(3000, 1), synthetic(1500, 2), synthetic(1500, 3), FAST)


def test_models_learn_the_signal_and_report_every_candidate(report):
    names = {c["name"] for c in report.candidates}
    assert {"logistic_regression", "xgboost"} <= names
    for cand in report.candidates:
        assert cand["metrics"]["roc_auc"] > 0.7, cand["name"]
        assert set(cand["metrics_by_lead_source"]) == {"organic", "referral"}
    assert report.chosen in names


def test_artifact_round_trips_through_json_with_identical_predictions(report):
    table = synthetic(500, 9)
    for art in report.artifacts.values():
        again = ModelArtifact.from_json(art.to_json())
        np.testing.assert_array_equal(art.predict_proba(table), again.predict_proba(table))
        assert "pickle" not in art.to_json()[:200]


def test_contributions_sum_to_the_raw_margin(report):
    table = synthetic(300, 10)
    for art in report.artifacts.values():
        contrib, names = art.contributions(table)
        assert contrib.shape[1] == len(names)
        np.testing.assert_allclose(contrib.sum(axis=1), art.raw_margin(table), atol=1e-4)


def test_unseen_categories_score_and_are_counted(report):
    table = synthetic(200, 11)
    table = table.set_column(
        table.schema.get_field_index("industry"), "industry", pa.array(["space mining"] * 200)
    )
    pred = report.artifact.predict(table)
    assert np.isfinite(pred.probability).all()
    assert pred.unknown_counts.get("industry") == 200


def test_single_class_and_too_few_conversions_raise_insufficient_data():
    train = synthetic(400, 4)
    no_positives = train.set_column(
        train.schema.get_field_index("is_converted"), "is_converted", pa.array([False] * 400)
    )
    with pytest.raises(InsufficientTrainingData, match="single class"):
        train_candidates(no_positives, synthetic(200, 5), synthetic(200, 6), FAST)
    strict = TrainingConfig(search_budget_seconds=2, min_training_conversions=10_000)
    with pytest.raises(InsufficientTrainingData, match="min_training_conversions"):
        train_candidates(train, synthetic(200, 5), synthetic(200, 6), strict)


def test_metrics_agree_with_sklearn_and_hand_values():
    rng = np.random.default_rng(0)
    y = rng.random(1000) < 0.2
    p = np.clip(y * 0.3 + rng.random(1000) * 0.7, 0, 1)
    assert m.roc_auc(y, p) == pytest.approx(roc_auc_score(y, p))
    assert m.pr_auc(y, p) == pytest.approx(average_precision_score(y, p))
    perfect = np.arange(1000)[::-1].astype(float)
    ranked = np.zeros(1000, dtype=bool)
    ranked[:100] = True
    assert m.lift_at_fraction(ranked, perfect, 0.1) == pytest.approx(10.0)
    calibrated = rng.random(20000)
    outcomes = rng.random(20000) < calibrated
    assert m.expected_calibration_error(outcomes, calibrated) < 0.02
    assert m.roc_auc(np.zeros(5, dtype=bool), np.arange(5.0)) is None


def _row(version: str, champion: bool, as_of: datetime, artifact: str | None = "{}") -> dict:
    return {
        "model_version": version,
        "is_champion": champion,
        "status": "champion" if champion else "retired",
        "status_changed_at": as_of,
        "data_as_of": as_of,
        "artifact_json": artifact,
    }


def test_retrain_policy():
    policy = RegistryPolicy(retrain_every_days=28)
    assert retrain_reasons([], T0, policy) == ["no champion yet"]
    fresh = [_row("m0001", True, T0)]
    assert retrain_reasons(fresh, T0 + timedelta(days=27), policy) == []
    assert "28 days old" in retrain_reasons(fresh, T0 + timedelta(days=28), policy)[0]
    forced = RegistryPolicy(force_retrain=True)
    assert retrain_reasons(fresh, T0, forced) == ["force_retrain is true"]
    pinned = RegistryPolicy(pinned_model_version="m0001")
    assert retrain_reasons([], T0, pinned) == []


def test_pin_moves_the_champion_flag_and_rejects_unknown_versions():
    rows = [_row("m0001", False, T0), _row("m0002", True, T0)]
    changed = {r["model_version"]: r for r in apply_pin(rows, "m0001", T0, log=lambda _: None)}
    assert changed["m0001"]["is_champion"] and not changed["m0002"]["is_champion"]
    with pytest.raises(ValueError, match="m0001"):
        apply_pin(rows, "m0404", T0, log=lambda _: None)
    with pytest.raises(ValueError, match="not a trained version"):
        apply_pin([_row("m0003", False, T0, artifact=None)], "m0003", T0, log=lambda _: None)


def test_policy_vars_are_validated():
    with pytest.raises(ValueError, match="champion_gate_metric"):
        RegistryPolicy.from_vars({"champion_gate_metric": "accuracy"})
    with pytest.raises(ValueError, match="force_retrain"):
        RegistryPolicy.from_vars({"force_retrain": "maybe"})
    assert RegistryPolicy.from_vars({"pinned_model_version": None}).pinned_model_version is None


def test_gate_rejects_a_worse_model_and_keeps_it_with_the_reason():
    splits = [synthetic(2000, 21), synthetic(800, 22), synthetic(800, 23)]
    labelled = pa.concat_tables(
        t.set_column(t.schema.get_field_index("split"), "split", pa.array([s] * t.num_rows))
        for t, s in zip(splits, ("train", "valid", "test"), strict=True)
    )
    quiet = {"log": lambda _: None, "now": T0}
    first = update_registry(None, lambda: (labelled, None), T0, FAST, RegistryPolicy(), **quiet)
    assert first.column("status").to_pylist() == ["champion"]
    # a challenger that cannot use the signal is worse on the same test rows: rejected
    blind = replace(FAST, exclude_features=("n_signal_30d", "industry", "is_corporate_email"))
    forced = RegistryPolicy(force_retrain=True)
    second = update_registry(first, lambda: (labelled, None), T0, blind, forced, **quiet)
    rows = second.to_pylist()
    assert len(rows) == 1 and rows[0]["status"] == "rejected"
    assert "< champion" in rows[0]["status_reason"]
