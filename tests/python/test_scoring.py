"""Unit tests of leadscore.scoring: reasons from the model's own contributions, notes, the
rule fallback and the choice of the scoring model (no dbt)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from test_ml_library import FAST, synthetic

from leadscore import scoring
from leadscore.reasons import ReasonLabels
from leadscore.registry import RegistryEntry, entries_of, scoring_model_of
from leadscore.scoring import (
    DEPLOYED_FIT,
    EVALUATION_FIT,
    HOLDOUT_PREDICTION_SCHEMA,
    PREDICTION_SCHEMA,
    RULES_MODEL,
    evaluation_artifact_of,
    fit_rule_calibration,
    group_contributions,
    holdout_predictions,
    holdout_probabilities,
    parse_exact_reasons_max_leads,
    score_with_model,
    score_with_rules,
    top_indices,
)
from leadscore.training import train_candidates

AS_OF = datetime(2026, 10, 1)
LABELS = ReasonLabels.from_rows([])  # generic phrases: "<feature>: <value>"


@pytest.fixture(scope="module")
def artifacts():
    report = train_candidates(synthetic(3000, 1), synthetic(1500, 2), synthetic(1500, 3), FAST)
    return report.artifacts


def leads(n: int, seed: int) -> pa.Table:
    table = synthetic(n, seed)
    table = table.append_column("as_of", pa.array([AS_OF] * n, pa.timestamp("us")))
    return table.drop_columns(["is_converted", "split", "snapshot_at"])


def test_grouped_contributions_plus_bias_are_the_logit_per_input_column(artifacts):
    table = leads(400, 5)
    for art in artifacts.values():
        exp = art.explain(table)
        grouped, groups = group_contributions(exp.contributions, exp.sources)
        assert groups == art.feature_spec.columns
        np.testing.assert_allclose(
            grouped.sum(axis=1) + exp.contributions[:, -1], art.raw_margin(table), atol=1e-4
        )
        np.testing.assert_allclose(exp.prediction.probability, art.predict_proba(table))


def test_scored_leads_carry_the_models_own_top_contributions(artifacts):
    table = leads(300, 6)
    for name, art in artifacts.items():
        out = score_with_model(table, art, f"v-{name}", LABELS, n_reasons=3)
        assert out.schema == PREDICTION_SCHEMA
        assert out.num_rows == table.num_rows
        np.testing.assert_allclose(out.column("logit").to_numpy(), art.raw_margin(table), atol=1e-9)
        exp = art.explain(table)
        grouped, groups = group_contributions(exp.contributions, exp.sources)
        details = [json.loads(d) for d in out.column("reason_details").to_pylist()]
        tops = out.column("top_reasons").to_pylist()
        for i in range(table.num_rows):
            ups = [d for d in details[i] if d["contribution"] > 0]
            downs = [d for d in details[i] if d["contribution"] < 0]
            assert len(ups) <= 3 and len(downs) <= 3
            expected_up = [groups[j] for j in np.argsort(-grouped[i], kind="stable")[:3]]
            expected_up = [g for g in expected_up if grouped[i, groups.index(g)] > 1e-3]
            assert [d["feature"] for d in ups] == expected_up
            for d in details[i]:
                assert d["contribution"] == pytest.approx(
                    grouped[i, groups.index(d["feature"])], abs=1e-5
                )
            assert tops[i] == [f"+ {d['text']}" for d in ups] + [f"- {d['text']}" for d in downs]


def test_reasons_name_the_leads_own_values(artifacts):
    table = leads(50, 7)
    out = score_with_model(table, artifacts["xgboost"], "v", LABELS)
    industries = table.column("industry").to_pylist()
    for i, raw in enumerate(out.column("reason_details").to_pylist()):
        for d in json.loads(raw):
            if d["feature"] == "industry":
                assert d["value"] == industries[i]
                assert d["text"] == LABELS.render("industry", industries[i])


def test_unseen_categories_are_noted_per_lead_and_all_null_columns_score(artifacts):
    table = leads(60, 8)
    values = ["space mining" if i % 3 == 0 else "software" for i in range(60)]
    table = table.set_column(table.schema.get_field_index("industry"), "industry", pa.array(values))
    table = table.set_column(
        table.schema.get_field_index("company_size"), "company_size", pa.nulls(60, pa.float64())
    )
    for art in artifacts.values():
        out = score_with_model(table, art, "v", LABELS, note="a backfill note")
        notes = out.column("scoring_notes").to_pylist()
        for i, note in enumerate(notes):
            assert note.startswith("a backfill note")
            assert ("industry value 'space mining' was not seen in training" in note) == (
                i % 3 == 0
            )
        probability = out.column("conversion_probability").to_numpy()
        assert np.all((probability >= 0) & (probability <= 1))


def test_batches_give_the_same_result_as_one_pass(artifacts, monkeypatch):
    table = leads(101, 9)
    whole = score_with_model(table, artifacts["logistic_regression"], "v", LABELS)
    monkeypatch.setattr(scoring, "BATCH_ROWS", 7)
    batched = score_with_model(table, artifacts["logistic_regression"], "v", LABELS)
    # matrix products may round differently per batch size; everything else is identical
    for name in ("logit", "conversion_probability"):
        np.testing.assert_allclose(batched.column(name), whole.column(name), rtol=1e-12)
    numeric = ["logit", "conversion_probability"]
    assert batched.drop_columns(numeric).equals(whole.drop_columns(numeric))
    empty = score_with_model(table.slice(0, 0), artifacts["logistic_regression"], "v", LABELS)
    assert empty.num_rows == 0 and empty.schema == PREDICTION_SCHEMA


def test_exact_reasons_for_the_top_leads_and_approximate_ones_for_the_rest(artifacts, monkeypatch):
    """exact_reasons_max_leads: the k highest logits keep exactly the all-exact reasons, the
    others get Saabas reasons (additive too: they sum to the same logit) and a note; the
    probabilities and the row order do not change."""
    monkeypatch.setattr(scoring, "BATCH_ROWS", 37)
    art = artifacts["xgboost"]
    table = leads(200, 12)
    exact = score_with_model(table, art, "v", LABELS)
    mixed = score_with_model(table, art, "v", LABELS, exact_reasons_max_leads=50)
    assert mixed.column("lead_id").equals(exact.column("lead_id"))
    np.testing.assert_array_equal(mixed.column("logit"), exact.column("logit"))
    logit = exact.column("logit").to_numpy()
    top = set(np.argsort(-logit, kind="stable")[:50].tolist())
    notes = mixed.column("scoring_notes").to_pylist()
    approx = art.explain(table, approximate=True)
    grouped, _ = group_contributions(approx.contributions, approx.sources)
    np.testing.assert_allclose(grouped.sum(axis=1) + approx.contributions[:, -1], logit, atol=1e-4)
    differs = 0
    for i in range(table.num_rows):
        if i in top:
            assert notes[i] is None
            assert mixed["reason_details"][i] == exact["reason_details"][i]
        else:
            assert "reasons approximated (Saabas)" in notes[i]
            differs += mixed["reason_details"][i] != exact["reason_details"][i]
    assert differs > 0, "approximate reasons identical to exact ones: the flag had no effect"
    # logistic regression contributions are exact anyway: the cap changes nothing
    lr = artifacts["logistic_regression"]
    assert score_with_model(table, lr, "v", LABELS, exact_reasons_max_leads=5).equals(
        score_with_model(table, lr, "v", LABELS)
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("None", None), ("", None), ("100000", 100000), (0, 0), ("250.0", 250)],
)
def test_exact_reasons_var_parses(value, expected):
    assert parse_exact_reasons_max_leads(value) == expected


@pytest.mark.parametrize("value", ["-1", "many", "2.5"])
def test_exact_reasons_var_rejects_nonsense_with_the_fix(value):
    with pytest.raises(ValueError, match=r"exact_reasons_max_leads .* whole number >= 0"):
        parse_exact_reasons_max_leads(value)


def test_top_indices_orders_ties_and_pads_with_minus_one():
    grouped = np.array([[0.5, -0.2, 0.5, 0.0, -0.9], [0.0, 0.0, 0.0, 0.0, 0.0]])
    up, down = top_indices(grouped, 3)
    assert up.tolist() == [[0, 2, -1], [-1, -1, -1]]
    assert down.tolist() == [[4, 1, -1], [-1, -1, -1]]
    up, down = top_indices(grouped[:, :2], 3)
    assert up.shape == (2, 3) and up.tolist()[0] == [0, -1, -1]


def test_group_contributions_rejects_a_layout_that_does_not_fit():
    with pytest.raises(ValueError, match="2 source names for 3 contribution columns"):
        group_contributions(np.zeros((1, 4)), ["a", "b"])
    with pytest.raises(ValueError, match="not contiguous"):
        group_contributions(np.zeros((1, 4)), ["a", "b", "a"])


RULE_SCORES = pa.table(
    {
        "lead_id": ["a", "b", "c"],
        "as_of": pa.array([AS_OF] * 3, pa.timestamp("us")),
        "rule_score": [150, 100, 60],
    }
)


def _moves(*pairs: tuple[str, int]) -> list[dict]:
    return [{"description": d, "points": p} for d, p in pairs]


# lead_rule_reasons rows (its SQL is pinned by the dbt unit test in _scoring__unit_tests.yml on
# the breakdown a: base 100, Ten +10, Twenty-five +25, Minus five -5, Twenty +20; b: base only;
# c: base, Bad -40)
RULE_REASONS = pa.table(
    {
        "lead_id": ["a", "c"],
        "ups": [_moves(("Twenty-five", 25), ("Twenty", 20), ("Ten", 10)), None],
        "downs": [_moves(("Minus five", -5)), _moves(("Bad", -40))],
    }
)


def test_rule_fallback_reasons_are_the_rules_with_most_points():
    out = score_with_rules(RULE_SCORES, RULE_REASONS, None, why="no champion", n_reasons=2)
    rows = {r["lead_id"]: r for r in out.to_pylist()}
    assert rows["a"]["top_reasons"] == [
        "+ Twenty-five (+25 pts)",
        "+ Twenty (+20 pts)",
        "- Minus five (-5 pts)",
    ]
    assert rows["b"]["top_reasons"] == [] and rows["b"]["top_reasons_text"] is None
    assert rows["c"]["top_reasons"] == ["- Bad (-40 pts)"]
    assert {r["model_type"] for r in rows.values()} == {"rules"}
    assert all(r["conversion_probability"] is None for r in rows.values())
    assert all(r["scoring_notes"].startswith("no champion; no calibrated") for r in rows.values())


def test_rule_fallback_probability_is_a_calibrated_increasing_function_of_the_rule_score():
    rng = np.random.default_rng(3)
    score = rng.integers(0, 200, 4000).astype(float)
    y = rng.random(4000) < 1 / (1 + np.exp(-(score - 120) / 20))
    calibrator = fit_rule_calibration(score, y)
    assert calibrator is not None
    out = score_with_rules(RULE_SCORES, RULE_REASONS, calibrator, why="no champion")
    p = out.column("conversion_probability").to_numpy()
    assert p[0] > p[1] > p[2]
    # calibrated: the mean prediction matches the base rate of the fitted rows
    assert calibrator.apply(score).mean() == pytest.approx(y.mean(), abs=0.01)
    assert fit_rule_calibration(score[:50], np.zeros(50)) is None
    few = np.zeros(4000)
    few[:9] = 1
    assert fit_rule_calibration(score, few) is None


def _registry_row(version: str, status: str, data_as_of: datetime) -> RegistryEntry:
    return RegistryEntry.from_row(
        {
            "model_version": version,
            "status": status,
            "is_champion": status == "champion",
            "data_as_of": data_as_of,
            "artifact_json": "{}",
        }
    )


def test_a_backfill_never_scores_the_past_with_a_model_trained_on_its_future():
    old = _registry_row("m0001", "retired", AS_OF - timedelta(days=60))
    older = _registry_row("m0000", "retired", AS_OF - timedelta(days=90))
    rejected = _registry_row("m0002", "rejected", AS_OF - timedelta(days=30))
    champion = _registry_row("m0003", "champion", AS_OF)
    rows = [older, old, rejected, champion]
    assert scoring_model_of(rows, AS_OF) == (champion, None)
    chosen, note = scoring_model_of(rows, AS_OF - timedelta(days=10))
    assert chosen is old
    assert "after as_of" in note and "earlier model m0001" in note
    chosen, note = scoring_model_of(rows, AS_OF - timedelta(days=100))
    assert chosen is None and "no earlier model" in note
    assert scoring_model_of([old], AS_OF) == (None, None)


def test_holdout_predictions_use_the_model_or_the_calibrated_rule_score(artifacts):
    test = synthetic(200, 12).append_column("rule_score", pa.array(np.arange(200.0)))
    out = holdout_probabilities(test, "v1", "window", artifact=artifacts["xgboost"])
    np.testing.assert_allclose(
        out.column("conversion_probability").to_numpy(), artifacts["xgboost"].predict_proba(test)
    )
    rules = holdout_probabilities(test, "rules", "split")
    assert rules.column("conversion_probability").null_count == 200
    assert rules.column("is_converted").to_pylist() == test.column("is_converted").to_pylist()


def test_the_hold_out_is_scored_with_the_train_only_evaluation_fit_when_the_registry_has_it(
    artifacts,
):
    deployed, evaluation = artifacts["logistic_regression"], artifacts["xgboost"]
    table = synthetic(200, 13)
    row = {"artifact_json": deployed.to_json(), "evaluation_artifact_json": evaluation.to_json()}
    chosen, words = evaluation_artifact_of(RegistryEntry.from_row(row))
    assert words == EVALUATION_FIT and "evaluation_artifact_json" in words
    np.testing.assert_allclose(chosen.predict_proba(table), evaluation.predict_proba(table))
    assert not np.allclose(chosen.predict_proba(table), deployed.predict_proba(table))
    # an older registry (no such column) and a row without one: the deployed artifact
    for older in ({"artifact_json": deployed.to_json()}, {**row, "evaluation_artifact_json": None}):
        chosen, words = evaluation_artifact_of(RegistryEntry.from_row(older))
        assert words == DEPLOYED_FIT and "artifact_json" in words
        np.testing.assert_allclose(chosen.predict_proba(table), deployed.predict_proba(table))


SPLIT_STARTS = {
    "train": datetime(2026, 1, 5),
    "valid": datetime(2026, 4, 15),
    "test": datetime(2026, 7, 15),
}


def labelled_splits(n: int = 300) -> pa.Table:
    """labelled_with_rule_scores-like rows: train, valid and test splits of ~83 days each; the
    rule score tracks conversion on train and is reversed on valid and test."""
    parts = []
    for i, (split, start) in enumerate(SPLIT_STARTS.items()):
        part = synthetic(n, 20 + i, start=start)
        y = np.asarray(part.column("is_converted").to_pylist(), dtype=float)
        rule = 50 + 40 * (y if split == "train" else 1 - y) + np.arange(n) % 7
        part = part.set_column(part.schema.get_field_index("split"), "split", pa.array([split] * n))
        part = part.set_column(0, "lead_id", pa.array([f"{split}-{k}" for k in range(n)]))
        parts.append(part.append_column("rule_score", pa.array(rule)))
    return pa.concat_tables(parts)


def _window(table: pa.Table, split: str) -> dict:
    times = [
        t
        for t, s in zip(table["snapshot_at"].to_pylist(), table["split"].to_pylist(), strict=True)
        if s == split
    ]
    return {f"{split}_from": min(times), f"{split}_to": max(times)}


def test_holdout_predictions_are_the_models_own_valid_and_test_windows_with_its_evaluation_fit(
    artifacts,
):
    table = labelled_splits()
    con = duckdb.connect()
    labelled = con.from_arrow(table)
    champion = {
        "model_version": "m0001",
        "status": "champion",
        "is_champion": True,
        "data_as_of": AS_OF,
        "artifact_json": artifacts["logistic_regression"].to_json(),
        "evaluation_artifact_json": artifacts["xgboost"].to_json(),
        **_window(table, "valid"),
        **_window(table, "test"),
    }
    out = holdout_predictions(labelled, entries_of([champion]), AS_OF, max_rows=1000)
    assert out.schema == HOLDOUT_PREDICTION_SCHEMA
    assert out.column("evaluated_split").to_pylist() == ["valid"] * 300 + ["test"] * 300
    for split in ("valid", "test"):
        part = out.filter(pa.compute.equal(out.column("evaluated_split"), split))
        words = set(part.column("evaluated_on").to_pylist())
        assert words == {f"the model's {split} window with {EVALUATION_FIT}"}
        assert {lead.split("-")[0] for lead in part.column("lead_id").to_pylist()} == {split}
        rows = table.filter(pa.compute.equal(table.column("split"), split))
        by_lead = dict(
            zip(rows["lead_id"].to_pylist(), artifacts["xgboost"].predict_proba(rows), strict=True)
        )
        np.testing.assert_allclose(
            part.column("conversion_probability").to_numpy(),
            [by_lead[lead] for lead in part.column("lead_id").to_pylist()],
        )
    # at most max_rows of each split
    capped = holdout_predictions(labelled, entries_of([champion]), AS_OF, max_rows=50)
    assert capped.column("evaluated_split").to_pylist() == ["valid"] * 50 + ["test"] * 50
    # a grid with no snapshot left in the model's windows: the current splits, both
    moved = {**champion, "test_from": datetime(2030, 1, 1), "test_to": datetime(2030, 2, 1)}
    out = holdout_predictions(labelled, entries_of([moved]), AS_OF, max_rows=1000)
    assert set(out.column("evaluated_on").to_pylist()) == {
        f"the current {s} split (the model's windows have no snapshots left) with {EVALUATION_FIT}"
        for s in ("valid", "test")
    }
    assert out.num_rows == 600


def test_holdout_predictions_of_the_rule_fallback_are_calibrated_on_train_only():
    table = labelled_splits()
    con = duckdb.connect()
    out = holdout_predictions(con.from_arrow(table), [], AS_OF, max_rows=1000)
    assert set(out.column("model_version").to_pylist()) == {RULES_MODEL}
    train = table.filter(pa.compute.equal(table.column("split"), "train"))
    calibrator = fit_rule_calibration(
        train["rule_score"].to_numpy(), np.asarray(train["is_converted"].to_pylist(), dtype=float)
    )
    np.testing.assert_allclose(
        out.column("conversion_probability").to_numpy(),
        calibrator.apply(out.column("rule_score").to_numpy()),
    )
    # on train the rule score rises with conversion; valid and test are reversed, so a fit
    # that saw them would not give the converted rows the higher probabilities
    p = out.column("conversion_probability").to_numpy()
    y = np.asarray(out.column("is_converted").to_pylist())
    assert p[y].mean() < p[~y].mean()
    assert set(out.column("evaluated_on").to_pylist()) == {
        "the current valid split with the rule score calibrated on train",
        "the current test split with the rule score calibrated on train",
    }
