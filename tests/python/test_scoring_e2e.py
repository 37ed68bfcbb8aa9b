"""End to end: scoring open leads with the champion, tiers, reasons, history, exports, the
rule fallback and bad input, each step a real `dbt build` on generated data.

Two module fixtures keep the runtime low. `daily` trains one champion on ~4,000 leads and
then builds on the same DuckDB file step by step: a same-day rerun, the next week's as_of
(no retrain), a `--full-refresh` of the history, two runs with other tier economics, and
last a rebuild on a raw copy with bad input (an unseen lead_source, industry NULL for every
lead). `fallback` builds 600 leads without a model (rule fallback), then scores an as_of
before any lead. Each step records what the tests check.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import PROJECT_DIR, DbtRun, generate_raw, run_dbt

from leadscore.reasons import ReasonLabels
from leadscore.scoring import (
    DEPLOYED_FIT,
    EVALUATION_FIT,
    REASON_MIN_LOGIT,
    group_contributions,
    top_indices,
)
from leadscore.training import ModelArtifact

pytestmark = pytest.mark.e2e

FAST = "search_budget_seconds: 5"
FIRST_AS_OF = "2026-10-01"  # the default: the midnight after the demo data's last event
NEXT_AS_OF = "2026-10-08"  # a week later, after the data; the champion is 7 days old
N_SAMPLE = 50  # leads whose reasons are recomputed from the artifact
N_UNSEEN = 20  # open leads given a lead_source never seen in training
UNSEEN_SOURCE = "tiktok_ads"

PROJECT_VARS = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
CONTACT_COST = float(PROJECT_VARS["contact_cost"])
CAPACITY = int(PROJECT_VARS["weekly_sales_capacity"])
N_REASONS = int(PROJECT_VARS["n_reasons"])
MIN_RECALL = float(PROJECT_VARS["min_recall"])
HOLDOUT_SQL = (
    "select evaluated_split, evaluated_on, snapshot_at, is_converted, conversion_probability "
    "from holdout_predictions"
)

HISTORY_KEY_SQL = (
    "select lead_id, as_of, model_version, score, conversion_probability, tier "
    "from lead_score_history order by all"
)
TIER_SQL = (
    "select lead_id, as_of, conversion_probability, expected_deal_value, expected_value, "
    "tier, tier_basis, priority_rank, rule_grade, recommended_action from lead_scores"
)


TRAINING_TABLES_SQL = (
    "select (select count(*) from int_snapshot_spine), (select max(snapshot_at) from "
    "training_snapshots), (select count(*) from int_activities_accumulated), "
    "(select count(*) from training_rule_scores), (select count(*) from score_thresholds)"
)


def _vars(*items: str) -> list[str]:
    return ["--vars", "{" + ", ".join((FAST, *items)) + "}"]


def _build(args: list[str], raw: Path, work: Path) -> DbtRun:
    run = run_dbt(args, raw, work)
    assert run.returncode == 0, f"dbt {' '.join(args)} failed:\n{run.output[-6000:]}"
    return run


def _dicts(run: DbtRun, sql: str) -> list[dict]:
    con = duckdb.connect(str(run.db_path), read_only=True)
    try:
        rel = con.sql(sql)
        return [dict(zip(rel.columns, row, strict=True)) for row in rel.fetchall()]
    finally:
        con.close()


def _arrow(run: DbtRun, sql: str) -> pa.Table:
    con = duckdb.connect(str(run.db_path), read_only=True)
    try:
        return con.sql(sql).to_arrow_table()
    finally:
        con.close()


def _exports(work: Path, n_scores: int) -> dict:
    """What the BI exports hold after a run (read back with DuckDB, as a dashboard would)."""
    folder = work / "exports"
    scores = (
        duckdb.read_parquet(str(folder / "lead_scores.parquet"))
        .aggregate("count(*), min(as_of), max(as_of)")
        .fetchall()[0]
    )
    partitions = {
        p.parent.name: pq.read_metadata(p).num_rows
        for p in (folder / "lead_score_history").glob("as_of=*/data.parquet")
    }
    manifest = json.loads((folder / "_manifest.json").read_text())
    # PII: no export may carry an email address (or its domain's local part) in any column
    with_at = {
        str(path.relative_to(folder)): column
        for path in folder.rglob("*.parquet")
        for column, values in pq.read_table(path).to_pydict().items()
        if any(isinstance(v, str) and "@" in v for v in values)
    }
    return {
        "with_at": with_at,
        "scores": scores,
        "partitions": partitions,
        "tmp_files": sorted(str(p) for p in folder.rglob("*.tmp")),
        "manifest": {e["name"]: e for e in manifest["exports"]},
        "expected_scores": n_scores,
    }


def _bad_raw(raw: Path, dest: Path, unseen_leads: list[str]) -> Path:
    """A copy of the raw folder: lead_source 'tiktok_ads' for unseen_leads, industry NULL."""
    shutil.copytree(raw, dest)
    leads = pq.read_table(dest / "leads.parquet")
    changed = pc.is_in(leads.column("lead_id"), value_set=pa.array(unseen_leads))
    source = pc.if_else(changed, UNSEEN_SOURCE, leads.column("lead_source"))
    leads = leads.set_column(leads.schema.get_field_index("lead_source"), "lead_source", source)
    leads = leads.set_column(
        leads.schema.get_field_index("industry"),
        "industry",
        pa.nulls(leads.num_rows, leads.schema.field("industry").type),
    )
    pq.write_table(leads, dest / "leads.parquet")
    return dest


@pytest.fixture(scope="module")
def daily(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("scoring")
    raw = generate_raw(work / "gen", n_leads=4000, seed=7)
    out: dict = {}

    # 1. first build: trains the champion, scores as of the default as_of
    first = _build(["build", *_vars()], raw, work)
    out["registry_first"] = _dicts(first, "select model_version, is_champion from model_registry")
    out["history_first"] = first.query(HISTORY_KEY_SQL)
    out["as_of_first"] = first.scalar("select as_of from int_as_of_resolved")
    champion = _dicts(
        first, "select model_version, artifact_json from model_registry where is_champion"
    )
    out["champion"] = champion[0] if champion else None
    sample = f"select lead_id from lead_features order by md5(lead_id) limit {N_SAMPLE}"
    out["sample_features"] = _arrow(
        first, f"select * from lead_features where lead_id in ({sample}) order by lead_id"
    )
    out["sample_scores"] = _dicts(
        first,
        "select lead_id, as_of, model_version, model_type, conversion_probability, logit, "
        f"top_reasons, top_reasons_text, reason_details from lead_scores "
        f"where lead_id in ({sample}) order by lead_id",
    )
    out["feature_columns"] = first.query(
        "select column_name from information_schema.columns where table_name = 'lead_features'"
    )
    out["champion_row"] = _dicts(
        first, "select * exclude (artifact_json, report_json) from model_registry where is_champion"
    )[0]
    out["holdout_first"] = _dicts(first, HOLDOUT_SQL)
    out["thresholds_first"] = _dicts(first, "select * from score_thresholds")

    # 2. the same day again: nothing may be duplicated or changed
    _build(["build", "--select", "lead_predictions+", *_vars()], raw, work)
    out["history_rerun"] = first.query(HISTORY_KEY_SQL)
    # a database built before a day was keyed by as_of alone holds that day twice when two
    # models scored it: the next run (another day) must leave one set, the latest run's
    con = duckdb.connect(str(first.db_path))
    con.execute(
        "insert into lead_score_history by name select * replace ("
        "'m0000-legacy' as model_version, scored_at - interval 1 day as scored_at) "
        "from lead_score_history"
    )
    con.close()

    # 3. next week's run (after the data) as the README schedules it, `--selector daily`: no
    # retrain, one more run in the history, the training tables left as they were
    next_week = f"as_of: '{NEXT_AS_OF}'"
    runs_before = first.query("select as_of, model_version from scoring_runs")
    out["training_tables_before"] = first.query(TRAINING_TABLES_SQL)
    nxt = _build(["build", "--selector", "daily", *_vars(next_week)], raw, work)
    out["training_tables_next"] = nxt.query(TRAINING_TABLES_SQL)
    out["runs_before"] = runs_before
    out["registry_next"] = _dicts(nxt, "select model_version, is_champion from model_registry")
    out["history_next"] = nxt.query(HISTORY_KEY_SQL)
    out["history_next_keys"] = nxt.query(
        "select count(*), count(distinct (lead_id, as_of, model_version)) from lead_score_history"
    )[0]
    out["history_next_days"] = nxt.query(
        "select count(*), count(distinct (lead_id, as_of)), "
        "count(*) filter (where model_version = 'm0000-legacy') from lead_score_history"
    )[0]
    out["scores_next"] = _dicts(nxt, TIER_SQL)
    out["runs_next"] = _dicts(nxt, "select * from scoring_runs order by as_of")
    out["n_features_next"] = nxt.scalar("select count(*) from lead_features")
    out["exports_next"] = _exports(work, len(out["scores_next"]))

    # 4. --full-refresh must not wipe the history
    refresh = ["build", "--full-refresh", "--select", "lead_score_history"]
    _build([*refresh, *_vars(next_week)], raw, work)
    out["history_full_refresh"] = nxt.query(HISTORY_KEY_SQL)

    # 5. tier economics with other vars (int_deal_values holds expected_deal_value)
    tiers = ["build", "--select", "int_deal_values", "lead_scores"]
    cheap = ("weekly_sales_capacity: 5", "contact_cost: 0", "expected_deal_value: 1000")
    _build([*tiers, *_vars(next_week, *cheap)], raw, work)
    out["scores_cheap_calls"] = _dicts(nxt, TIER_SQL)
    dear = ("contact_cost: 1001", "expected_deal_value: 1000")
    _build([*tiers, *_vars(next_week, *dear)], raw, work)
    out["scores_dear_calls"] = _dicts(nxt, TIER_SQL)

    # 6. last (it changes the data): bad input, rebuilt from staging on without retraining
    unseen = sorted(r["lead_id"] for r in out["scores_next"])[:N_UNSEEN]
    bad_raw = _bad_raw(raw, work / "raw_bad", unseen)
    bad = _build(["build", "--exclude", "model_registry", *_vars(next_week)], bad_raw, work)
    out["unseen_leads"] = unseen
    out["registry_bad"] = _dicts(bad, "select model_version, is_champion from model_registry")
    out["scores_bad"] = _dicts(
        bad, "select lead_id, conversion_probability, model_version, scoring_notes from lead_scores"
    )
    out["n_features_bad"] = bad.scalar("select count(*) from lead_features")
    out["runs_bad"] = _dicts(bad, f"select * from scoring_runs where as_of = '{NEXT_AS_OF}'")
    return out


@pytest.fixture(scope="module")
def fallback(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("scoring_fallback")
    raw = generate_raw(work / "gen", n_leads=600, seed=4)
    no_model = "min_training_conversions: 100000"
    out: dict = {}
    run = _build(["build", *_vars(no_model)], raw, work)
    out["run"] = run
    out["scores"] = _dicts(run, "select * from lead_scores")
    out["runs"] = _dicts(run, "select * from scoring_runs")
    out["registry"] = _dicts(run, "select model_version, status, is_champion from model_registry")
    out["history"] = run.query(HISTORY_KEY_SQL)
    out["holdout"] = _dicts(run, HOLDOUT_SQL)

    # an as_of before the first lead, on this registry-without-champion DB
    early = run_dbt(
        ["build", "--select", "int_as_of_resolved+", *_vars(no_model, "as_of: '2000-01-01'")],
        raw,
        work,
    )
    out["early"] = early
    if early.returncode == 0:
        out["early_scores"] = early.scalar("select count(*) from lead_scores")
        out["early_runs"] = _dicts(early, "select * from scoring_runs where as_of = '2000-01-01'")
        out["early_registry"] = _dicts(
            early, "select model_version, status, is_champion from model_registry"
        )
        out["early_history"] = early.query(HISTORY_KEY_SQL)
        out["early_params"] = _dicts(early, "select * from int_as_of_resolved")
    return out


# --------------------------------------------------------------------------------------
# 1. idempotence and the daily run


def test_first_build_scores_with_one_champion(daily):
    assert str(daily["as_of_first"].date()) == FIRST_AS_OF
    assert [r["is_champion"] for r in daily["registry_first"]] == [True]
    assert daily["history_first"], "no lead scored"
    assert {row[2] for row in daily["history_first"]} == {daily["champion"]["model_version"]}


def _threshold_figures(rows: list[dict], threshold: int) -> tuple[float, float]:
    """(precision, recall) of contacting the rows with score >= threshold."""
    score = [max(1, min(100, math.ceil(100 * r["conversion_probability"]))) for r in rows]
    contacted = [r["is_converted"] for r, s in zip(rows, score, strict=True) if s >= threshold]
    converted = sum(r["is_converted"] for r in rows)
    return sum(contacted) / len(contacted), sum(contacted) / converted


def test_the_threshold_is_chosen_on_the_models_valid_window_and_reported_on_its_test(daily):
    champion, thresholds = daily["champion_row"], daily["thresholds_first"]
    fit = EVALUATION_FIT if champion.get("evaluation_artifact_json") else DEPLOYED_FIT
    by_split = {
        split: [r for r in daily["holdout_first"] if r["evaluated_split"] == split]
        for split in ("valid", "test")
    }
    for split, rows in by_split.items():
        assert rows, f"no {split} rows in holdout_predictions"
        assert {r["evaluated_on"] for r in rows} == {f"the model's {split} window with {fit}"}
        times = [r["snapshot_at"] for r in rows]
        assert champion[f"{split}_from"] <= min(times) <= max(times) <= champion[f"{split}_to"]
    # the recommendation, recomputed from the valid rows alone: best precision at the
    # minimum recall among the scores seen on valid (ties: the lower)
    valid = by_split["valid"]
    candidates = {max(1, min(100, math.ceil(100 * r["conversion_probability"]))) for r in valid}
    figures = {t: _threshold_figures(valid, t) for t in candidates}
    best = min(
        (t for t in figures if figures[t][1] >= MIN_RECALL), key=lambda t: (-figures[t][0], t)
    )
    recommended = [r for r in thresholds if r["is_recommended"]]
    assert [r["threshold_score"] for r in recommended] == [best]
    row = recommended[0]
    assert (row["valid_precision"], row["valid_recall"]) == pytest.approx(figures[best])
    # beside it, the test figures of that same threshold
    assert (row["precision"], row["recall"]) == pytest.approx(
        _threshold_figures(by_split["test"], best)
    )
    assert row["n_valid_rows"] == len(valid) and row["n_test_rows"] == len(by_split["test"])


def test_a_day_held_twice_by_an_older_database_keeps_only_its_latest_run(daily):
    n_rows, n_keys, n_legacy = daily["history_next_days"]
    assert n_rows == n_keys and n_legacy == 0


def test_same_day_rerun_leaves_history_identical(daily):
    assert daily["history_rerun"] == daily["history_first"]
    keys = [row[:3] for row in daily["history_rerun"]]
    assert len(keys) == len(set(keys))


def test_next_as_of_appends_its_run_without_retraining(daily):
    assert daily["registry_next"] == daily["registry_first"]  # champion is 7 days old
    # --selector daily left the training path as the first build made it
    assert daily["training_tables_next"] == daily["training_tables_before"]
    # (rebuilt at the next as_of, the grid would reach FIRST_AS_OF itself)
    assert daily["training_tables_before"][0][1] < datetime.fromisoformat(FIRST_AS_OF)
    first, nxt = daily["history_first"], daily["history_next"]
    scores = daily["scores_next"]
    assert len(scores) == daily["n_features_next"] > 0
    assert {str(r["as_of"].date()) for r in scores} == {NEXT_AS_OF}
    assert len(nxt) == len(first) + len(scores)
    n_rows, n_keys = daily["history_next_keys"]
    assert n_rows == n_keys
    # the first run's rows are untouched, the new ones are exactly lead_scores
    assert [r for r in nxt if str(r[1].date()) == FIRST_AS_OF] == first
    new = {(r[0], r[4], r[5]) for r in nxt if str(r[1].date()) == NEXT_AS_OF}
    assert new == {(r["lead_id"], r["conversion_probability"], r["tier"]) for r in scores}

    runs = daily["runs_next"]
    assert len(runs) == len(daily["runs_before"]) + 1
    last = runs[-1]
    assert str(last["as_of"].date()) == NEXT_AS_OF
    assert last["n_leads_scored"] == len(scores)
    assert last["model_version"] == daily["champion"]["model_version"]
    assert last["n_leads_with_unseen_values"] == 0
    assert last["all_null_features"] is None  # the clean data has no all-NULL feature
    assert last["n_hot"] + last["n_warm"] + last["n_cold"] == len(scores)


def test_next_as_of_exports_for_bi(daily):
    exports = daily["exports_next"]
    n_scores, n_history_old = exports["expected_scores"], len(daily["history_first"])
    rows, min_as_of, max_as_of = exports["scores"]
    assert rows == n_scores
    assert str(min_as_of)[:10] == str(max_as_of)[:10] == NEXT_AS_OF
    assert exports["partitions"] == {
        f"as_of={FIRST_AS_OF}": n_history_old,
        f"as_of={NEXT_AS_OF}": n_scores,
    }
    assert exports["tmp_files"] == []
    history = exports["manifest"]["lead_score_history"]
    assert history["rows"] == n_history_old + n_scores
    assert exports["manifest"]["lead_scores"]["rows"] == n_scores


def test_no_export_carries_an_email_address(daily):
    # the generated leads all have emails (raw PII); BI gets none of them
    assert daily["exports_next"]["with_at"] == {}


def test_full_refresh_keeps_the_history(daily):
    assert daily["history_full_refresh"] == daily["history_next"]


# --------------------------------------------------------------------------------------
# 2. tier economics


def _check_tiers(rows: list[dict], contact_cost: float, capacity: int) -> None:
    ranks = sorted(r["priority_rank"] for r in rows)
    assert ranks == list(range(1, len(rows) + 1))
    for r in rows:
        assert r["tier_basis"] == "expected_value", r
        ev = r["conversion_probability"] * r["expected_deal_value"] - contact_cost
        assert r["expected_value"] == pytest.approx(ev, abs=1e-6), r
        if ev > 0:
            assert r["tier"] == ("hot" if r["priority_rank"] <= capacity else "warm"), r
        else:
            assert r["tier"] == "cold", r
    by_rank = sorted(rows, key=lambda r: r["priority_rank"])
    evs = [r["expected_value"] for r in by_rank]
    assert all(a >= b for a, b in pairwise(evs)), "rank not by expected value"
    n_positive = sum(r["expected_value"] > 0 for r in rows)
    assert sum(r["tier"] == "hot" for r in rows) == min(capacity, n_positive)


def _check_actions(rows: list[dict]) -> None:
    with (PROJECT_DIR / "seeds" / "recommended_actions.csv").open() as handle:
        actions = {
            (r["tier"], r["rule_grade"]): r["recommended_action"] for r in csv.DictReader(handle)
        }
    for r in rows:
        assert r["recommended_action"] == actions[(r["tier"], r["rule_grade"])], r


def test_default_tiers_follow_expected_value_and_capacity(daily):
    rows = daily["scores_next"]
    _check_tiers(rows, CONTACT_COST, CAPACITY)
    _check_actions(rows)
    tiers = {r["tier"] for r in rows}
    assert {"hot", "warm", "cold"} <= tiers, tiers  # the demo data has all three


def test_free_calls_make_every_lead_worth_a_call(daily):
    rows = daily["scores_cheap_calls"]
    assert len(rows) == len(daily["scores_next"])
    assert {r["expected_deal_value"] for r in rows} == {1000.0}
    _check_tiers(rows, 0.0, 5)
    n_positive = sum(r["conversion_probability"] > 0 for r in rows)
    assert sum(r["tier"] == "hot" for r in rows) == min(5, n_positive)
    assert sum(r["tier"] == "cold" for r in rows) == len(rows) - n_positive
    hot = sorted(r["conversion_probability"] for r in rows if r["tier"] == "hot")
    rest = max(r["conversion_probability"] for r in rows if r["tier"] != "hot")
    assert hot[0] >= rest  # the five most likely
    _check_actions(rows)


def test_calls_dearer_than_any_deal_make_every_lead_cold(daily):
    rows = daily["scores_dear_calls"]
    assert len(rows) == len(daily["scores_next"])
    assert max(r["conversion_probability"] * 1000 for r in rows) < 1001
    assert {r["tier"] for r in rows} == {"cold"}
    _check_tiers(rows, 1001.0, CAPACITY)
    _check_actions(rows)


# --------------------------------------------------------------------------------------
# 3. reasons are the model's own contributions


def test_reasons_match_the_champion_contributions(daily):
    champion = daily["champion"]
    artifact = ModelArtifact.from_json(champion["artifact_json"])
    table = daily["sample_features"]
    stored = daily["sample_scores"]
    assert [r["lead_id"] for r in stored] == table.column("lead_id").to_pylist()
    assert len(stored) == N_SAMPLE

    exp = artifact.explain(table)
    grouped, groups = group_contributions(exp.contributions, exp.sources)
    logit = grouped.sum(axis=1) + exp.contributions[:, -1]
    stored_logit = np.array([r["logit"] for r in stored])
    stored_p = np.array([r["conversion_probability"] for r in stored])
    np.testing.assert_allclose(logit, stored_logit, atol=1e-4)
    np.testing.assert_allclose(artifact.raw_margin(table), stored_logit, atol=1e-4)
    np.testing.assert_allclose(artifact.predict_proba(table), stored_p, atol=1e-6)

    up_idx, down_idx = top_indices(grouped, N_REASONS)
    for i, row in enumerate(stored):
        assert row["model_version"] == champion["model_version"]
        assert row["model_type"] == artifact.model_type
        details = json.loads(row["reason_details"])
        ups = [d for d in details if d["contribution"] > 0]
        downs = [d for d in details if d["contribution"] < 0]
        assert details == ups + downs, "ups first, then downs"
        assert len(ups) <= N_REASONS and len(downs) <= N_REASONS
        expected = [groups[g] for g in up_idx[i] if g >= 0] + [
            groups[g] for g in down_idx[i] if g >= 0
        ]
        assert [d["feature"] for d in details] == expected, row["lead_id"]
        by_group = dict(zip(groups, grouped[i], strict=True))
        for d in details:
            assert d["contribution"] == pytest.approx(by_group[d["feature"]], abs=2e-6)
        # independently of top_indices: the largest positive / most negative groups
        positive = sorted((v for v in grouped[i] if v > REASON_MIN_LOGIT), reverse=True)
        negative = sorted(v for v in grouped[i] if v < -REASON_MIN_LOGIT)
        assert [d["contribution"] for d in ups] == pytest.approx(positive[:N_REASONS], abs=2e-6)
        assert [d["contribution"] for d in downs] == pytest.approx(negative[:N_REASONS], abs=2e-6)
        assert row["top_reasons"] == [f"+ {d['text']}" for d in ups] + [
            f"- {d['text']}" for d in downs
        ]
        assert row["top_reasons_text"] == ("; ".join(row["top_reasons"]) or None)


def test_reason_texts_read_as_phrases_from_the_seed(daily):
    with (PROJECT_DIR / "seeds" / "feature_labels.csv").open() as handle:
        labels = ReasonLabels.from_rows(list(csv.DictReader(handle)))
    table = daily["sample_features"]
    columns = [name for (name,) in daily["feature_columns"] if "_" in name]
    n_texts = 0
    for i, row in enumerate(daily["sample_scores"]):
        for d in json.loads(row["reason_details"]):
            text = d["text"]
            assert text.strip(), d
            assert not any(col in text for col in columns), text
            assert text == labels.render(d["feature"], table.column(d["feature"])[i].as_py())
            n_texts += 1
    assert n_texts >= N_SAMPLE  # most leads have reasons


# --------------------------------------------------------------------------------------
# 4. the rule fallback


def test_without_a_model_leads_are_scored_by_rules(fallback):
    output = fallback["run"].output
    assert "ERROR=0" in output and "SKIP=0" in output  # every dbt test ran and passed
    assert not any(r["is_champion"] for r in fallback["registry"])
    rows = fallback["scores"]
    assert rows
    for r in rows:
        assert r["model_type"] == "rules" and r["model_version"] == "rules", r
        assert r["logit"] is None
        p = r["conversion_probability"]
        assert (p is not None and 0 < p < 1) or "no calibrated probability" in r["scoring_notes"]
        assert "rule score" in r["scoring_notes"], r["scoring_notes"]
        details = json.loads(r["reason_details"])
        assert {d["feature"] for d in details} <= {"rule"}
        ups = [d for d in details if d["contribution"] > 0]
        downs = [d for d in details if d["contribution"] < 0]
        assert details == ups + downs and len(ups) <= N_REASONS and len(downs) <= N_REASONS
        assert [d["contribution"] for d in ups] == sorted(
            (d["contribution"] for d in ups), reverse=True
        )
    assert any(json.loads(r["reason_details"]) for r in rows)
    # 600 leads hold enough labelled snapshots to calibrate: a monotone map of the rule score
    with_p = sorted(
        (r["rule_score"], r["conversion_probability"])
        for r in rows
        if r["conversion_probability"] is not None
    )
    assert len(with_p) == len(rows)
    assert len(set(with_p)) == len({score for score, _ in with_p})  # one p per rule score
    probabilities = [p for _, p in with_p]
    assert probabilities == sorted(probabilities)
    assert len(set(probabilities)) > 1
    (run_row,) = fallback["runs"]
    assert run_row["model_version"] == "rules" and run_row["n_leads_scored"] == len(rows)
    assert "no usable model" in run_row["notes"]
    assert {row[2] for row in fallback["history"]} == {"rules"}


# --------------------------------------------------------------------------------------
# 5. bad input


def test_without_a_model_the_hold_out_is_the_rule_score_calibrated_on_train(fallback):
    words = {(r["evaluated_split"], r["evaluated_on"]) for r in fallback["holdout"]}
    assert words == {
        (split, f"the current {split} split with the rule score calibrated on train")
        for split in ("valid", "test")
    }


def test_as_of_before_any_lead_scores_nothing_and_says_why(fallback):
    early = fallback["early"]
    assert early.returncode == 0, early.output[-6000:]
    assert fallback["early_scores"] == 0
    (run_row,) = fallback["early_runs"]
    assert run_row["n_leads_scored"] == 0
    assert "no lead is open at as_of" in run_row["notes"]
    first_lead = fallback["early_params"][0]["first_lead_created_at"]
    assert f"before the first lead ({first_lead}" in run_row["notes"]
    # no model from no data: at most a new insufficient_data version, never a champion
    before = {r["model_version"] for r in fallback["registry"]}
    added = [r for r in fallback["early_registry"] if r["model_version"] not in before]
    assert len(added) <= 1
    assert all(r["status"] == "insufficient_data" for r in added)
    assert not any(r["is_champion"] for r in fallback["early_registry"])
    assert fallback["early_history"] == fallback["history"]  # nothing appended


def test_unseen_category_is_scored_as_unknown_and_noted(daily):
    assert daily["registry_bad"] == daily["registry_first"]  # the champion, not retrained
    unseen = set(daily["unseen_leads"])
    rows = daily["scores_bad"]
    noted = {
        r["lead_id"]
        for r in rows
        if r["scoring_notes"]
        and "lead_source" in r["scoring_notes"]
        and UNSEEN_SOURCE in r["scoring_notes"]
    }
    assert noted == unseen
    for r in rows:
        assert r["model_version"] == daily["champion"]["model_version"]
        assert r["conversion_probability"] is not None
    (run_row,) = daily["runs_bad"]
    assert run_row["n_leads_with_unseen_values"] == N_UNSEEN
    assert f"{N_UNSEEN} leads have category values never seen in training" in run_row["notes"]


def test_feature_null_for_every_lead_still_scores_and_is_reported(daily):
    rows = daily["scores_bad"]
    assert len(rows) == daily["n_features_bad"] == len(daily["scores_next"])
    assert all(0 <= r["conversion_probability"] <= 1 for r in rows)
    (run_row,) = daily["runs_bad"]
    assert "industry" in run_row["all_null_features"].split(", ")
    assert "features NULL for every lead" in run_row["notes"] and "industry" in run_row["notes"]
