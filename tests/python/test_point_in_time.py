"""Point-in-time correctness: tests that fail when a feature sees data at or after T.

The strongest check builds features as of T twice — on the full data and on a copy with
every row at or after T removed — and demands identical features. Rows placed exactly at T
make the boundary itself part of the test (an `<=` instead of `<` would be caught).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import PROJECT_DIR, DbtRun, generate_raw, run_dbt

pytestmark = pytest.mark.e2e

# columns that describe the row rather than the lead's features
NOT_FEATURES = {"lead_id", "as_of", "snapshot_at", "last_input_at"}
BUILD = [
    "build",
    "--select",
    "+lead_features",
    "+training_snapshots",
    "--indirect-selection",
    "cautious",
]


def _copy_raw(src: Path, dst: Path, as_of: datetime | None) -> Path:
    """Copy raw tables; with as_of, drop every row at or after it (opportunities still open
    at as_of lose their outcome). Both copies get the same activities exactly at T for some
    leads open at T, so a boundary leak shows up as a difference."""
    dst.mkdir(parents=True)
    con = duckdb.connect()
    t = f"timestamp '{as_of:%Y-%m-%d %H:%M:%S}'" if as_of else None
    queries = {
        "leads": "select * from read_parquet('{p}')" + (f" where created_at < {t}" if t else ""),
        "activities": "select * from read_parquet('{p}')"
        + (f" where occurred_at < {t}" if t else ""),
        "lead_status_changes": "select * from read_parquet('{p}')"
        + (f" where changed_at < {t}" if t else ""),
        "opportunities": (
            "select opportunity_id, lead_id, created_at, "
            f"case when closed_at < {t} then closed_at end as closed_at, "
            f"case when closed_at < {t} then is_won end as is_won, amount "
            f"from read_parquet('{{p}}') where created_at < {t}"
            if t
            else "select * from read_parquet('{p}')"
        ),
    }
    for table, sql in queries.items():
        src_file = src / f"{table}.parquet"
        con.execute(f"copy ({sql.format(p=src_file)}) to '{dst / table}.parquet'")
    con.close()
    return dst


def _add_boundary_activities(raw: Path, at: datetime, lead_ids: list[str]) -> None:
    """Activities exactly at T (page views and a demo request) for the given leads."""
    con = duckdb.connect()
    path = raw / "activities.parquet"
    rows = ", ".join(
        f"('BOUNDARY{i}', '{lead}', timestamp '{at:%Y-%m-%d %H:%M:%S}', '{kind}')"
        for i, (lead, kind) in enumerate(
            (lead, kind) for lead in lead_ids for kind in ("pricing_page_view", "demo_request")
        )
    )
    con.execute(
        f"create table a as select * from read_parquet('{path}') union all "
        f"select * from (values {rows}) t(activity_id, lead_id, occurred_at, activity_type)"
    )
    con.execute(f"copy a to '{path}'")
    con.close()


def _features(run: DbtRun, table: str, time_col: str, at: datetime) -> dict[str, dict]:
    con = duckdb.connect(str(run.db_path), read_only=True)
    try:
        rel = con.sql(f"select * from {table} where {time_col} = timestamp '{at}'")
        cols = [c for c in rel.columns if c not in NOT_FEATURES | {time_col}]
        keep = [
            c
            for c in cols
            if c
            not in {
                "snapshot_kind",
                "is_matured",
                "is_converted",
                "split",
                "lead_first_snapshot_at",
            }
        ]
        return {
            row[0]: dict(zip(keep, row[1:], strict=True))
            for row in rel.select(", ".join(["lead_id", *keep])).fetchall()
        }
    finally:
        con.close()


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def _differences(left: dict[str, dict], right: dict[str, dict]) -> list[str]:
    out = []
    for lead in sorted(set(left) & set(right)):
        for col, value in left[lead].items():
            if not _same(value, right[lead][col]):
                out.append(f"{lead}.{col}: {value!r} != {right[lead][col]!r}")
    return out


def _training_leads_at(run: DbtRun, at: datetime, rest: str) -> list[str]:
    """lead_id of the training snapshots at ``at``; ``rest`` goes on the query (a further
    condition, an order and limit)."""
    sql = f"select lead_id from training_snapshots where snapshot_at = timestamp '{at}' {rest}"
    return [r[0] for r in run.query(sql)]


@pytest.fixture(scope="module")
def leak_check(tmp_path_factory: pytest.TempPathFactory):
    """Full data with activities exactly at T, and the same data cut at T; features as of T
    from both. T is a grid date of the training spine in the labelled period."""
    work = tmp_path_factory.mktemp("leak")
    generated = generate_raw(work / "gen", n_leads=2500, seed=5)
    full = _copy_raw(generated, work / "full_raw", None)

    # T: a grid point 4 months before the data ends (labelled: the window has matured)
    con = duckdb.connect()
    end = con.execute(
        f"select max(occurred_at) from read_parquet('{full}/activities.parquet')"
    ).fetchone()[0]
    con.close()
    as_of_default = datetime(end.year, end.month, end.day) + timedelta(days=1)
    t = as_of_default - timedelta(days=7 * 17)

    probe = run_dbt(BUILD, full, work / "probe_run")
    assert probe.returncode == 0, probe.output[-4000:]
    open_at_t = _training_leads_at(probe, t, "order by lead_id limit 25")
    assert len(open_at_t) >= 10, "too few open leads at T for a meaningful test"
    _add_boundary_activities(full, t, open_at_t)
    cut = _copy_raw(full, work / "cut_raw", t)

    full_run = run_dbt(BUILD, full, work / "full_run")
    assert full_run.returncode == 0, full_run.output[-4000:]
    at_t_vars = ["--vars", f"{{as_of: '{t:%Y-%m-%d %H:%M:%S}'}}"]
    full_at_t = run_dbt([*BUILD, *at_t_vars], full, work / "full_at_t")
    assert full_at_t.returncode == 0, full_at_t.output[-4000:]
    cut_at_t = run_dbt([*BUILD, *at_t_vars], cut, work / "cut_at_t")
    assert cut_at_t.returncode == 0, cut_at_t.output[-4000:]
    return t, full_run, full_at_t, cut_at_t


def test_features_at_t_ignore_every_row_at_or_after_t(leak_check):
    t, _, full_at_t, cut_at_t = leak_check
    full = _features(full_at_t, "lead_features", "as_of", t)
    cut = _features(cut_at_t, "lead_features", "as_of", t)
    assert len(full) > 100
    assert set(full) == set(cut), "the set of open leads at T depends on later data"
    assert _differences(full, cut) == []


def test_training_snapshot_at_t_equals_scoring_at_t(leak_check):
    """One feature definition: the training row at T is the scoring row at T, and the
    training table (built as of the data end) saw the future rows the cut data lacks."""
    t, full_run, _, cut_at_t = leak_check
    training = _features(full_run, "training_snapshots", "snapshot_at", t)
    scoring = _features(cut_at_t, "lead_features", "as_of", t)
    assert len(training) > 100
    assert set(training) <= set(scoring)
    assert _differences(training, scoring) == []


def test_label_is_not_visible_in_features(leak_check):
    """The converters at T (label true) have their conversion only in the full data; their
    features match the cut data, where the conversion does not exist yet."""
    t, full_run, _, cut_at_t = leak_check
    positives = _training_leads_at(full_run, t, "and is_converted")
    assert len(positives) >= 5, "too few converters at T for a meaningful test"
    training = _features(full_run, "training_snapshots", "snapshot_at", t)
    scoring = _features(cut_at_t, "lead_features", "as_of", t)
    assert _differences({k: training[k] for k in positives}, scoring) == []
    # and the outcome tables do reach past T in the full data (the test has teeth)
    later = full_run.scalar(
        f"select count(*) from stg_crm__opportunities where created_at >= timestamp '{t}'"
    )
    assert later > 0


def test_every_feature_column_is_documented(leak_check):
    _, full_run, _, _ = leak_check
    spec = yaml.safe_load((PROJECT_DIR / "models/features/_features.yml").read_text())
    for model in spec["models"]:
        documented = {c["name"] for c in model["columns"]}
        actual = {
            r[0]
            for r in full_run.query(
                "select column_name from information_schema.columns "
                f"where table_name = '{model['name']}'"
            )
        }
        assert actual == documented, model["name"]


def test_training_sample_keeps_features_and_caps_leads(leak_check, tmp_path: Path):
    """max_training_leads: the spine holds exactly that many leads (the same ones on a
    rerun, chosen by hash), and their training rows equal the unsampled build's — the
    sampled running totals must not lose or mix up any lead's activity."""
    _, full_run, _, _ = leak_check
    n_all = full_run.scalar("select count(distinct lead_id) from training_snapshots")
    cap = n_all // 3
    sampled = run_dbt(
        [*BUILD, "--vars", f"{{max_training_leads: {cap}}}"], full_run.raw_dir, tmp_path / "s"
    )
    assert sampled.returncode == 0, sampled.output[-4000:]
    leads = {r[0] for r in sampled.query("select distinct lead_id from int_snapshot_spine")}
    assert 0 < len(leads) <= cap
    # every spine lead of the sample is a spine lead of the full build (a sample, not new rows)
    full_leads = {r[0] for r in full_run.query("select distinct lead_id from int_snapshot_spine")}
    assert leads <= full_leads
    # the running totals hold only sampled leads
    accumulated = {
        r[0] for r in sampled.query("select distinct lead_id from int_activities_accumulated")
    }
    assert accumulated <= leads and len(accumulated) > len(leads) // 2
    for t in [
        r[0]
        for r in sampled.query(
            "select snapshot_at from training_snapshots group by 1 order by count(*) desc limit 3"
        )
    ]:
        small = _features(sampled, "training_snapshots", "snapshot_at", t)
        full = _features(full_run, "training_snapshots", "snapshot_at", t)
        assert small and set(small) <= set(full)
        assert _differences(small, {k: full[k] for k in small}) == []
    # lead_features (scoring) is not sampled
    assert sampled.scalar("select count(*) from lead_features") == full_run.scalar(
        "select count(*) from lead_features"
    )
