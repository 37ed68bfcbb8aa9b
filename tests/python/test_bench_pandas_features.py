"""The benchmark's pandas reference (benchmarks/pandas_features.py) computes exactly the SQL
lead_features: every column, every open lead, on generated data with faults, with the vars the
benchmark runs with (the defaults). If the SQL features change, this fails until the pandas
copy follows, so the benchmark's "feature layer vs pandas" ratio keeps comparing the same
work. (The benchmark also checks a sample of leads before it times anything.)"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import PROJECT_DIR, generate_raw, run_dbt

if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from benchmarks.pandas_features import (
    FeatureParams,
    compare_features,
    lead_features,
    load_staged,
)

NO_TESTS = ["--exclude-resource-type", "test", "unit_test"]


def _check(db: Path) -> int:
    """Compare the SQL table with the pandas result; the number of leads compared."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        sql = con.sql("select * from lead_features").df()
        pandas_rows = lead_features(load_staged(con), FeatureParams.from_project(PROJECT_DIR))
    finally:
        con.close()
    assert compare_features(sql, pandas_rows) == []
    assert sorted(sql["lead_id"]) == sorted(pandas_rows["lead_id"])
    return len(sql)


@pytest.mark.e2e
def test_pandas_features_equal_the_sql_feature_layer(tmp_path: Path) -> None:
    raw = generate_raw(tmp_path, n_leads=2500, seed=23, faults=0.005)
    run = run_dbt(["build", "--select", "+lead_features", *NO_TESTS], raw, tmp_path)
    assert run.returncode == 0, run.output[-4000:]
    assert _check(run.db_path) > 1000


def test_compare_features_reports_every_kind_of_difference() -> None:
    sql = pd.DataFrame(
        {
            "lead_id": ["a", "b", "c"],
            "n": [1, 2, 3],
            "x": [0.5, None, 2.0],
            "s": ["p", None, "q"],
            "at": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"]),
        }
    )
    assert compare_features(sql, sql.copy()) == []
    changed = sql.copy()
    changed.loc[0, "n"] = 9
    changed.loc[1, "x"] = 0.0  # NULL vs 0 is a difference
    changed.loc[2, "s"] = "r"
    changed.loc[2, "at"] = pd.Timestamp("2026-01-04")
    problems = compare_features(sql, changed)
    assert [p.split(":")[0] for p in problems] == ["n", "x", "s", "at"]
    assert compare_features(sql, sql.drop(columns="x"))[0].startswith("columns differ")
    assert "missing in pandas" in compare_features(sql, sql.iloc[:2])[0]
