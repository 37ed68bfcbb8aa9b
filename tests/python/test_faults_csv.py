"""Fault-injection suite, CSV quirks that must keep holding: a UTF-8 BOM, ';' as delimiter,
CRLF line ends, quoted newlines and delimiters inside a field, 600 distinct values of one
category, and a file with every firmographic column empty. One staging build.
"""

from __future__ import annotations

import pytest
from conftest import DbtRun, run_dbt
from rawdata import write_raw

pytestmark = pytest.mark.e2e

N_LEADS = 600


def _leads_csv() -> str:
    rows = ["lead_id;created_at;lead_source;company_size;industry;country;job_title;email"]
    for i in range(N_LEADS):
        title = '"Head of\nGrowth; EMEA"' if i == 0 else "CFO"
        firmographics = ";;;" if i % 2 else f"{10 + i};industry_{i:03d};DE;{title}"
        if i % 2:
            firmographics += ";"  # the job_title column of an odd lead is empty too
        rows.append(f"L{i};2026-01-{1 + i % 28:02d} 09:00:00;organic;{firmographics};")
    return "\ufeff" + "\r\n".join(rows) + "\r\n"


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    work = tmp_path_factory.mktemp("faults_csv")
    raw = write_raw(work / "raw", skip=("leads",))
    (raw / "leads.csv").write_text(_leads_csv(), encoding="utf-8", newline="")
    run = run_dbt(["build", "--select", "staging", "--indirect-selection", "cautious"], raw, work)
    assert run.returncode == 0, run.output[-4000:]
    return run


def test_bom_semicolons_and_crlf_lose_no_row_and_no_column(staged):
    assert staged.scalar("select count(*) from stg_crm__leads") == N_LEADS
    assert staged.scalar("select count(*) from stg_crm__rejected_rows") == 0
    first = staged.query("select lead_id, lead_source, created_at from stg_crm__leads limit 1")
    assert first[0][0].startswith("L") and first[0][1] == "organic"  # no BOM in the first key


def test_a_quoted_newline_and_delimiter_stay_inside_their_field(staged):
    title = staged.scalar("select job_title from stg_crm__leads where lead_id = 'L0'")
    assert title == "head of\ngrowth; emea"


def test_hundreds_of_category_values_and_empty_firmographics_are_kept(staged):
    assert staged.scalar("select count(distinct industry) from stg_crm__leads") == N_LEADS // 2
    empty = staged.scalar(
        "select count(*) from stg_crm__leads where industry is null and company_size is null "
        "and country is null and job_title is null"
    )
    assert empty == N_LEADS // 2
