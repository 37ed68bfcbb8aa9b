"""Tests of the synthetic lead funnel generator (leadscore.demo.generate)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import roc_auc_score

from leadscore.demo import generate as gen
from leadscore.demo.generate import parameters as params

N_LEADS = 5000
SEED = 11
END_DATE = gen.DEFAULT_END_DATE
END = pd.Timestamp(END_DATE + timedelta(days=1))  # every clean event is before this
REPO = Path(__file__).resolve().parents[2]

TS = pa.timestamp("us")
# The raw tables' contract (what the dbt sources read), written out here on purpose and not
# imported from leadscore.demo.generate.contract.SCHEMAS: a second source of truth, so that
# a change to the contract fails test_schema until it is made here (and in dbt) as well.
EXPECTED_SCHEMAS = {
    "leads": [
        ("lead_id", pa.string()),
        ("created_at", TS),
        ("lead_source", pa.string()),
        ("company_size", pa.int64()),
        ("industry", pa.string()),
        ("country", pa.string()),
        ("job_title", pa.string()),
        ("email", pa.string()),
    ],
    "activities": [
        ("activity_id", pa.string()),
        ("lead_id", pa.string()),
        ("occurred_at", TS),
        ("activity_type", pa.string()),
    ],
    "opportunities": [
        ("opportunity_id", pa.string()),
        ("lead_id", pa.string()),
        ("created_at", TS),
        ("closed_at", TS),
        ("is_won", pa.bool_()),
        ("amount", pa.float64()),
    ],
    "lead_status_changes": [
        ("lead_id", pa.string()),
        ("status", pa.string()),
        ("changed_at", TS),
    ],
}


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    return gen.generate(N_LEADS, SEED, chunk_size=2000)


@pytest.fixture(scope="module")
def frames(tables: dict[str, pa.Table]) -> dict[str, pd.DataFrame]:
    return {name: t.to_pandas() for name, t in tables.items()}


@pytest.fixture(scope="module")
def faulty() -> dict[str, pa.Table]:
    return gen.generate(N_LEADS, SEED, fault_rate=0.01, chunk_size=2000)


def _first_opportunity(frames: dict[str, pd.DataFrame]) -> pd.Series:
    return frames["opportunities"].groupby("lead_id").created_at.min()


def _status_time(frames: dict[str, pd.DataFrame], status: str) -> pd.Series:
    s = frames["lead_status_changes"]
    return s[s.status == status].set_index("lead_id").changed_at


# -- determinism ------------------------------------------------------------------------------


def test_same_seed_same_tables(tables: dict[str, pa.Table]) -> None:
    again = gen.generate(N_LEADS, SEED, chunk_size=2000)
    for name, table in tables.items():
        assert table.equals(again[name]), name


def test_different_seed_different_tables(tables: dict[str, pa.Table]) -> None:
    other = gen.generate(N_LEADS, SEED + 1, chunk_size=2000)
    for name in gen.RAW_TABLES:
        assert not tables[name].equals(other[name]), name


def test_faults_do_not_change_truth(tables: dict[str, pa.Table], faulty) -> None:
    assert tables["lead_truth"].equals(faulty["lead_truth"])


# -- schema -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(EXPECTED_SCHEMAS))
def test_schema(tables: dict[str, pa.Table], name: str) -> None:
    schema = tables[name].schema
    assert [(f.name, f.type) for f in schema] == EXPECTED_SCHEMAS[name]


def test_truth_schema(tables: dict[str, pa.Table]) -> None:
    truth = tables["lead_truth"]
    assert truth.column_names[:3] == ["lead_id", "true_propensity", "latent_interest"]
    assert truth.schema.field("true_propensity").type == pa.float64()


def test_ids_unique_and_formatted(frames: dict[str, pd.DataFrame]) -> None:
    leads, acts, opps = frames["leads"], frames["activities"], frames["opportunities"]
    assert len(leads) == N_LEADS and leads.lead_id.is_unique
    assert leads.lead_id.str.fullmatch(r"L\d{8}").all()
    assert acts.activity_id.is_unique and acts.activity_id.str.fullmatch(r"A\d{10}").all()
    assert opps.opportunity_id.is_unique and opps.opportunity_id.str.fullmatch(r"O\d{8}").all()


# -- realism ------------------------------------------------------------------------------------


def _matured_labels(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    leads = frames["leads"].merge(frames["lead_truth"], on="lead_id")
    leads["opp_at"] = leads.lead_id.map(_first_opportunity(frames))
    matured = leads[leads.created_at <= pd.Timestamp(END_DATE - timedelta(days=90))].copy()
    within = matured.opp_at - matured.created_at <= pd.Timedelta(days=90)
    matured["converted_90d"] = (matured.opp_at.notna() & within).astype(int)
    return matured


def test_base_rate_and_oracle_auc(frames: dict[str, pd.DataFrame]) -> None:
    matured = _matured_labels(frames)
    assert len(matured) > 0.6 * N_LEADS
    base = matured.converted_90d.mean()
    assert 0.10 <= base <= 0.20, base
    auc = roc_auc_score(matured.converted_90d, matured.true_propensity)
    assert 0.78 <= auc <= 0.87, auc


def test_activity_volume(frames: dict[str, pd.DataFrame]) -> None:
    per_lead = (
        frames["activities"]
        .groupby("lead_id")
        .size()
        .reindex(frames["leads"].lead_id, fill_value=0)
    )
    assert 12 <= per_lead.mean() <= 30
    assert (per_lead == 0).mean() > 0.02  # some leads never engage
    assert per_lead.max() > 10 * per_lead.median()  # heavy tail
    counts = frames["activities"].activity_type.value_counts()
    assert set(counts.index) == set(gen.ACTIVITY_TYPES)
    assert counts.idxmax() == "page_view"
    assert counts["email_click"] < counts["email_open"]
    assert counts["demo_request"] < 0.05 * counts.sum()


def test_demo_requests_follow_interest(frames: dict[str, pd.DataFrame]) -> None:
    acts = frames["activities"]
    demo_leads = set(acts.loc[acts.activity_type == "demo_request", "lead_id"])
    truth = frames["lead_truth"]
    has_demo = truth.lead_id.isin(demo_leads)
    assert truth.latent_interest[has_demo].mean() > truth.latent_interest[~has_demo].mean() + 0.5


def test_sources_differ_in_quality(frames: dict[str, pd.DataFrame]) -> None:
    leads = frames["leads"].merge(frames["lead_truth"], on="lead_id")
    assert set(leads.lead_source) == {s[0] for s in params.SOURCES}
    p = leads.groupby("lead_source").true_propensity.mean()
    volume = leads.lead_source.value_counts()
    assert p["referral"] > p["paid_social"] and p["partner"] > p["outbound_list"]
    assert volume["outbound_list"] > volume["referral"]


def test_firmographics(frames: dict[str, pd.DataFrame]) -> None:
    leads = frames["leads"]
    size = leads.company_size
    assert 0.02 < size.isna().mean() < 0.08
    assert size.min() >= 1 and size.max() <= 100_000 and size.max() > 10_000
    assert leads.industry.nunique() >= 10 and leads.country.nunique() >= 12
    assert leads.job_title.nunique() >= 40
    assert leads.email.str.contains("@").all()
    domain = leads.email.str.split("@").str[1]
    free = domain.isin(["gmail.com", "yahoo.com", "hotmail.com", "outlook.com"])
    assert 0.1 < free.mean() < 0.5
    assert free[size < 20].mean() > free[size > 1000].mean()


def test_created_at_spread_with_growth(frames: dict[str, pd.DataFrame]) -> None:
    created = frames["leads"].created_at
    assert created.min() < pd.Timestamp(END_DATE - timedelta(days=500))
    halves = (created > created.min() + (created.max() - created.min()) / 2).mean()
    assert 0.52 < halves < 0.65


def test_opportunities(frames: dict[str, pd.DataFrame]) -> None:
    opps = frames["opportunities"]
    closed = opps[opps.closed_at.notna()]
    assert 0.25 <= closed.is_won.astype(bool).mean() <= 0.35
    cycle = (closed.closed_at - closed.created_at).dt.days
    assert cycle.between(19, 121).all()
    assert opps.is_won.isna().equals(opps.closed_at.isna())
    assert opps.closed_at.isna().any()  # some are still open
    assert (opps.amount > 0).all()
    assert opps.groupby("lead_id").size().max() <= 2


# -- consistency (no faults) ------------------------------------------------------------------


def test_no_activity_before_creation(frames: dict[str, pd.DataFrame]) -> None:
    acts = frames["activities"].merge(frames["leads"][["lead_id", "created_at"]], on="lead_id")
    assert len(acts) == len(frames["activities"])  # no orphans
    assert (acts.occurred_at >= acts.created_at).all()


def test_no_event_after_end(frames: dict[str, pd.DataFrame]) -> None:
    for name, column in [
        ("leads", "created_at"),
        ("activities", "occurred_at"),
        ("opportunities", "created_at"),
        ("opportunities", "closed_at"),
        ("lead_status_changes", "changed_at"),
    ]:
        assert (frames[name][column].dropna() < END).all(), (name, column)


def test_status_order(frames: dict[str, pd.DataFrame]) -> None:
    statuses = frames["lead_status_changes"]
    assert set(statuses.status) == {"mql", "sql", "disqualified"}
    assert not statuses.duplicated(["lead_id", "status"]).any()
    mql, sql = _status_time(frames, "mql"), _status_time(frames, "sql")
    opp = _first_opportunity(frames)
    both = mql.index.intersection(sql.index)
    assert (mql[both] <= sql[both]).all()
    with_opp = sql.index.intersection(opp.index)
    assert (sql[with_opp] <= opp[with_opp]).all()
    assert len(with_opp) > 0.8 * len(opp)  # most converting leads passed sql
    assert len(sql.index.difference(opp.index)) > 0  # and some others
    mql_opp = mql.index.intersection(opp.index)
    assert (mql[mql_opp] <= opp[mql_opp]).all()
    disq = _status_time(frames, "disqualified")
    assert len(disq.index.intersection(opp.index)) == 0
    created = frames["leads"].set_index("lead_id").created_at
    for times in (mql, sql, disq):
        assert (times >= created[times.index]).all()


def test_sales_touches_only_after_qualification(frames: dict[str, pd.DataFrame]) -> None:
    acts = frames["activities"]
    touches = acts[acts.activity_type.isin(gen.SALES_TOUCH_TYPES)]
    statuses = frames["lead_status_changes"]
    qualified = statuses[statuses.status.isin(["mql", "sql"])].groupby("lead_id").changed_at.min()
    start = touches.lead_id.map(qualified)
    assert start.notna().all()
    assert (touches.occurred_at >= start).all()


def test_leakage_trap_exists(frames: dict[str, pd.DataFrame]) -> None:
    acts = frames["activities"]
    opp = _first_opportunity(frames)
    meetings = acts[acts.activity_type == "meeting"]
    after = meetings.occurred_at > meetings.lead_id.map(opp)
    assert after.sum() > 0.5 * len(meetings)
    assert meetings[after].lead_id.nunique() > 0.3 * len(opp)


# -- files --------------------------------------------------------------------------------------


def test_write_puts_truth_next_to_out_dir(tables: dict[str, pa.Table], tmp_path: Path) -> None:
    out = tmp_path / "raw"
    gen.write(tables, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.parquet" for n in gen.RAW_TABLES)
    truth = pq.read_table(tmp_path / "truth" / "lead_truth.parquet")
    leads = pq.read_table(out / "leads.parquet")
    assert truth.column("lead_id").equals(leads.column("lead_id"))
    faults = json.loads((tmp_path / "truth" / "faults.json").read_text())
    assert faults == dict.fromkeys(gen.FAULT_KINDS, 0)


def test_streamed_output_equals_in_memory(tmp_path: Path) -> None:
    cfg = gen.GeneratorConfig(n_leads=1200, seed=3, fault_rate=0.01, chunk_size=500)
    rows = gen.generate_to(cfg, tmp_path / "raw")
    tables = gen.generate(1200, 3, fault_rate=0.01, chunk_size=500)
    for name in gen.SCHEMAS:
        path = gen.truth_dir(tmp_path / "raw") if name == "lead_truth" else tmp_path / "raw"
        written = pq.read_table(path / f"{name}.parquet")
        assert written.equals(tables[name]), name
        assert rows[name] == tables[name].num_rows
    faults = json.loads((tmp_path / "truth" / "faults.json").read_text())
    assert faults == gen.fault_counts(tables)


def test_cli(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    cmd = [sys.executable, "-m", "leadscore.generate", "--leads", "500", "--seed", "1"]
    result = subprocess.run(
        [*cmd, "--out", str(out)], cwd=REPO, capture_output=True, text=True, check=True
    )
    for name in gen.RAW_TABLES:
        assert (out / f"{name}.parquet").is_file()
        assert name in result.stdout
    assert (tmp_path / "truth" / "lead_truth.parquet").is_file()
    assert (tmp_path / "truth" / "faults.json").is_file()
    assert pq.read_table(out / "leads.parquet").num_rows == 500


def test_cli_rejects_bad_arguments(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "leadscore.generate", "--leads", "0", "--seed", "1"]
    result = subprocess.run(
        [*cmd, "--out", str(tmp_path / "raw")], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "n_leads" in result.stderr


def test_end_date_and_months() -> None:
    tables = gen.generate(800, 5, end_date=date(2025, 12, 31), months=6)
    created = tables["leads"].column("created_at").to_pandas()
    assert created.min() >= pd.Timestamp("2025-07-01")
    assert created.max() < pd.Timestamp("2026-01-01")
    occurred = tables["activities"].column("occurred_at").to_pandas()
    assert occurred.max() < pd.Timestamp("2026-01-01")


# -- faults -------------------------------------------------------------------------------------


def test_no_faults_by_default(tables: dict[str, pa.Table], frames) -> None:
    assert gen.fault_counts(tables) == dict.fromkeys(gen.FAULT_KINDS, 0)
    assert not frames["leads"].duplicated().any()
    assert not frames["activities"].duplicated().any()
    leads = frames["leads"]
    assert leads[["industry", "country", "job_title", "email"]].notna().all().all()
    assert not leads[["industry", "country", "job_title"]].isin(gen.PLACEHOLDER_VALUES).any().any()
    assert frames["activities"].notna().all().all()
    assert set(frames["activities"].activity_type) <= set(gen.ACTIVITY_TYPES)


def test_every_fault_kind_injected_at_about_the_rate(faulty: dict[str, pa.Table]) -> None:
    counts = gen.fault_counts(faulty)
    assert set(counts) == set(gen.FAULT_KINDS)
    assert all(counts[kind] > 0 for kind in gen.FAULT_KINDS), counts
    leads = faulty["leads"].num_rows
    acts = faulty["activities"].num_rows
    opps = faulty["opportunities"].num_rows
    rows = {
        "duplicate_lead": leads,
        "null_lead_attribute": leads,
        "malformed_email": leads,
        "placeholder_value": leads,
        "negative_company_size": leads,
        "future_opportunity_timestamp": opps,
        "negative_opportunity_amount": opps,
    }
    for kind in gen.FAULT_KINDS:
        rate = counts[kind] / rows.get(kind, acts)
        assert 0.005 < rate < 0.02, (kind, rate)


def test_faults_are_really_in_the_tables(faulty: dict[str, pa.Table]) -> None:
    counts = gen.fault_counts(faulty)
    leads = faulty["leads"].to_pandas()
    acts = faulty["activities"].to_pandas()
    opps = faulty["opportunities"].to_pandas()
    assert leads.duplicated().sum() == counts["duplicate_lead"]
    assert acts.duplicated().sum() >= counts["duplicate_activity"]
    assert acts.lead_id.isna().sum() >= counts["null_activity_lead_id"]
    assert acts.occurred_at.isna().sum() >= counts["null_activity_occurred_at"]
    nulls = leads[["industry", "country", "job_title", "email"]].isna().sum().sum()
    assert nulls >= counts["null_lead_attribute"]
    types = acts.activity_type.dropna()
    assert types.isin(gen.UNKNOWN_ACTIVITY_TYPES).sum() >= counts["unknown_activity_type"]
    cleaned = types.str.strip().str.lower()
    variants = (types != cleaned) & cleaned.isin(gen.ACTIVITY_TYPES)
    assert variants.sum() >= counts["activity_type_variant"]
    orphans = acts.lead_id.notna() & ~acts.lead_id.isin(set(leads.lead_id))
    assert orphans.sum() >= counts["orphan_activity"]
    assert (acts.occurred_at.dt.year == gen.FUTURE_YEAR).sum() >= counts[
        "future_activity_timestamp"
    ]
    assert (opps.created_at.dt.year == gen.FUTURE_YEAR).sum() == counts[
        "future_opportunity_timestamp"
    ]
    assert (~leads.email.dropna().str.contains("@")).sum() >= counts["malformed_email"]
    placeholders = leads[["industry", "job_title", "country"]].isin(gen.PLACEHOLDER_VALUES)
    assert placeholders.sum().sum() >= counts["placeholder_value"]
    assert (leads.company_size < 0).sum() >= counts["negative_company_size"]
    assert (opps.amount < 0).sum() == counts["negative_opportunity_amount"]


def test_faults_keep_clean_rows(tables: dict[str, pa.Table], faulty: dict[str, pa.Table]) -> None:
    clean = tables["leads"].to_pandas().set_index("lead_id")
    dirty = faulty["leads"].to_pandas().drop_duplicates().set_index("lead_id")
    assert dirty.index.equals(clean.index)
    assert (dirty.created_at == clean.created_at).all()
    assert (dirty.lead_source == clean.lead_source).all()


def test_config_validation() -> None:
    with pytest.raises(ValueError):
        gen.GeneratorConfig(n_leads=10, seed=1, fault_rate=0.5)
    with pytest.raises(ValueError):
        gen.GeneratorConfig(n_leads=10, seed=1, months=0)
    cfg = gen.GeneratorConfig(n_leads=10, seed=1)
    assert pd.Timestamp(cfg.start_us, unit="us") == pd.Timestamp("2025-04-01")
    assert pd.Timestamp(cfg.end_us, unit="us") == pd.Timestamp("2026-10-01")
    assert np.diff([first for first, _ in gen.GeneratorConfig(450_001, 1).chunks()]).max() == (
        gen.DEFAULT_CHUNK_SIZE
    )


# -- drift --------------------------------------------------------------------------------------

DRIFT_AFTER = date(2026, 7, 1)
DRIFT_FROM = pd.Timestamp(DRIFT_AFTER)
ENGAGEMENT = list(gen.ENGAGEMENT_TYPES)
#: content hash of generate(1500, 11, fault_rate=0.01, chunk_size=500) before drift existed;
#: without drift the output must stay exactly this. (A numpy release that changes a
#: distribution's algorithm would change it too: then re-pin from the commit before yours.)
UNDRIFTED_HASH = "8120b9b3a0b5afa0c21e46c5716d3eb1ed4dc94e0492b62b8ec07d576d4ddfc9"


def _content_hash(tables: dict[str, pa.Table]) -> str:
    digest = hashlib.sha256()
    for name in gen.SCHEMAS:
        digest.update(name.encode())
        values = pd.util.hash_pandas_object(tables[name].to_pandas(), index=False)
        digest.update(values.to_numpy().tobytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def drifted() -> dict[str, pa.Table]:
    return gen.generate(N_LEADS, SEED, chunk_size=2000, drift_after=DRIFT_AFTER)


@pytest.fixture(scope="module")
def drifted_frames(drifted: dict[str, pa.Table]) -> dict[str, pd.DataFrame]:
    return {name: t.to_pandas() for name, t in drifted.items()}


@pytest.fixture(scope="module")
def engagement_shifted() -> dict[str, pd.DataFrame]:
    tables = gen.generate(
        N_LEADS, SEED, chunk_size=2000, drift_after=DRIFT_AFTER, drift_kinds=["engagement_shift"]
    )
    frames = {name: t.to_pandas() for name, t in tables.items()}
    frames["report"] = gen.drift_report(tables)
    return frames


def _sorted_rows(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return frame[columns].sort_values(columns).reset_index(drop=True)


def test_no_drift_by_default_output_unchanged(tables: dict[str, pa.Table]) -> None:
    assert _content_hash(gen.generate(1500, 11, fault_rate=0.01, chunk_size=500)) == (
        UNDRIFTED_HASH
    )
    # kinds without a date inject nothing and draw nothing
    quiet = gen.generate(N_LEADS, SEED, chunk_size=2000, drift_kinds=["new_source"])
    assert _content_hash(quiet) == _content_hash(tables)
    assert gen.drift_report(tables) == {"drift_after": None, "kinds": []}


def test_drift_is_deterministic(drifted: dict[str, pa.Table]) -> None:
    again = gen.generate(N_LEADS, SEED, chunk_size=2000, drift_after=DRIFT_AFTER)
    assert _content_hash(again) == _content_hash(drifted)
    assert gen.drift_report(again) == gen.drift_report(drifted)


def test_leads_before_the_date_are_unchanged(frames, drifted_frames) -> None:
    """A model trained before the date sees the same data with and without drift."""
    early = set(frames["leads"].lead_id[frames["leads"].created_at < DRIFT_FROM])
    assert 0.6 * N_LEADS < len(early) < 0.9 * N_LEADS
    columns = {
        "leads": list(frames["leads"].columns),
        "lead_truth": list(frames["lead_truth"].columns),
        "opportunities": ["lead_id", "created_at", "closed_at", "is_won", "amount"],
        "lead_status_changes": ["lead_id", "status", "changed_at"],
    }
    for name, cols in columns.items():
        clean, drift = frames[name], drifted_frames[name]
        assert _sorted_rows(clean[clean.lead_id.isin(early)], cols).equals(
            _sorted_rows(drift[drift.lead_id.isin(early)], cols)
        ), name
    cols = ["lead_id", "occurred_at", "activity_type"]
    clean, drift = frames["activities"], drifted_frames["activities"]
    assert _sorted_rows(clean[clean.occurred_at < DRIFT_FROM], cols).equals(
        _sorted_rows(drift[drift.occurred_at < DRIFT_FROM], cols)
    )


def test_new_source_appears_only_after_the_date(drifted_frames) -> None:
    leads = drifted_frames["leads"].merge(drifted_frames["lead_truth"], on="lead_id")
    new = leads.lead_source == params.NEW_SOURCE[0]
    late = leads.created_at >= DRIFT_FROM
    assert not (new & ~late).any()
    assert 0.18 < new[late].mean() < 0.32  # NEW_SOURCE share 0.25 of the leads from the date
    # it converts far worse than any known source, and worse than its cohort
    p = leads.groupby("lead_source").true_propensity.mean()
    assert p[params.NEW_SOURCE[0]] < 0.5 * p.drop(params.NEW_SOURCE[0]).min()
    assert p[params.NEW_SOURCE[0]] < 0.4 * leads[late & ~new].true_propensity.mean()


def test_new_source_engages_a_lot_but_cheaply(drifted_frames) -> None:
    """More page views per lead than the other new leads, fewer high-intent events."""
    leads = drifted_frames["leads"]
    acts = drifted_frames["activities"].merge(leads[["lead_id", "created_at"]], on="lead_id")
    first_30d = acts[acts.occurred_at - acts.created_at < pd.Timedelta(days=30)]
    cohort = leads[leads.created_at.between(DRIFT_FROM, END - pd.Timedelta(days=30))]
    new = (cohort.lead_source == params.NEW_SOURCE[0]).to_numpy()

    def per_lead(types: list[str]) -> pd.Series:
        rows = first_30d[first_30d.activity_type.isin(types)]
        return rows.groupby("lead_id").size().reindex(cohort.lead_id, fill_value=0)

    page_views = per_lead(["page_view"])
    assert page_views[new].mean() > 1.5 * page_views[~new].mean()
    high_intent = per_lead(["pricing_page_view", "form_submit", "webinar_attended", "demo_request"])
    assert high_intent[new].mean() < 0.8 * high_intent[~new].mean()


def test_engagement_shift_changes_logging_by_the_factor(frames, engagement_shifted) -> None:
    clean, shifted = frames["activities"], engagement_shifted["activities"]
    cols = ["lead_id", "occurred_at", "activity_type"]
    assert _sorted_rows(clean[clean.occurred_at < DRIFT_FROM], cols).equals(
        _sorted_rows(shifted[shifted.occurred_at < DRIFT_FROM], cols)
    )
    after = pd.DataFrame(
        {
            "clean": clean[clean.occurred_at >= DRIFT_FROM].activity_type.value_counts(),
            "shifted": shifted[shifted.occurred_at >= DRIFT_FROM].activity_type.value_counts(),
        }
    )
    ratio = after.shifted / after.clean
    assert 1.95 < ratio["email_open"] <= 2.0, ratio  # copies past the end are dropped
    assert 0.45 < ratio["pricing_page_view"] < 0.55, ratio
    others = after.drop(["email_open", "pricing_page_view"])
    assert (others.shifted == others.clean).all()
    # per lead, for everyone engaged after the date (leads created before it too)
    opens = {
        name: df[(df.occurred_at >= DRIFT_FROM) & (df.activity_type == "email_open")]
        .groupby("lead_id")
        .size()
        for name, df in (("clean", clean), ("shifted", shifted))
    }
    per_lead = pd.DataFrame(opens).fillna(0)
    assert per_lead.index.isin(
        frames["leads"].lead_id[frames["leads"].created_at < DRIFT_FROM]
    ).any()
    assert ((per_lead.shifted <= 2 * per_lead.clean) & (per_lead.shifted >= per_lead.clean)).all()
    assert 1.95 < per_lead.shifted.mean() / per_lead.clean.mean() <= 2.0
    # only the logging changed
    for name in ("leads", "opportunities", "lead_status_changes", "lead_truth"):
        assert frames[name].equals(engagement_shifted[name]), name
    report = engagement_shifted["report"]["engagement_shift"]
    assert (
        report["rows_added"]["email_open"]
        == after.shifted["email_open"] - after.clean["email_open"]
    )
    assert report["rows_removed"]["pricing_page_view"] == (
        after.clean["pricing_page_view"] - after.shifted["pricing_page_view"]
    )


def test_conversion_shift_lowers_the_base_rate() -> None:
    n = 20_000  # ~4,000 leads from the date: the drop is far outside the sampling noise
    clean = {name: t.to_pandas() for name, t in gen.generate(n, SEED).items()}
    shifted = {
        name: t.to_pandas()
        for name, t in gen.generate(
            n, SEED, drift_after=DRIFT_AFTER, drift_kinds=["conversion_shift"]
        ).items()
    }
    truth = shifted["leads"].merge(shifted["lead_truth"], on="lead_id")
    late = truth[truth.created_at >= DRIFT_FROM]
    assert set(late.lead_source) <= {s[0] for s in params.SOURCES}
    # the truth is the drifted process: logit = intercept + fit + interest effect + shift
    logit = np.log(late.true_propensity / (1 - late.true_propensity))
    expected = (
        params.PROPENSITY_INTERCEPT
        + late.fit_score
        + params.PROPENSITY_INTEREST * late.latent_interest
        + params.CONVERSION_SHIFT_LOGIT
    ).clip(*params.PROPENSITY_LOGIT_RANGE)
    assert np.allclose(logit, expected)
    clean_truth = clean["leads"].merge(clean["lead_truth"], on="lead_id")
    clean_late = clean_truth[clean_truth.created_at >= DRIFT_FROM]
    assert late.true_propensity.mean() < 0.8 * clean_late.true_propensity.mean()

    def conversion_30d(f: dict[str, pd.DataFrame]) -> float:
        leads = f["leads"]
        cohort = leads[leads.created_at.between(DRIFT_FROM, END - pd.Timedelta(days=30))]
        opp = cohort.lead_id.map(_first_opportunity(f))
        return float(((opp - cohort.created_at) < pd.Timedelta(days=30)).mean())

    # expected ~0.65 of the clean rate (exactly 1.0 without drift); 0.9 leaves ~4 sd of noise
    assert conversion_30d(shifted) < 0.9 * conversion_30d(clean)


def test_drift_report_counts_what_is_in_the_tables(drifted, drifted_frames) -> None:
    report = gen.drift_report(drifted)
    leads = drifted_frames["leads"]
    late = int((leads.created_at >= DRIFT_FROM).sum())
    assert report["drift_after"] == "2026-07-01"
    assert report["kinds"] == list(gen.DRIFT_KINDS)
    assert report["leads_from_date"] == late
    assert report["new_source"]["lead_source"] == "tiktok_ads"
    assert report["new_source"]["leads"] == int((leads.lead_source == "tiktok_ads").sum())
    assert report["conversion_shift"] == {"logit_shift": -0.6, "leads": late}
    shift = report["engagement_shift"]
    assert shift["logged_per_event"] == {"email_open": 2.0, "pricing_page_view": 0.5}
    assert shift["rows_added"]["email_open"] > 0
    assert shift["rows_removed"]["pricing_page_view"] > 0
    assert shift["rows_added"]["pricing_page_view"] == shift["rows_removed"]["email_open"] == 0


def test_drift_json_written_beside_the_truth(tmp_path: Path) -> None:
    cfg = gen.GeneratorConfig(
        n_leads=1200, seed=3, fault_rate=0.01, chunk_size=500, drift_after=DRIFT_AFTER
    )
    gen.generate_to(cfg, tmp_path / "streamed" / "raw")
    tables = gen.generate(1200, 3, fault_rate=0.01, chunk_size=500, drift_after=DRIFT_AFTER)
    for name in gen.SCHEMAS:
        folder = "truth" if name == gen.TRUTH_TABLE else "raw"
        written = pq.read_table(tmp_path / "streamed" / folder / f"{name}.parquet")
        assert written.equals(tables[name]), name
    streamed = json.loads((tmp_path / "streamed" / "truth" / "drift.json").read_text())
    assert streamed == gen.drift_report(tables)
    assert streamed["new_source"]["leads"] > 0
    gen.write(tables, tmp_path / "written" / "raw")
    assert json.loads((tmp_path / "written" / "truth" / "drift.json").read_text()) == streamed
    # a later run without drift does not leave the old report behind
    gen.write(gen.generate(300, 3), tmp_path / "written" / "raw")
    written = json.loads((tmp_path / "written" / "truth" / "drift.json").read_text())
    assert written == {"drift_after": None, "kinds": []}


def test_drift_kinds_are_validated_and_canonical() -> None:
    cfg = gen.GeneratorConfig(
        10, 1, drift_after=DRIFT_AFTER, drift_kinds=("conversion_shift", "new_source", "new_source")
    )
    assert cfg.drift_kinds == ("new_source", "conversion_shift")
    with pytest.raises(ValueError, match=r"unknown drift kind 'tiktok'.*new_source"):
        gen.GeneratorConfig(10, 1, drift_after=DRIFT_AFTER, drift_kinds=("tiktok",))
    with pytest.raises(ValueError, match="drift_kinds is empty"):
        gen.GeneratorConfig(10, 1, drift_after=DRIFT_AFTER, drift_kinds=())
    with pytest.raises(ValueError, match=r"2027-01-01 is outside the data period 2025-04-01"):
        gen.GeneratorConfig(10, 1, drift_after=date(2027, 1, 1))
    with pytest.raises(ValueError, match="outside the data period"):
        gen.GeneratorConfig(10, 1, drift_after=date(2025, 4, 1))  # nothing before it


def _run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "leadscore.generate", "--leads", "400", "--seed", "1"]
    return subprocess.run(
        [*cmd, "--out", str(tmp_path / "raw"), *args], cwd=REPO, capture_output=True, text=True
    )


def test_cli_drift(tmp_path: Path) -> None:
    result = _run_cli(
        tmp_path, "--drift-after", "2026-07-01", "--drift-kinds", "new_source, conversion_shift"
    )
    assert result.returncode == 0, result.stderr
    assert "drift from 2026-07-01: new_source, conversion_shift" in result.stdout
    report = json.loads((tmp_path / "truth" / "drift.json").read_text())
    assert report["kinds"] == ["new_source", "conversion_shift"]
    assert "engagement_shift" not in report
    sources = pq.read_table(tmp_path / "raw" / "leads.parquet").column("lead_source")
    assert report["new_source"]["leads"] == sources.to_pylist().count("tiktok_ads") > 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--drift-after", "2026-13-01"], "'2026-13-01' is not a date; write it as YYYY-MM-DD"),
        (["--drift-after", "2027-01-01"], "choose a date after 2025-04-01 and on or before"),
        (
            ["--drift-after", "2026-07-01", "--drift-kinds", "new_source,tiktok"],
            "unknown drift kind 'tiktok'; choose from new_source, engagement_shift",
        ),
        (["--drift-kinds", "new_source"], "--drift-kinds needs --drift-after YYYY-MM-DD"),
    ],
)
def test_cli_rejects_bad_drift_arguments(tmp_path: Path, args: list[str], expected: str) -> None:
    result = _run_cli(tmp_path, *args)
    assert result.returncode == 2
    assert expected in result.stderr, result.stderr
    assert not (tmp_path / "raw").exists()
