"""Honest evaluation: the gate both ways, the rows it judges on, populations, the network's
contributions and the blend's arithmetic — each checked against values worked out by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
from test_ml_library import FAST, T0, synthetic

from leadscore import populations as pops
from leadscore.config import TrainingConfig
from leadscore.registry import RegistryEntry, RegistryPolicy, gate_rows_for, update_registry
from leadscore.training import ModelArtifact, mlp, train_candidates

QUIET = {"log": lambda _: None, "now": T0}
BLIND = TrainingConfig(
    search_budget_seconds=2,
    max_search_trials=2,
    min_training_conversions=20,
    exclude_features=("n_signal_30d", "industry", "is_corporate_email"),
)


def _labelled(seed: int) -> pa.Table:
    splits = [synthetic(2000, seed), synthetic(800, seed + 1), synthetic(800, seed + 2)]
    return pa.concat_tables(
        t.set_column(t.schema.get_field_index("split"), "split", pa.array([s] * t.num_rows))
        for t, s in zip(splits, ("train", "valid", "test"), strict=True)
    )


def test_gate_promotes_a_clearly_better_challenger_and_retires_the_champion():
    labelled = _labelled(31)
    # the champion cannot use the signal; the challenger can: clearly better on the same rows
    first = update_registry(None, lambda: (labelled, None), T0, BLIND, RegistryPolicy(), **QUIET)
    assert first.column("status").to_pylist() == ["champion"]
    forced = RegistryPolicy(force_retrain=True)
    second = update_registry(first, lambda: (labelled, None), T0, FAST, forced, **QUIET)
    by_status = {r["status"]: r for r in second.to_pylist()}
    assert set(by_status) == {"champion", "retired"}
    new = by_status["champion"]
    assert new["new_gate_value"] > new["champion_gate_value"] + 0.1
    assert ">= champion" in new["status_reason"]
    assert by_status["retired"]["model_version"] == first.column("model_version")[0].as_py()


def _test_rows(firsts: list[datetime], converted: list[bool]) -> pa.Table:
    return pa.table(
        {
            "lead_id": [f"L{i}" for i in range(len(firsts))],
            "snapshot_at": pa.array(firsts, pa.timestamp("us")),
            "lead_first_snapshot_at": pa.array(firsts, pa.timestamp("us")),
            "is_converted": converted,
        }
    )


def test_gate_judges_only_test_leads_the_champion_never_saw():
    champion_as_of = datetime(2026, 6, 1)
    # seen: first snapshot + 90 days <= the champion's data date; unseen: later
    seen = [datetime(2026, 2, 1) + timedelta(days=i % 30) for i in range(100)]
    unseen = [datetime(2026, 4, 1) + timedelta(days=i % 30) for i in range(100)]
    y = [i % 4 == 0 for i in range(200)]  # 25 conversions on each side
    rows = _test_rows(seen + unseen, y)
    config = TrainingConfig(evaluation_population="all")
    kept, note = gate_rows_for(rows, RegistryEntry.from_row({"data_as_of": champion_as_of}), config)
    assert kept.num_rows == 100
    assert set(kept.column("lead_id").to_pylist()) == {f"L{i}" for i in range(100, 200)}
    assert "never saw" in note
    # too few unseen conversions: every test row, and the note says it favours the champion
    few = _test_rows(seen + unseen, [i < 100 and i % 4 == 0 for i in range(200)])
    kept, note = gate_rows_for(few, RegistryEntry.from_row({"data_as_of": champion_as_of}), config)
    assert kept.num_rows == 200 and "favours it" in note


def test_population_masks_follow_the_snapshot_kind_and_whole_days_of_age():
    table = pa.table(
        {
            "snapshot_kind": ["first", "grid", "grid", "grid", None, "first"],
            "lead_age_days": [0.04, 7.9, 8.0, 30.99, 91.0, 45.0],
        }
    )
    masks = pops.population_masks(table)
    assert masks["first_score"].tolist() == [True, False, False, False, False, True]
    assert masks["age_0_7"].tolist() == [True, True, False, False, False, False]
    assert masks["age_8_30"].tolist() == [False, False, True, True, False, False]
    assert masks["age_31_90"].tolist() == [False, False, False, False, False, True]
    assert masks["age_over_90"].tolist() == [False, False, False, False, True, False]
    y = np.array([1, 0, 0, 0, 0, 0], dtype=float)
    assert pops.usable_population("first_score", masks, y, 1) == ("first_score", None)
    name, note = pops.usable_population("first_score", masks, y, 2)
    assert name == "all" and "1 conversions among 2 rows" in note
    # a single class cannot rank: all, even with enough conversions
    assert pops.usable_population("age_0_7", masks, np.ones(6), 1)[0] == "all"


def test_network_contributions_add_up_and_are_exact_for_a_linear_network():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 4))
    linear = {"weights": [[[0.5], [-1.0], [2.0], [0.0]]], "biases": [[0.3]]}
    contrib = mlp.contributions(x, linear)
    # no hidden layer: integrated gradients from zero are exactly w * x, the bias is b
    np.testing.assert_allclose(contrib[:, :-1], x * np.array([0.5, -1.0, 2.0, 0.0]), atol=1e-12)
    np.testing.assert_allclose(contrib[:, -1], 0.3, atol=1e-12)
    hidden = {
        "weights": [rng.normal(size=(4, 6)).tolist(), rng.normal(size=(6, 1)).tolist()],
        "biases": [rng.normal(size=6).tolist(), [0.1]],
    }
    contrib = mlp.contributions(x, hidden)
    np.testing.assert_allclose(contrib.sum(axis=1), mlp.margin(x, hidden), atol=1e-9)
    # the gradient the integral uses matches finite differences
    eps = 1e-6
    for j in range(4):
        step = np.zeros(4)
        step[j] = eps
        numeric = (mlp.margin(x + step, hidden) - mlp.margin(x - step, hidden)) / (2 * eps)
        analytic = mlp._gradient(x, mlp._layers(hidden))[:, j]
        np.testing.assert_allclose(analytic, numeric, atol=1e-5)


@pytest.fixture(scope="module")
def report():
    return train_candidates(synthetic(3000, 41), synthetic(1500, 42), synthetic(1500, 43), FAST)


def test_blend_margin_is_the_average_of_its_parts_platt_logits(report):
    blend = report.artifacts["blend"]
    table = synthetic(300, 44)
    expected = np.zeros(table.num_rows)
    for part, weight, a, b in blend.components:
        assert weight == 0.5
        expected += 0.5 * (a * part.raw_margin(table) + b)
    np.testing.assert_allclose(blend.raw_margin(table), expected, atol=1e-9)
    assert {p.model_type for p, *_ in blend.components} == {"logistic_regression", "xgboost"}
    again = ModelArtifact.from_json(blend.to_json())
    np.testing.assert_array_equal(again.predict_proba(table), blend.predict_proba(table))
    contrib, _ = blend.contributions(table)
    np.testing.assert_allclose(contrib.sum(axis=1), expected, atol=1e-4)


def test_every_candidate_reports_first_score_and_age_bands(report):
    for cand in report.candidates:
        # the synthetic rows have no snapshot_kind or lead age: only 'all' is possible
        assert set(cand["metrics_by_population"]) == {"all"}, cand["name"]
        assert cand["metrics_by_population"]["all"]["roc_auc"] == pytest.approx(
            cand["metrics"]["roc_auc"]
        )
    assert report.population == "all" and "lack" in report.population_note


def test_the_same_rows_in_another_order_make_the_same_model():
    train, valid, test = synthetic(1500, 51), synthetic(600, 52), synthetic(600, 53)
    rules = (valid.column("n_signal_30d").to_numpy(), test.column("n_signal_30d").to_numpy())
    cfg = TrainingConfig(
        search_budget_seconds=1000, max_search_trials=1, min_training_conversions=20
    )
    a = train_candidates(train, valid, test, cfg, {"signal": rules})
    rng = np.random.default_rng(0)
    perm = {n: pa.array(rng.permutation(t.num_rows)) for n, t in (("v", valid), ("t", test))}
    b = train_candidates(
        train.take(pa.array(rng.permutation(train.num_rows))),
        valid.take(perm["v"]),
        test.take(perm["t"]),
        cfg,
        {"signal": (rules[0][perm["v"].to_numpy()], rules[1][perm["t"].to_numpy()])},
    )
    assert a.artifact.to_json() == b.artifact.to_json()
    assert a.candidate("signal")["metrics"] == b.candidate("signal")["metrics"]


def test_the_report_shows_first_score_and_age_band_auc_per_candidate():
    from leadscore.report.model_sections import _population_table

    rows = [
        {"model_version": "m1", "candidate": c, "segment": seg, "metric": "roc_auc", "value": v}
        for c, seg, v in (
            ("blend", "overall", 0.81),
            ("blend", "population=first_score", 0.7123),
            ("blend", "population=age_0_7", 0.7345),
            ("xgboost", "overall", 0.83),
            ("xgboost", "population=first_score", 0.6912),
        )
    ]
    html = _population_table(rows, "m1", ["blend", "xgboost"], {"blend"})
    assert "first score" in html and "0-7 days old" in html and "8-30 days" not in html
    assert "0.712" in html and "0.691" in html and "blend (chosen)" in html
    # only the overall figure: nothing to show
    assert _population_table(rows[:1], "m1", ["blend"], {"blend"}) == ""


def test_lead_weights_give_every_lead_the_same_total_weight():
    from leadscore.training import training_weights

    table = pa.table({"lead_id": ["a", "a", "a", "a", "b", "c", "c", "c"]})
    w = training_weights(table, "lead")
    # 1/4, 1/4, 1/4, 1/4, 1, 1/3 x 3, scaled to mean 1: each lead sums to 8/3
    np.testing.assert_allclose(w[:4].sum(), w[4], atol=1e-12)
    np.testing.assert_allclose(w[5:].sum(), w[4], atol=1e-12)
    np.testing.assert_allclose(w.mean(), 1.0, atol=1e-12)
    np.testing.assert_allclose(w[4], 8 / 3, atol=1e-12)
    np.testing.assert_array_equal(training_weights(table, "row"), np.ones(8))
