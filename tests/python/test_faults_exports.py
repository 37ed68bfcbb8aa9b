"""Fault-injection suite, whole exports: the same generated CRM written as a spreadsheet export
(excel_csv: 1,000 / 51-200, $4,900.00, Y/N, timestamps with UTC offsets) and as TIMESTAMPTZ
Parquet read on a New York machine must give the features and labels of the plain export.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_dbt

pytestmark = pytest.mark.e2e

SEED, N_LEADS = 17, 1500
SELECT = ["build", "--select", "+lead_features", "+int_lead_outcomes", "stg_crm__opportunities"]
FEATURES_SQL = "select * from lead_features order by lead_id"
OUTCOMES_SQL = "select * from int_lead_outcomes order by lead_id"


def _build(work: Path, export_format: str, extra_env: dict[str, str] | None = None):
    raw = work / export_format / "raw"
    subprocess.run(
        [sys.executable, "-m", "leadscore.generate", "--leads", str(N_LEADS), "--seed",
         str(SEED), "--end-date", "2026-09-30", "--out", str(raw), "--export-format",
         export_format],
        check=True,
        capture_output=True,
    )  # fmt: skip
    run = run_dbt([*SELECT, "--indirect-selection", "cautious"], raw, work / export_format,
                  extra_env=extra_env)  # fmt: skip
    assert run.returncode == 0, run.output[-4000:]
    return run


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("faults_exports")
    return {
        "parquet": _build(work, "parquet"),
        "excel_csv": _build(work, "excel_csv"),
        "parquet_tz": _build(work, "parquet_tz", {"TZ": "America/New_York"}),
    }


def _rows(run, sql: str) -> list[dict]:
    """The rows, floats rounded to 9 significant digits (parallel sums differ in the last bit)."""
    columns = [r[0] for r in run.query(f"describe {sql}")]
    return [
        {
            c: float(f"{v:.9g}") if isinstance(v, float) else v
            for c, v in zip(columns, row, strict=True)
        }
        for row in run.query(sql)
    ]


def test_timestamptz_parquet_on_a_new_york_machine_gives_the_same_features(builds):
    assert _rows(builds["parquet_tz"], FEATURES_SQL) == _rows(builds["parquet"], FEATURES_SQL)
    assert _rows(builds["parquet_tz"], OUTCOMES_SQL) == _rows(builds["parquet"], OUTCOMES_SQL)


def test_a_spreadsheet_export_gives_the_same_features_but_for_size_ranges(builds):
    plain = {r["lead_id"]: r for r in _rows(builds["parquet"], FEATURES_SQL)}
    excel = {r["lead_id"]: r for r in _rows(builds["excel_csv"], FEATURES_SQL)}
    assert excel.keys() == plain.keys()
    ranged = {
        lead
        for lead, (flag,) in (
            (r[0], r[1:])
            for r in builds["excel_csv"].query(
                "select lead_id, has_company_size_range from stg_crm__leads"
            )
        )
        if flag
    }
    assert 0 < len(ranged) < len(plain) / 4
    size_columns = {c for c in next(iter(plain.values())) if "size" in c}
    for lead, row in plain.items():
        other = excel[lead]
        skip = size_columns if lead in ranged else set()
        assert {k: v for k, v in other.items() if k not in skip} == {
            k: v for k, v in row.items() if k not in skip
        }, lead
    # every outcome (wins from Y/N, amounts from $4,900.00, times from offsets) is the same
    assert _rows(builds["excel_csv"], OUTCOMES_SQL) == _rows(builds["parquet"], OUTCOMES_SQL)
    wins = "select count(*) filter (where is_won), sum(amount) from stg_crm__opportunities"
    assert builds["excel_csv"].query(wins) == builds["parquet"].query(wins)
    malformed = builds["excel_csv"].scalar(
        "select count(*) from stg_crm__opportunities where has_malformed_amount "
        "or has_malformed_is_won"
    )
    assert malformed == 0
