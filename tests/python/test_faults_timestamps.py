"""Timestamps as CRMs write them, no machine time zone, and clear stops (docs/inputs.md,
"What staging does with messy data").

The dbt runs build the staging part only (`+int_as_of_resolved`); cases that do not
interfere share one export.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import pyarrow as pa
import pytest
import yaml
from rawdata import SCHEMAS, default_leads, dt, write_raw

PROJECT_DIR = Path(__file__).resolve().parents[2]
STAGING = ["build", "--select", "+int_as_of_resolved", "--indirect-selection", "cautious"]
US_FORMAT = "%m/%d/%Y %H:%M"
DOTTED_FORMAT = "%d.%m.%Y"


def _csv(path: Path, header: str, rows: list[str]) -> None:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


def _utc_aware_leads_schema() -> pa.Schema:
    schema = SCHEMAS["leads"]
    index = schema.get_field_index("created_at")
    return schema.set(index, pa.field("created_at", pa.timestamp("us", tz="UTC")))


def _skipped(node: str, output: str) -> bool:
    """The node did not run (dbt stopped before it), rather than failed."""
    lines = [line for line in output.splitlines() if node in line]
    return all("SKIP" in line for line in lines)


# --- no dbt ------------------------------------------------------------------------------------


def test_every_profile_output_sets_the_time_zone_to_utc():
    outputs = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())["leadscore"]["outputs"]
    assert {name: out.get("settings", {}).get("TimeZone") for name, out in outputs.items()} == {
        name: "UTC" for name in outputs
    }


def test_package_connections_are_utc_on_a_new_york_machine():
    probe = (
        "import duckdb; from leadscore import duck; q = \"select current_setting('TimeZone')\"; "
        "print(duckdb.connect().execute(q).fetchone()[0], duck.connect().execute(q).fetchone()[0])"
    )
    env = {**os.environ, "TZ": "America/New_York"}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["America/New_York", "UTC"], out.stderr


def test_no_package_or_benchmark_module_opens_duckdb_without_the_helper():
    hint = "import duckdb; print(duckdb.connect("  # a command printed for the user
    openers = [
        str(path.relative_to(PROJECT_DIR))
        for folder in ("leadscore", "benchmarks")
        for path in (PROJECT_DIR / folder).rglob("*.py")
        if path.name != "duck.py"
        and path.read_text().count("duckdb.connect(") > path.read_text().count(hint)
    ]
    assert openers == []


# --- staging: conversions ----------------------------------------------------------------------


@pytest.mark.e2e
def test_offsets_z_and_timestamptz_columns_become_utc_under_a_new_york_clock(
    dbt_runner, tmp_path: Path
):
    """Leads: a Parquet TIMESTAMPTZ column; activities: a CSV of text timestamps. Built with
    TZ=America/New_York, the staged values are the UTC ones (old code: +05:00 kept as 13:00,
    TIMESTAMPTZ shifted by the New York offset)."""
    leads = [
        {**row, "created_at": row["created_at"].replace(tzinfo=UTC)} for row in default_leads()
    ]
    raw = write_raw(
        tmp_path / "raw",
        tables={"leads": leads},
        schemas={"leads": _utc_aware_leads_schema()},
        skip=("activities",),
    )
    _csv(
        raw / "activities.csv",
        "activity_id,lead_id,occurred_at,activity_type",
        [
            "A1,L1,2026-01-02T13:00:00+05:00,page_view",
            "A2,L1,2026-01-02T13:00:00Z,page_view",
            "A3,L1,2026-01-02 13:00:00 -0530,page_view",
            "A4,L1,2026-01-02 13:00:00,page_view",  # naive: UTC by contract, unchanged
            "A5,L1,01/02/2026 13:00,page_view",  # one US date among ISO ones: quarantined
        ],
    )
    run = dbt_runner(STAGING, raw, extra_env={"TZ": "America/New_York"})
    assert run.returncode == 0, run.output[-4000:]
    assert run.query("select lead_id, created_at from stg_crm__leads order by 1") == [
        (row["lead_id"], row["created_at"]) for row in default_leads()
    ]
    assert run.query(
        "select activity_id, occurred_at, rejection_reason from base_crm__activities order by 1"
    ) == [
        ("A1", dt("2026-01-02 08:00"), None),
        ("A2", dt("2026-01-02 13:00"), None),
        ("A3", dt("2026-01-02 18:30"), None),
        ("A4", dt("2026-01-02 13:00"), None),
        ("A5", None, "unparseable_timestamp"),
    ]
    assert run.query(
        "select record_key, timestamp_raw from stg_crm__rejected_rows "
        "where rejection_reason = 'unparseable_timestamp'"
    ) == [("A5", "01/02/2026 13:00")]


def _us_dated_export(raw: Path) -> Path:
    """An export written by a US-locale CRM: leads and activities in US dates, status changes
    in dotted day-first dates; no opportunities."""
    write_raw(raw, skip=("leads", "activities", "lead_status_changes"))
    _csv(
        raw / "leads.csv",
        "lead_id,created_at,lead_source,company_size,industry,country,job_title,email",
        [
            "L1,01/02/2026 13:00,organic,10,software,us,cto,a@acme.io",
            "L2,01/20/2026 09:30,referral,20,finance,us,cfo,b@bank.com",
        ],
    )
    _csv(
        raw / "activities.csv",
        "activity_id,lead_id,occurred_at,activity_type",
        ["A1,L1,01/03/2026 08:15,page_view", "A2,L2,01/21/2026 17:45,demo_request"],
    )
    _csv(
        raw / "lead_status_changes.csv",
        "lead_id,status,changed_at",
        ["L1,mql,04.01.2026", "L2,mql,22.01.2026"],
    )
    return raw


@pytest.mark.e2e
def test_a_us_dated_export_stops_with_the_columns_and_the_formats_to_set(
    dbt_runner, tmp_path: Path
):
    raw = _us_dated_export(tmp_path / "raw")
    run = dbt_runner(STAGING, raw)
    assert run.returncode != 0
    assert (
        "all 2 rows of leads.created_at failed to parse, e.g. '01/02/2026 13:00'; "
        "all 2 rows of activities.occurred_at failed to parse, e.g. '01/03/2026 08:15'; "
        "all 2 rows of lead_status_changes.changed_at failed to parse, e.g. '04.01.2026'; "
        f"set var timestamp_formats: ['{US_FORMAT}', '{DOTTED_FORMAT}']"
    ) in " ".join(run.output.split())
    assert _skipped("not_null_int_as_of_resolved_as_of", run.output)
    # the staging part is built: every row is in the quarantine, with its reason
    assert run.query(
        "select source_table, count(*) from stg_crm__rejected_rows "
        "where rejection_reason = 'unparseable_timestamp' group by 1 order by 1"
    ) == [("activities", 2), ("lead_status_changes", 2), ("leads", 2)]


@pytest.mark.e2e
def test_a_us_dated_export_builds_with_timestamp_formats(dbt_runner, tmp_path: Path):
    raw = _us_dated_export(tmp_path / "raw")
    formats = f'{{"timestamp_formats": ["{US_FORMAT}", "{DOTTED_FORMAT}"]}}'
    run = dbt_runner([*STAGING, "--vars", formats], raw)
    assert run.returncode == 0, run.output[-4000:]
    assert run.query("select lead_id, created_at from stg_crm__leads order by 1") == [
        ("L1", dt("2026-01-02 13:00")),
        ("L2", dt("2026-01-20 09:30")),
    ]
    assert run.query("select activity_id, occurred_at from stg_crm__activities order by 1") == [
        ("A1", dt("2026-01-03 08:15")),
        ("A2", dt("2026-01-21 17:45")),
    ]
    assert run.query("select lead_id, changed_at from stg_crm__lead_status_changes order by 1") == [
        ("L1", dt("2026-01-04 00:00")),
        ("L2", dt("2026-01-22 00:00")),
    ]
    assert run.scalar("select count(*) from stg_crm__rejected_rows") == 0


# --- staging: stops ----------------------------------------------------------------------------


@pytest.mark.e2e
def test_an_empty_leads_table_stops_with_the_file(dbt_runner, tmp_path: Path):
    raw = write_raw(tmp_path / "raw", tables={"leads": []})
    run = dbt_runner(STAGING, raw)
    assert run.returncode != 0
    assert f"leads has 0 rows in {raw}/leads.parquet" in run.output
    assert _skipped("not_null_int_as_of_resolved_as_of", run.output)


@pytest.mark.e2e
def test_no_usable_lead_stops_with_the_reasons(dbt_runner, tmp_path: Path):
    """Rows that fail one by one (not a whole column): every lead is quarantined."""
    leads = default_leads()
    leads[0]["lead_id"] = None  # null_key
    leads[1]["created_at"] = dt("2099-01-01 00:00")  # future_timestamp
    leads[2]["created_at"] = dt("2098-01-01 00:00")
    raw = write_raw(tmp_path / "raw", tables={"leads": leads})
    run = dbt_runner(STAGING, raw)
    assert run.returncode != 0
    assert (
        "no usable lead: all 3 leads were quarantined (reasons: future_timestamp 2, "
        "null_key 1); see stg_crm__rejected_rows"
    ) in run.output
    assert run.scalar("select count(*) from stg_crm__rejected_rows") == 3


@pytest.mark.e2e
def test_a_latin1_csv_stops_with_re_save_as_utf8(dbt_runner, tmp_path: Path):
    raw = write_raw(tmp_path / "raw", skip=("leads",))
    (raw / "leads.csv").write_bytes(
        "lead_id,created_at,lead_source\nL1,2026-01-01 09:00,Café\n".encode()  # UTF-8 é is fine
        + "L2,2026-01-02 09:00,Caf\xe9\n".encode("latin-1")
    )
    run = dbt_runner(["build", "--select", "base_crm__leads"], raw)
    assert run.returncode != 0
    assert (
        f"leads.csv is not UTF-8 (byte 0xE9 at line 3, byte 81 of {raw}/leads.csv): "
        "re-save it as UTF-8 (Excel: Save As → CSV UTF-8)"
    ) in " ".join(run.output.split())
    assert "encoding=" not in run.output
