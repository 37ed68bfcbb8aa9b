"""End to end: training as dbt Python models, the registry, the gate, pinning, the fallback.

One small generated data set; the registry is built up across the steps of one module
fixture (the same DuckDB file), each step a real `dbt build`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import duckdb
import numpy as np
import pytest
from conftest import DBT, PROJECT_DIR, dbt_env, generate_raw, run_dbt
from sklearn.metrics import roc_auc_score

pytestmark = pytest.mark.e2e

FAST = "search_budget_seconds: 5"
REGISTRY_ONWARDS = ["build", "--select", "model_registry+"]


def _vars(*items: str) -> list[str]:
    return ["--vars", "{" + ", ".join((FAST, *items)) + "}"]


def _registry(run) -> list[dict]:
    con = duckdb.connect(str(run.db_path), read_only=True)
    try:
        rel = con.sql(
            "select model_version, model_type, status, status_reason, is_champion, n_train_rows "
            "from model_registry order by model_version"
        )
        return [dict(zip(rel.columns, row, strict=True)) for row in rel.fetchall()]
    finally:
        con.close()


def _kill_while_training(raw, work) -> dict:
    """A forced retrain killed (SIGKILL, the whole process group) once model_registry has
    started: what a power cut or an OOM kill does to a nightly build."""
    log = work / "logs" / "dbt.log"
    start = log.stat().st_size if log.exists() else 0
    proc = subprocess.Popen(
        [str(DBT), *REGISTRY_ONWARDS, *_vars("force_retrain: true")],
        cwd=PROJECT_DIR,
        env=dbt_env(raw, work),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline, seen = time.monotonic() + 300, False
    while not seen and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
        with log.open() as handle:
            handle.seek(start)
            seen = "model main.model_registry" in handle.read()
    time.sleep(2)  # inside the training (a forced retrain of 4,000 leads takes far longer)
    still_running = proc.poll() is None
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    return {"seen_registry_start": seen, "killed_while_running": still_running}


@pytest.fixture(scope="module")
def steps(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("training")
    raw = generate_raw(work / "gen", n_leads=4000, seed=21)
    out: dict = {"raw": raw}
    first = run_dbt(["build", *_vars()], raw, work)
    assert first.returncode == 0, first.output[-5000:]
    out["first"], out["after_first"] = first, _registry(first)
    out["first_test_roc_auc"] = first.scalar("select test_roc_auc from model_registry")
    out["killed"] = _kill_while_training(raw, work)
    out["after_kill"] = _registry(first)
    second = run_dbt([*REGISTRY_ONWARDS, *_vars()], raw, work)
    assert second.returncode == 0, second.output[-5000:]
    out["after_second"] = _registry(second)
    forced = run_dbt(
        [*REGISTRY_ONWARDS, *_vars("force_retrain: true", "max_rows_per_split: 3000")], raw, work
    )
    assert forced.returncode == 0, forced.output[-5000:]
    out["after_forced"] = _registry(forced)
    # pin the version that is not the champion now (the retired first one, or the rejected
    # challenger): the pin must hand it the flag
    target = next(r["model_version"] for r in out["after_forced"] if not r["is_champion"])
    out["pin_target"] = target
    pinned = run_dbt([*REGISTRY_ONWARDS, *_vars(f"pinned_model_version: {target}")], raw, work)
    assert pinned.returncode == 0, pinned.output[-5000:]
    out["after_pin"] = _registry(pinned)
    # the same as_of, now scored by another model: that day's history, run row and tier
    # summary hold the new model's scores only
    out["history_after_pin"] = pinned.query(
        "select count(*), count(distinct (lead_id, as_of)), count(distinct as_of), "
        "min(model_version), max(model_version) from lead_score_history"
    )[0]
    out["runs_after_pin"] = pinned.query("select as_of, model_version from scoring_runs")
    out["tier_models_after_pin"] = pinned.query(
        "select distinct model_version from lead_tier_summary"
    )
    out["n_open_leads"] = pinned.scalar("select count(*) from lead_scores")
    out["bad_pin"] = run_dbt(
        [*REGISTRY_ONWARDS, *_vars("pinned_model_version: m9999-nope")], raw, work
    )
    return out


def test_first_build_trains_one_champion_and_second_reuses_it(steps):
    first = steps["after_first"]
    assert len(first) == 1
    assert first[0]["status"] == "champion" and first[0]["is_champion"]
    assert first[0]["model_type"] in ("logistic_regression", "xgboost", "mlp", "blend")
    assert steps["after_second"] == first  # no retrain, nothing changed


def test_a_build_killed_during_training_loses_and_corrupts_nothing(steps):
    assert steps["killed"] == {"seen_registry_start": True, "killed_while_running": True}
    # the registry is as the first build left it, the database opens, and the next builds
    # (second, forced, pinned) run on it as if nothing had happened
    assert steps["after_kill"] == steps["after_first"]
    assert steps["after_second"] == steps["after_first"]


def test_forced_retrain_adds_a_version_through_the_gate(steps):
    rows = steps["after_forced"]
    assert len(rows) == 2
    assert sum(r["is_champion"] for r in rows) == 1
    new = rows[1]
    assert new["n_train_rows"] == 3000 < rows[0]["n_train_rows"]  # max_rows_per_split
    assert new["status"] in ("champion", "rejected")
    assert "champion m0001" in new["status_reason"]  # compared on the same test rows
    if new["status"] == "champion":
        assert rows[0]["status"] == "retired"


def test_pinning_hands_the_champion_flag_to_the_pinned_version(steps):
    rows = {r["model_version"]: r for r in steps["after_pin"]}
    target = steps["pin_target"]
    assert rows[target]["is_champion"] and rows[target]["status"] == "champion"
    assert "pinned" in rows[target]["status_reason"]
    assert sum(r["is_champion"] for r in rows.values()) == 1


def test_a_rerun_of_the_same_day_with_another_model_replaces_that_days_scores(steps):
    n_rows, n_keys, n_days, low, high = steps["history_after_pin"]
    target = steps["pin_target"]
    assert n_days == 1  # every build of this module scores the same as_of
    assert n_rows == n_keys == steps["n_open_leads"]  # one set, not one per model
    assert low == high == target
    assert [version for _, version in steps["runs_after_pin"]] == [target]
    assert steps["tier_models_after_pin"] == [(target,)]


def test_pinning_an_unknown_version_names_the_known_ones(steps):
    bad = steps["bad_pin"]
    assert bad.returncode != 0
    assert "m9999-nope" in bad.output and "m0001" in bad.output


def test_models_beat_rules_and_approach_the_oracle(steps):
    run = steps["first"]
    con = duckdb.connect(str(run.db_path), read_only=True)
    try:
        # the first version (full data); later steps add versions trained on a sample
        first = steps["after_first"][0]["model_version"]
        auc = dict(
            con.execute(
                "select candidate, value from model_comparison where segment = 'overall' "
                "and metric = 'roc_auc' and model_version = ?",
                [first],
            ).fetchall()
        )
        report = json.loads(
            con.execute(
                "select report_json from model_registry where model_version = ?", [first]
            ).fetchall()[0][0]
        )
        test = con.execute(
            "select lead_id, is_converted from training_snapshots where split = 'test'"
        ).fetchall()
    finally:
        con.close()
    # the reported figure: the chosen setting refitted on every matured row before the test
    # window, out of sample on test (what the registry's test_roc_auc says)
    reported = auc[f"{report['chosen']}_refit"]
    assert reported == pytest.approx(steps["first_test_roc_auc"])
    # purged, lead-disjoint splits leave ~1,000 train leads of 4,000: honest figures are near
    # the rules here (measured 0.743 vs 0.735); the model must not be worse than what it replaces
    assert reported >= auc["rules"] - 0.01, auc
    # the refit adds the rows the purge held back: it beats the train-only fit it came from
    assert reported > auc[report["chosen"]], auc
    truth = duckdb.sql(
        f"select lead_id, true_propensity from "
        f"read_parquet('{steps['raw'].parent / 'truth' / 'lead_truth.parquet'}')"
    ).fetchall()
    propensity = dict(truth)
    y = np.array([bool(c) for _, c in test])
    oracle = roc_auc_score(y, [propensity[lead] for lead, _ in test])
    # 4,000 leads, purged: the oracle knows the latent propensity that drives engagement the
    # model has not seen yet at a lead's first snapshots (measured gap 0.096)
    assert reported >= oracle - 0.12, (auc, oracle)
    assert report["splits"]["test"]["rows"] == len(test)


def test_too_little_data_falls_back_without_a_model(tmp_path):
    raw = generate_raw(tmp_path / "gen", n_leads=600, seed=4)
    run = run_dbt(["build", *_vars("min_training_conversions: 100000")], raw, tmp_path)
    assert run.returncode == 0, run.output[-5000:]
    rows = _registry(run)
    assert [r["status"] for r in rows] == ["insufficient_data"]
    assert not rows[0]["is_champion"]
    assert "min_training_conversions" in rows[0]["status_reason"]
    assert "no model trained" in run.output
