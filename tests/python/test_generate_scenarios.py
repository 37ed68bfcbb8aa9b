"""Tests of the generator scenarios (leadscore.demo.generate --scenario, its b2c module)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import roc_auc_score
from test_generate import UNDRIFTED_HASH, _content_hash

from leadscore.demo import generate as gen
from leadscore.demo.generate import b2c
from leadscore.demo.generate import parameters as params

N_LEADS = 6000
SEED = 11
REPO = Path(__file__).resolve().parents[2]
END = pd.Timestamp(gen.DEFAULT_END_DATE) + pd.Timedelta(days=1)
START = pd.Timestamp(date(2025, 4, 1))
SHIFT = pd.Timestamp(date(2026, 6, 1))  # default: the first day of the last four months
TS = pa.timestamp("us")


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    return gen.generate(N_LEADS, SEED, chunk_size=2500, scenario="b2c_shift")


@pytest.fixture(scope="module")
def frames(tables: dict[str, pa.Table]) -> dict[str, pd.DataFrame]:
    return {name: t.to_pandas() for name, t in tables.items()}


@pytest.fixture(scope="module")
def leads(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """leads + truth + the first opportunity."""
    first_opp = frames["opportunities"].groupby("lead_id").created_at.min().rename("opp_at")
    return frames["leads"].merge(frames["lead_truth"], on="lead_id").join(first_opp, on="lead_id")


def _converted_within(leads: pd.DataFrame, days: int) -> pd.Series:
    return (leads.opp_at - leads.created_at) < pd.Timedelta(days=days)


# -- columns ----------------------------------------------------------------------------------


def test_leads_have_no_firmographics_but_the_custom_attributes(tables) -> None:
    schema = tables["leads"].schema
    # written out on purpose, not b2c.LEADS_SCHEMA: the scenario's lead columns (which its
    # dbt vars name) pinned a second time, so a change to them fails here
    assert [(f.name, f.type) for f in schema] == [
        ("lead_id", pa.string()),
        ("created_at", TS),
        ("lead_source", pa.string()),
        ("country", pa.string()),
        ("basket_value", pa.float64()),
        ("time_on_site_seconds", pa.int64()),
        ("device", pa.string()),
    ]
    assert not set(b2c.ABSENT_COLUMNS) & set(schema.names)
    assert set(b2c.ABSENT_COLUMNS) == {"company_size", "industry", "job_title", "email"}
    # the other tables keep the contract
    for name in ("activities", "opportunities", "lead_status_changes", "lead_truth"):
        assert tables[name].schema.equals(gen.SCHEMAS[name]), name


def test_custom_attributes_are_filled_with_a_few_nulls(leads: pd.DataFrame) -> None:
    assert leads.basket_value.notna().all() and (leads.basket_value > 0).all()
    assert 0.01 < leads.time_on_site_seconds.isna().mean() < 0.06
    assert (leads.time_on_site_seconds.dropna() > 0).all()
    assert set(leads.device.dropna()) == {"mobile", "desktop", "tablet"}
    assert 0.0 < leads.device.isna().mean() < 0.05
    assert leads.lead_id.is_unique and len(leads) == N_LEADS


# -- the trend and the shift ------------------------------------------------------------------


def test_basket_value_trends_with_calendar_time(leads: pd.DataFrame) -> None:
    oldest = leads[leads.created_at < START + pd.DateOffset(months=3)]
    newest = leads[leads.created_at >= END - pd.DateOffset(months=3)]
    assert newest.basket_value.mean() >= 1.8 * oldest.basket_value.mean()
    # steadily: every quarter's median above the one before
    medians = leads.groupby(leads.created_at.dt.to_period("Q")).basket_value.median()
    assert medians.is_monotonic_increasing and len(medians) == 6
    # so the newest leads lie beyond what a model trained on leads >90 days older has seen
    older = leads[leads.created_at < SHIFT - pd.Timedelta(days=90)]
    recent = leads[leads.created_at >= SHIFT]
    assert (recent.basket_value > older.basket_value.quantile(0.95)).mean() > 0.12


def test_basket_value_carries_conversion_signal(leads: pd.DataFrame) -> None:
    """Within one cohort (so not through the trend): bigger baskets convert more."""
    cohort = leads[leads.created_at < SHIFT - pd.Timedelta(days=90)]
    converted = _converted_within(cohort, 90)
    assert 0.07 < converted.mean() < 0.2  # historical 90-day rate
    assert roc_auc_score(converted, cohort.basket_value) > 0.6
    assert roc_auc_score(converted, cohort.time_on_site_seconds.fillna(0)) > 0.55
    rate = cohort.groupby("device").true_propensity.mean()
    assert rate["desktop"] > 1.2 * rate["mobile"]


def test_base_rate_jumps_at_the_shift(leads: pd.DataFrame) -> None:
    month = pd.Timedelta(days=30)
    before = leads[leads.created_at.between(SHIFT - month, SHIFT, inclusive="left")]
    after = leads[leads.created_at.between(SHIFT, SHIFT + month, inclusive="left")]
    # on the truth: odds x3 is ~2.5x the rate at ~12 %
    assert after.true_propensity.mean() >= 2.0 * before.true_propensity.mean()
    # and in the observed conversions (30-day window: both cohorts observed in full)
    assert _converted_within(after, 30).mean() >= 1.8 * _converted_within(before, 30).mean()


def test_truth_is_the_documented_logit(leads: pd.DataFrame) -> None:
    shift = np.where(leads.created_at >= SHIFT, np.log(b2c.SHIFT_ODDS_RATIO), 0.0)
    expected = (
        b2c.B2C_INTERCEPT + leads.fit_score + b2c.B2C_INTEREST * leads.latent_interest + shift
    ).clip(*params.PROPENSITY_LOGIT_RANGE)
    logit = np.log(leads.true_propensity / (1 - leads.true_propensity))
    assert np.allclose(logit, expected)
    # fit_score is what the static columns explain: it includes the basket-value term
    basket_term = b2c.BASKET_LOGIT * (np.log(leads.basket_value) - b2c.BASKET_LOG_MEDIAN)
    assert np.corrcoef(leads.fit_score, basket_term)[0, 1] > 0.7


def test_shift_after_moves_the_jump() -> None:
    moved = gen.generate(3000, SEED, scenario="b2c_shift", shift_after=date(2026, 1, 1))
    frame = moved["leads"].to_pandas().merge(moved["lead_truth"].to_pandas(), on="lead_id")
    month = pd.Timedelta(days=30)
    at = pd.Timestamp(date(2026, 1, 1))
    before = frame[frame.created_at.between(at - month, at, inclusive="left")]
    after = frame[frame.created_at.between(at, at + month, inclusive="left")]
    assert after.true_propensity.mean() >= 2.0 * before.true_propensity.mean()
    assert gen.scenario_report(moved)["base_rate_shift"]["shift_after"] == "2026-01-01"


# -- activities, opportunities, statuses --------------------------------------------------------


def test_activities_are_engagement_only_and_within_the_lead_life(frames, leads) -> None:
    acts = frames["activities"].merge(leads[["lead_id", "created_at"]], on="lead_id")
    assert len(acts) == len(frames["activities"])  # no orphans
    assert 8 < len(acts) / N_LEADS < 30
    assert set(acts.activity_type) <= set(gen.ENGAGEMENT_TYPES)  # no sales touches
    assert (acts.occurred_at >= acts.created_at).all()
    assert acts.occurred_at.max() < END
    assert frames["activities"].activity_id.is_unique


def test_opportunities_are_the_purchases(frames, leads) -> None:
    opps = frames["opportunities"].merge(
        leads[["lead_id", "created_at"]], on="lead_id", suffixes=("", "_lead")
    )
    assert opps.lead_id.is_unique and opps.opportunity_id.is_unique
    assert (opps.created_at > opps.created_at_lead).all() and opps.created_at.max() < END
    assert (opps.closed_at.isna() == opps.is_won.isna()).all()
    assert (opps.closed_at.dropna() >= opps.created_at[opps.closed_at.notna()]).all()
    assert 0.85 < opps.is_won.mean() < 0.97
    assert (opps.amount > 0).all()
    # most purchases happen within the 90-day conversion window
    assert ((opps.created_at - opps.created_at_lead) < pd.Timedelta(days=90)).mean() > 0.9


def test_lead_status_changes_are_empty(tables) -> None:
    assert tables["lead_status_changes"].num_rows == 0


# -- determinism, b2b unchanged, report, CLI ---------------------------------------------------


def test_same_seed_same_tables_other_seed_others(tables) -> None:
    again = gen.generate(N_LEADS, SEED, chunk_size=2500, scenario="b2c_shift")
    for name, table in tables.items():
        assert table.equals(again[name]), name
    assert gen.scenario_report(again) == gen.scenario_report(tables)
    other = gen.generate(N_LEADS, SEED + 1, chunk_size=2500, scenario="b2c_shift")
    for name in ("leads", "activities", "opportunities", "lead_truth"):
        assert not tables[name].equals(other[name]), name


def test_b2b_is_the_default_and_unchanged() -> None:
    default = gen.generate(1500, 11, fault_rate=0.01, chunk_size=500)
    assert _content_hash(default) == UNDRIFTED_HASH
    explicit = gen.generate(1500, 11, fault_rate=0.01, chunk_size=500, scenario="b2b")
    assert _content_hash(explicit) == UNDRIFTED_HASH
    assert gen.scenario_report(default) == {"scenario": "b2b"}
    assert gen.GeneratorConfig(10, 1).scenario == "b2b"


def test_scenario_json_says_what_was_injected(tables, leads, tmp_path: Path) -> None:
    cfg = gen.GeneratorConfig(N_LEADS, SEED, chunk_size=2500, scenario="b2c_shift")
    rows = gen.generate_to(cfg, tmp_path / "raw")
    for name in gen.SCHEMAS:
        folder = "truth" if name == gen.TRUTH_TABLE else "raw"
        written = pq.read_table(tmp_path / folder / f"{name}.parquet")
        assert written.equals(tables[name]), name
        assert rows[name] == tables[name].num_rows
    report = json.loads((tmp_path / "truth" / "scenario.json").read_text())
    assert report == gen.scenario_report(tables)
    assert report["scenario"] == "b2c_shift"
    assert report["absent_lead_columns"] == list(b2c.ABSENT_COLUMNS)
    assert report["base_rate_shift"]["shift_after"] == "2026-06-01"
    assert report["base_rate_shift"]["odds_ratio"] == 3.0
    assert report["base_rate_shift"]["leads_from_shift"] == int((leads.created_at >= SHIFT).sum())
    assert report["converted_leads"] == len(tables["opportunities"])
    assert report["attribute_trend"]["column"] == "basket_value"
    # a later b2b run into the same folder leaves no stale scenario.json behind
    gen.generate_to(gen.GeneratorConfig(300, 1), tmp_path / "raw")
    assert not (tmp_path / "truth" / "scenario.json").exists()
    gen.write(tables, tmp_path / "raw")
    assert json.loads((tmp_path / "truth" / "scenario.json").read_text()) == report
    gen.write(gen.generate(300, 1), tmp_path / "raw")
    assert not (tmp_path / "truth" / "scenario.json").exists()


def test_config_validation() -> None:
    with pytest.raises(ValueError, match=r"unknown scenario 'b2c'; choose from b2b, b2c_shift"):
        gen.GeneratorConfig(10, 1, scenario="b2c")
    with pytest.raises(ValueError, match="injects no faults and no drift"):
        gen.GeneratorConfig(10, 1, scenario="b2c_shift", fault_rate=0.01)
    with pytest.raises(ValueError, match="injects no faults and no drift"):
        gen.GeneratorConfig(10, 1, scenario="b2c_shift", drift_after=date(2026, 6, 1))
    with pytest.raises(ValueError, match="shift_after applies to scenario b2c_shift only"):
        gen.GeneratorConfig(10, 1, shift_after=date(2026, 6, 1))
    with pytest.raises(ValueError, match="shift_after 2027-01-01 is outside the data period"):
        gen.GeneratorConfig(10, 1, scenario="b2c_shift", shift_after=date(2027, 1, 1))
    assert gen.GeneratorConfig(10, 1, scenario="b2c_shift").shift_date == date(2026, 6, 1)


def _run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "leadscore.generate", "--leads", "400", "--seed", "1"]
    return subprocess.run(
        [*cmd, "--out", str(tmp_path / "raw"), *args], cwd=REPO, capture_output=True, text=True
    )


def test_cli_scenario(tmp_path: Path) -> None:
    result = _run_cli(tmp_path, "--scenario", "b2c_shift", "--shift-after", "2026-05-01")
    assert result.returncode == 0, result.stderr
    assert "scenario b2c_shift (base-rate jump from 2026-05-01)" in result.stdout
    assert "lead_numeric_attributes: [basket_value, time_on_site_seconds]" in result.stdout
    report = json.loads((tmp_path / "truth" / "scenario.json").read_text())
    assert report["base_rate_shift"]["shift_after"] == "2026-05-01"
    names = pq.read_schema(tmp_path / "raw" / "leads.parquet").names
    assert "basket_value" in names and "email" not in names


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--scenario", "b2c"], "unknown scenario 'b2c'"),
        (["--scenario", "b2c_shift", "--faults", "0.01"], "injects no faults and no drift"),
        (["--shift-after", "2026-05-01"], "shift_after applies to scenario b2c_shift only"),
    ],
)
def test_cli_rejects_bad_scenario_arguments(tmp_path: Path, args, expected: str) -> None:
    result = _run_cli(tmp_path, *args)
    assert result.returncode == 2
    assert expected in result.stderr, result.stderr
    assert not (tmp_path / "raw").exists()
