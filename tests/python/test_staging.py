"""End-to-end tests of the source contract, staging, the quarantine and the lifecycle.

Each test builds the dbt project against raw files in a temp folder (never the developer's
database) and checks what landed in the tables, not just that dbt exited 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rawdata import SCHEMAS, default_leads, dt, write_raw

pytestmark = pytest.mark.e2e

RAW_TABLES = ("leads", "activities", "opportunities", "lead_status_changes")


def test_missing_source_file_names_the_file_and_the_columns(dbt_runner, tmp_path: Path):
    raw = write_raw(tmp_path / "raw", skip=("opportunities",))
    run = dbt_runner(["build"], raw)
    assert run.returncode != 0
    assert f"{raw}/opportunities.parquet or {raw}/opportunities.csv" in run.output
    assert "opportunity_id, lead_id, created_at, closed_at, is_won, amount" in run.output


def test_missing_required_column_is_listed(dbt_runner, tmp_path: Path):
    schema = SCHEMAS["activities"].remove(SCHEMAS["activities"].get_field_index("occurred_at"))
    raw = write_raw(tmp_path / "raw", schemas={"activities": schema})
    run = dbt_runner(["build"], raw)
    assert run.returncode != 0
    assert "source activities is missing required column(s) occurred_at" in run.output


def test_custom_attribute_that_is_not_a_column_is_named(dbt_runner, tmp_path: Path):
    raw = write_raw(tmp_path / "raw")
    run = dbt_runner(["build", "--vars", '{"lead_categorical_attributes": ["plan_tier"]}'], raw)
    assert run.returncode != 0
    assert "custom attribute 'plan_tier'" in run.output


def test_b2c_leads_without_firmographic_columns_build_with_them_null(dbt_runner, tmp_path: Path):
    """docs/inputs.md: company_size, industry, country, job_title, email may be absent (B2C)."""
    firmographics = ("company_size", "industry", "country", "job_title", "email")
    schema = pa.schema([f for f in SCHEMAS["leads"] if f.name not in firmographics])
    schema = schema.append(pa.field("basket_value", pa.float64()))
    leads = [
        {"lead_id": row["lead_id"], "created_at": row["created_at"],
         "lead_source": row["lead_source"], "basket_value": 10.0 * (i + 1)}
        for i, row in enumerate(default_leads())
    ]  # fmt: skip
    raw = write_raw(tmp_path / "raw", tables={"leads": leads}, schemas={"leads": schema})
    selection = ["--select", "staging", "--indirect-selection", "cautious"]
    attributes = ["--vars", '{"lead_numeric_attributes": ["basket_value"]}']
    run = dbt_runner(["build", *selection, *attributes], raw)
    assert run.returncode == 0, run.output[-4000:]
    rows = run.query(
        "select lead_id, company_size, industry, country, job_title, email, basket_value "
        "from stg_crm__leads order by lead_id"
    )
    assert rows == [
        ("L1", None, None, None, None, None, 10.0),
        ("L2", None, None, None, None, None, 20.0),
        ("L3", None, None, None, None, None, 30.0),
    ]


def test_both_csv_and_parquet_for_one_table_is_an_error(dbt_runner, tmp_path: Path):
    raw = write_raw(tmp_path / "raw")
    (raw / "leads.csv").write_text("lead_id,created_at\n")
    run = dbt_runner(["build"], raw)
    assert run.returncode != 0
    assert "leads.parquet and" in run.output and "keep one" in run.output


def test_empty_activities_opportunities_and_status_changes_still_build(dbt_runner, tmp_path: Path):
    raw = write_raw(tmp_path / "raw")  # only leads have rows
    run = dbt_runner(["build"], raw)
    assert run.returncode == 0, run.output[-4000:]
    assert run.scalar("select count(*) from fct_lead_lifecycle") == 3
    stages = {r[0] for r in run.query("select current_stage from fct_lead_lifecycle")}
    assert stages == {"new"}


def test_csv_sources_and_messy_values_are_cleaned_not_dropped(dbt_runner, tmp_path: Path):
    raw = write_raw(
        tmp_path / "raw",
        tables={
            "leads": [
                *default_leads(),
                {
                    "lead_id": "L4",
                    "created_at": dt("2026-03-05 08:00"),
                    "lead_source": " Events ",
                    "company_size": -4,
                    "industry": "N/A",
                    "country": "-",
                    "job_title": "Head of IT",
                    "email": "no-at-sign",
                },
                # duplicate key: the later copy is quarantined
                {
                    "lead_id": "L1",
                    "created_at": dt("2026-01-02 09:00"),
                    "lead_source": "organic",
                    "company_size": 1,
                    "industry": None,
                    "country": None,
                    "job_title": None,
                    "email": None,
                },
            ],
            "activities": [
                {
                    "activity_id": "A1",
                    "lead_id": "L1",
                    "occurred_at": dt("2026-01-02 10:00"),
                    "activity_type": " Page_View ",
                },
                {
                    "activity_id": "A2",
                    "lead_id": "L1",
                    "occurred_at": dt("2026-01-03 10:00"),
                    "activity_type": "chat_message",
                },
                {
                    "activity_id": "A3",
                    "lead_id": "L404",
                    "occurred_at": dt("2026-01-03 10:00"),
                    "activity_type": "page_view",
                },
                {
                    "activity_id": "A4",
                    "lead_id": "L1",
                    "occurred_at": dt("2031-01-01 00:00"),
                    "activity_type": "page_view",
                },
                {
                    "activity_id": None,
                    "lead_id": "L1",
                    "occurred_at": dt("2026-01-04 00:00"),
                    "activity_type": "email_open",
                },
                {
                    "activity_id": "A5",
                    "lead_id": "L3",
                    "occurred_at": dt("2026-03-02 00:00"),
                    "activity_type": "meeting",
                },
            ],
        },
        skip=("lead_status_changes",),
    )
    (raw / "lead_status_changes.csv").write_text(
        "lead_id,status,changed_at\nL1,MQL,2026-01-05 10:00:00\nL1,sql,not a date\n"
        "L3,disqualified,2026-04-01\n"
    )
    run = dbt_runner(["build"], raw)
    assert run.returncode == 0, run.output[-4000:]

    leads = {
        r[0]: r[1:]
        for r in run.query(
            "select lead_id, lead_source, company_size, industry, country, job_title, "
            "has_malformed_company_size, has_malformed_email from stg_crm__leads"
        )
    }
    assert set(leads) == {"L1", "L2", "L3", "L4"}
    assert leads["L1"][0] == "organic" and leads["L1"][1] == 250  # earliest copy kept
    assert leads["L2"][2:5] == (None, "de", None)  # 'Select'/'unknown' are unknown
    assert leads["L4"] == ("events", None, None, None, "head of it", True, True)

    types = dict(run.query("select activity_id, activity_type from stg_crm__activities"))
    assert types == {"A1": "page_view", "A2": "other", "A5": "meeting"}

    rejected = sorted(
        run.query(
            "select source_table, coalesce(record_key, '?'), rejection_reason "
            "from stg_crm__rejected_rows"
        )
    )
    assert rejected == [
        ("activities", "?", "null_key"),
        ("activities", "A3", "orphan_lead_id"),
        ("activities", "A4", "future_timestamp"),
        ("lead_status_changes", "L1", "unparseable_timestamp"),
        ("leads", "L1", "duplicate_key"),
    ]
    stage = dict(run.query("select lead_id, current_stage from fct_lead_lifecycle"))
    assert stage == {"L1": "mql", "L2": "new", "L3": "disqualified", "L4": "new"}


def test_every_raw_row_is_either_staged_or_quarantined(small_build):
    staged = {
        "leads": "stg_crm__leads",
        "activities": "stg_crm__activities",
        "opportunities": "stg_crm__opportunities",
        "lead_status_changes": "stg_crm__lead_status_changes",
    }
    for table in RAW_TABLES:
        raw_rows = pq.read_metadata(small_build.raw_dir / f"{table}.parquet").num_rows
        kept = small_build.scalar(f"select count(*) from {staged[table]}")
        rejected = small_build.scalar(
            f"select count(*) from stg_crm__rejected_rows where source_table = '{table}'"
        )
        assert kept + rejected == raw_rows, table
        assert kept > 0, table


def test_injected_faults_are_quarantined_or_mapped(small_build):
    reasons = {
        r[0]
        for r in small_build.query("select distinct rejection_reason from stg_crm__rejected_rows")
    }
    assert {"duplicate_key", "null_key", "future_timestamp", "orphan_lead_id"} <= reasons
    assert (
        small_build.scalar("select count(*) from stg_crm__activities where activity_type = 'other'")
        > 0
    )
    faults = json.loads((small_build.raw_dir.parent / "truth" / "faults.json").read_text())
    assert sum(faults.values()) > 0


def test_lifecycle_stages_are_ordered_and_match_sources(small_build):
    bad = small_build.scalar("""
        select count(*) from fct_lead_lifecycle
        where opportunity_at < created_at - interval 1 day
           or won_at < opportunity_at or lost_at < opportunity_at
    """)
    assert bad == 0
    mismatch = small_build.scalar("""
        with o as (select lead_id, min(created_at) as first_at
                   from stg_crm__opportunities group by lead_id)
        select count(*) from fct_lead_lifecycle f
        full join o using (lead_id)
        where f.opportunity_at is distinct from o.first_at
    """)
    assert mismatch == 0
    stages = dict(
        small_build.query("select current_stage, count(*) from fct_lead_lifecycle group by 1")
    )
    assert {"won", "lost", "mql", "disqualified", "new"} <= set(stages)
    funnel_total = small_build.scalar("select sum(n_leads) from lead_funnel")
    assert funnel_total == small_build.scalar("select count(*) from stg_crm__leads")
