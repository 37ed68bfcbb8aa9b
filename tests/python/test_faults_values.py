"""Numbers, booleans and keys as CRM exports write them: nothing silently NULL (issue 19).

One build of staging + data_quality on one Excel-style export that combines the value cases
(CSV columns arrive as text: that is where the formatting lives), one `dbt show` for the
decimal comma, and two small runs for the orphan stop. Every test asserts the exact outcome:
the parsed value, the flag, the malformed share and its status, the error text.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pytest
from conftest import DbtRun, run_dbt
from rawdata import SCHEMAS, dt, write_raw

pytestmark = pytest.mark.e2e

STAGING = ["--select", "staging", "--indirect-selection", "cautious"]
LEAD_COLUMNS = ["lead_id", "created_at", "lead_source", "company_size", "industry", "country",
                "job_title", "email"]  # fmt: skip
OPPORTUNITY_COLUMNS = ["opportunity_id", "lead_id", "created_at", "closed_at", "is_won", "amount"]

# lead_id -> company_size as an Excel export writes it, and what staging must make of it:
# (company_size, has_malformed_company_size, has_company_size_range)
COMPANY_SIZES = {
    "1": ("1,000", 1000.0, False, False),
    "2": ("51-200", 51.0, False, True),  # a range: its lower bound (DECISIONS.md)
    "3": ("abc", None, True, False),
    "4": ("1 000", 1000.0, False, False),
    "5": ("10,001+", 10001.0, False, True),
    "6": ("", None, False, False),  # empty: unknown, not malformed
    "7": ("n/a", None, False, False),  # a placeholder: unknown, not malformed
    "8": ("1,001 - 5,000", 1001.0, False, True),
}
N_FILLER_LEADS = 17  # 25 leads in all: one malformed company_size is a share of 0.04 (watch)

# opportunity_id -> (lead_id, closed_at, is_won, amount) as written, and what staging must
# make of it: (is_won, has_malformed_is_won, amount, has_malformed_amount)
OPPORTUNITIES = {
    "O1": (("1", "2026-03-05", "Y", "$4,900.00"), (True, False, 4900.0, False)),
    "O2": (("2", "2026-03-05", "N", "4900,0"), (False, False, None, True)),
    "O3": (("3", "2026-03-05", "1.0", "USD 1 200"), (True, False, 1200.0, False)),
    "O4": (("4.0", "2026-03-05", "closed won", "€950"), (True, False, 950.0, False)),
    "O5": (("5", "2026-03-05", " Closed Lost ", ""), (False, False, None, False)),
    "O6": (("6", "2026-03-05", " yes ", "1200"), (True, False, 1200.0, False)),
    "O7": (("7", "2026-03-05", "maybe", "300"), (None, True, 300.0, False)),
    "O8": (("8", "2026-03-05", "0.0", "£80"), (False, False, 80.0, False)),
    "O9": (("1", "", "", ""), (None, False, None, False)),  # open: no outcome, no amount
    "O10": (("2", "2026-03-06", "Gewonnen", "10"), (True, False, 10.0, False)),  # the var
    "O11": (("3", "2026-03-06", "closed_won", "20"), (True, False, 20.0, False)),
    "O12": (("4", "2026-03-06", "F", "30"), (False, False, 30.0, False)),
}
VALUE_VARS = '{"is_won_true_values": ["GEWONNEN "]}'


def write_csv(path: Path, columns: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(rows)


def value_export(raw: Path) -> Path:
    """leads and opportunities as CSV, activities as Parquet with a float lead_id (pandas
    writes an integer column with NULLs as float64), lead_status_changes empty."""
    float_ids = pa.schema(
        [pa.field("lead_id", pa.float64()) if f.name == "lead_id" else f
         for f in SCHEMAS["activities"]]
    )  # fmt: skip
    activities = [
        {"activity_id": "A1", "lead_id": 1.0, "occurred_at": dt("2026-03-03 10:00"),
         "activity_type": "page_view"},
        {"activity_id": "A2", "lead_id": 2.0, "occurred_at": dt("2026-03-03 11:00"),
         "activity_type": "email_open"},
        {"activity_id": "A3", "lead_id": None, "occurred_at": dt("2026-03-03 12:00"),
         "activity_type": "email_open"},
    ]  # fmt: skip
    write_raw(
        raw,
        tables={"activities": activities},
        skip=("leads", "opportunities"),
        schemas={"activities": float_ids},
    )
    leads = [
        [lead_id, f"2026-03-0{i % 5 + 1} 09:00:00", "organic", size, "software", "us", "cto",
         f"u{lead_id}@acme.io"]
        for i, (lead_id, (size, *_)) in enumerate(COMPANY_SIZES.items())
    ] + [
        [f"{100 + i}", "2026-03-02 09:00:00", "organic", "12", "", "", "", ""]
        for i in range(N_FILLER_LEADS)
    ]  # fmt: skip
    write_csv(raw / "leads.csv", LEAD_COLUMNS, leads)
    write_csv(
        raw / "opportunities.csv",
        OPPORTUNITY_COLUMNS,
        [
            [opp_id, lead_id, "2026-03-04 09:00:00", closed_at, is_won, amount]
            for opp_id, ((lead_id, closed_at, is_won, amount), _) in OPPORTUNITIES.items()
        ],
    )
    return raw


@pytest.fixture(scope="module")
def values_build(tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    work = tmp_path_factory.mktemp("faults_values")
    raw = value_export(work / "raw")
    run = run_dbt(
        ["build", "--select", "+data_quality_scores", "--indirect-selection", "cautious",
         "--vars", VALUE_VARS],
        raw,
        work,
    )  # fmt: skip
    assert run.returncode == 0, run.output[-6000:]
    return run


def check(run: DbtRun, table: str, column: str, check_name: str) -> tuple:
    return run.query(
        "select value_all, value_judged, status from data_quality "
        f"where source_table = '{table}' and column_name = '{column}' "
        f"and check_name = '{check_name}'"
    )[0]


# --- numbers ----------------------------------------------------------------------------------


def test_company_size_reads_separators_and_ranges_and_keeps_unknown_apart(values_build):
    rows = values_build.query("select lead_id, company_size from stg_crm__leads")
    got = {lead_id: size for lead_id, size in rows if lead_id in COMPANY_SIZES}
    assert got == {lead_id: want[1] for lead_id, want in COMPANY_SIZES.items()}


def test_company_size_flags_what_did_not_parse_and_what_was_a_range(values_build):
    rows = values_build.query(
        "select lead_id, has_malformed_company_size, has_company_size_range from stg_crm__leads"
    )
    got = {lead_id: flags for lead_id, *flags in rows if lead_id in COMPANY_SIZES}
    assert got == {lead_id: list(want[2:]) for lead_id, want in COMPANY_SIZES.items()}


def test_a_company_size_that_does_not_parse_is_counted_as_malformed(values_build):
    # 'abc' is 1 of 25 leads: 0.04, at or above watch (0.01), below alert (0.05)
    assert check(values_build, "leads", "company_size", "malformed_share") == (
        pytest.approx(0.04),
        pytest.approx(0.04),
        "watch",
    )
    # the three ranges are reported, never judged
    assert check(values_build, "leads", "company_size", "range_share") == (
        pytest.approx(0.12), pytest.approx(0.12), "info")  # fmt: skip


def test_amounts_with_currency_and_separators_parse_and_the_rest_is_flagged(values_build):
    rows = values_build.query(
        "select opportunity_id, amount, has_malformed_amount from stg_crm__opportunities"
    )
    got = {opp_id: (amount, flag) for opp_id, amount, flag in rows}
    assert got == {opp_id: (want[2], want[3]) for opp_id, (_, want) in OPPORTUNITIES.items()}
    # '4900,0' (a decimal comma with decimal_separator '.') is 1 of 12: alert (>= 0.05)
    assert check(values_build, "opportunities", "amount", "malformed_share") == (
        pytest.approx(1 / 12), pytest.approx(1 / 12), "alert")  # fmt: skip


def test_decimal_separator_comma_reads_european_numbers_and_keeps_typed_ones(
    dbt_runner, tmp_path: Path
):
    raw = write_raw(tmp_path / "raw")
    sql = (
        "select v, {{ leadscore.parse_crm_number('v') }} as n, "
        "{{ leadscore.parse_crm_number('d') }} as typed from (values "
        "('4900,0', 1.125::double), ('4.900,00 €', 4900.5::double), ('1.000', 2.0::double), "
        "('1 000,5', 0.25::double), ('4,900.00', 7.0::double)) t(v, d)"
    )
    run = dbt_runner(
        ["show", "--inline", sql, "--output", "json", "--vars", '{"decimal_separator": ","}'],
        raw,
    )
    assert run.returncode == 0, run.output[-4000:]
    shown = json.loads(run.output[run.output.index('{\n  "show"') :])["show"]
    assert {r["v"]: (r["n"], r["typed"]) for r in shown} == {
        "4900,0": (4900.0, 1.125),
        "4.900,00 €": (4900.0, 4900.5),  # a typed number is not re-read with the comma
        "1.000": (1000.0, 2.0),
        "1 000,5": (1000.5, 0.25),
        "4,900.00": (None, 7.0),  # the other format: NULL (and flagged in a base model)
    }


# --- booleans ---------------------------------------------------------------------------------


def test_is_won_reads_every_common_spelling_and_the_var(values_build):
    rows = values_build.query("select opportunity_id, is_won from stg_crm__opportunities")
    assert dict(rows) == {opp_id: want[0] for opp_id, (_, want) in OPPORTUNITIES.items()}


def test_an_is_won_that_does_not_parse_is_counted_and_every_spelled_win_counts(values_build):
    flags = values_build.query(
        "select opportunity_id, has_malformed_is_won from stg_crm__opportunities"
    )
    assert dict(flags) == {opp_id: want[1] for opp_id, (_, want) in OPPORTUNITIES.items()}
    # 'maybe' is 1 of 12 opportunities: alert
    assert check(values_build, "opportunities", "is_won", "malformed_share") == (
        pytest.approx(1 / 12), pytest.approx(1 / 12), "alert")  # fmt: skip
    won = values_build.query(
        "select opportunity_id from stg_crm__opportunities where is_won order by 1"
    )
    assert [r[0] for r in won] == ["O1", "O10", "O11", "O3", "O4", "O6"]


# --- keys -------------------------------------------------------------------------------------


def test_float_written_lead_ids_match_their_leads(values_build):
    # activities.parquet: lead_id 1.0, 2.0 (float64); opportunities.csv: '4.0'
    activities = values_build.query("select activity_id, lead_id from stg_crm__activities")
    assert sorted(activities) == [("A1", "1"), ("A2", "2")]
    assert (
        values_build.scalar(
            "select lead_id from stg_crm__opportunities where opportunity_id = 'O4'"
        )
        == "4"
    )
    rejected = values_build.query(
        "select activity_id, rejection_reason from base_crm__activities "
        "where rejection_reason is not null union all "
        "select opportunity_id, rejection_reason from base_crm__opportunities "
        "where rejection_reason is not null"
    )
    assert rejected == [("A3", "null_key")]  # no orphans


def orphan_export(raw: Path, activity_lead_ids: list[str], opportunity_lead_id: str) -> Path:
    leads = [
        {"lead_id": lead_id, "created_at": dt("2026-03-01 09:00"), "lead_source": "organic",
         "company_size": 10, "industry": None, "country": None, "job_title": None,
         "email": None}
        for lead_id in ("42", "43", "L-7")
    ]  # fmt: skip
    activities = [
        {"activity_id": f"A{i}", "lead_id": lead_id, "occurred_at": dt("2026-03-02 10:00"),
         "activity_type": "page_view"}
        for i, lead_id in enumerate(activity_lead_ids)
    ]  # fmt: skip
    opportunities = [
        {"opportunity_id": "O1", "lead_id": opportunity_lead_id,
         "created_at": dt("2026-03-03 10:00"), "closed_at": None, "is_won": None,
         "amount": None}
    ]  # fmt: skip
    tables = {"leads": leads, "activities": activities, "opportunities": opportunities}
    return write_raw(raw, tables=tables)


def test_a_child_table_of_orphans_stops_the_build_with_a_near_match(dbt_runner, tmp_path):
    raw = orphan_export(tmp_path / "raw", ["00042", "00043"], opportunity_lead_id="l-7")
    run = dbt_runner(["run", "--select", "staging"], raw)
    assert run.returncode != 0
    output = " ".join(run.output.split())
    assert (
        "activities: 100.0 % of its rows (2 of 2) have a lead_id that matches no lead (more "
        "than var max_orphan_share 0.5), e.g. activities.lead_id '00042' vs leads.lead_id "
        "'42'. Fix: export lead_id in one format in both tables (same padding, prefix and "
        "type), and rebuild (or raise max_orphan_share if these rows really have no lead)."
    ) in output
    assert (
        "opportunities: 100.0 % of its rows (1 of 1) have a lead_id that matches no lead "
        "(more than var max_orphan_share 0.5), e.g. opportunities.lead_id 'l-7' vs "
        "leads.lead_id 'L-7'. Fix: the ids differ only in case: set var "
        "case_insensitive_ids: true, and rebuild"
    ) in output


def test_a_few_orphans_are_quarantined_and_case_insensitive_ids_match(dbt_runner, tmp_path):
    raw = orphan_export(tmp_path / "raw", ["42", "43", "99"], opportunity_lead_id="l-7")
    run = dbt_runner(["run", "--select", "staging", "--vars", '{"case_insensitive_ids": true}'],
                     raw)  # fmt: skip
    assert run.returncode == 0, run.output[-4000:]
    assert sorted(run.query("select lead_id from stg_crm__leads")) == [("42",), ("43",), ("l-7",)]
    assert run.query("select lead_id from stg_crm__opportunities") == [("l-7",)]
    assert run.query("select record_key, rejection_reason from stg_crm__rejected_rows") == [
        ("a2", "orphan_lead_id")  # 1 of 3: below max_orphan_share, quarantined; every id lowercased
    ]


# --- empty child tables -----------------------------------------------------------------------


def test_an_empty_optional_table_is_not_applicable_not_an_alert(values_build):
    score = values_build.query(
        "select quality_score, status, findings, n_rows from data_quality_scores "
        "where source_table = 'lead_status_changes'"
    )
    assert score == [
        (None, "n/a", "not applicable: lead_status_changes is empty, which the source "
         "contract allows (docs/inputs.md)", 0)
    ]  # fmt: skip
    statuses = values_build.query(
        "select distinct status from data_quality where source_table = 'lead_status_changes'"
    )
    assert statuses == [("n/a",)]
    # a table with rows is still judged
    assert (
        values_build.scalar(
            "select status from data_quality_scores where source_table = 'opportunities'"
        )
        == "alert"
    )
