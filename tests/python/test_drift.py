"""leadscore.drift: PSI, KS and chi-square against hand-computed and scipy figures, bins
(quantiles, ties, NULL, unseen categories), statuses, config, importance shares, the choice of
the two populations in DuckDB, and one end-to-end build of feature_drift."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import PROJECT_DIR, generate_raw, run_dbt
from scipy import stats

from leadscore.drift import (
    DRIFT_SCHEMA,
    NULL_BIN,
    DriftConfig,
    Populations,
    TimeMatchedReference,
    bin_categorical,
    bin_numeric,
    chi_square,
    compare_feature,
    compare_populations,
    drift_status,
    feature_drift,
    importance_shares,
    ks_test,
    psi,
    quantile_edges,
)
from leadscore.preprocess import FeatureSpec, fit_preprocessor
from leadscore.registry import entries_of
from leadscore.training import Calibrator, ModelArtifact

CFG = DriftConfig()
AS_OF = datetime(2026, 10, 1)


def counts(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


# ---------------------------------------------------------------------------------------------
# PSI


def test_psi_of_identical_shares_is_zero_and_of_two_draws_of_one_distribution_is_small():
    assert psi(counts(10, 20, 70), counts(100, 200, 700), CFG.psi_floor) == 0.0
    rng = np.random.default_rng(1)
    row = compare_feature(
        "x", "numeric", pa.array(rng.normal(size=50_000)), pa.array(rng.normal(size=20_000)), CFG
    )
    # sampling noise alone is about (bins - 1) x (1/n_ref + 1/n_cur) ~ 6e-4
    assert row["psi"] < 0.003 and row["status"] == "ok"


def test_a_known_shift_gives_the_textbook_psi():
    # 50/50 -> 60/40: (0.6 - 0.5) ln(0.6/0.5) + (0.4 - 0.5) ln(0.4/0.5)
    assert psi(counts(50, 50), counts(60, 40), CFG.psi_floor) == pytest.approx(
        0.1 * math.log(1.2) + 0.1 * math.log(1.25)
    )
    # a normal shifted by half a standard deviation, on the reference's deciles: the exact
    # binned PSI from the normal CDF at the decile edges
    rng = np.random.default_rng(2)
    reference = rng.normal(size=400_000)
    current = rng.normal(loc=0.5, size=400_000)
    edges = stats.norm.ppf(np.arange(1, 10) / 10)
    cur_shares = np.diff(stats.norm.cdf(np.concatenate([[-np.inf], edges, [np.inf]]) - 0.5))
    expected = float(np.sum((cur_shares - 0.1) * np.log(cur_shares / 0.1)))
    row = compare_feature("x", "numeric", pa.array(reference), pa.array(current), CFG)
    assert row["psi"] == pytest.approx(expected, abs=0.005)
    assert 0.2 < row["psi"] < 0.25  # below the continuous limit mu^2 = 0.25
    assert row["status"] == "watch" and row["n_bins"] == 10


def test_an_empty_bin_is_floored_so_psi_stays_finite():
    # reference 100/0, current 50/50: the empty reference bin counts as share psi_floor
    expected = (0.5 - 1.0) * math.log(0.5) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    assert psi(counts(100, 0), counts(50, 50), 1e-4) == pytest.approx(expected)
    # a larger floor makes the same empty bin count less
    assert psi(counts(100, 0), counts(50, 50), 1e-3) < expected


# ---------------------------------------------------------------------------------------------
# bins


def test_null_gets_its_own_bin_and_counts_in_psi():
    # ten values each 9 % of the reference / 7 % of today; NULL 10 % -> 30 %
    reference = np.concatenate([np.repeat(np.arange(10.0), 90), np.full(100, np.nan)])
    current = np.concatenate([np.repeat(np.arange(10.0), 70), np.full(300, np.nan)])
    bins = bin_numeric(reference, current, 10)
    assert bins.labels[-1] == NULL_BIN
    assert bins.reference.tolist() == [90] * 10 + [100]
    assert bins.current.tolist() == [70] * 10 + [300]
    expected = 10 * (0.07 - 0.09) * math.log(0.07 / 0.09) + 0.2 * math.log(3)
    row = compare_feature("x", "numeric", pa.array(reference), pa.array(current), CFG)
    assert row["psi"] == pytest.approx(expected)
    assert row["top_bin"] == NULL_BIN and row["status"] == "alert"
    assert row["reference_null_share"] == pytest.approx(0.1)
    assert row["current_null_share"] == pytest.approx(0.3)
    assert row["reference_mean"] == pytest.approx(4.5)  # of the non-NULL values
    # without NULLs on either side there is no NULL bin
    assert NULL_BIN not in bin_numeric(np.arange(10.0), np.arange(10.0), 10).labels


def test_tied_quantiles_collapse_bins_and_edges_are_right_closed():
    # a count that is 0 for 70 %, 1 for 20 %, 5 for 10 % of the reference
    reference = np.array([0.0] * 70 + [1.0] * 20 + [5.0] * 10)
    edges = quantile_edges(reference, 10)
    assert edges.tolist() == [0.0, 1.0]  # nine deciles, two distinct values
    bins = bin_numeric(reference, np.array([0.0, 0.0, 1.0, 1.0, 3.0, 5.0, 9.0]), 10)
    assert bins.labels == ["<= 0", "(0, 1]", "> 1"]
    assert bins.reference.tolist() == [70, 20, 10]
    assert bins.current.tolist() == [2, 2, 3]
    # continuous values: ten bins of a tenth each
    uniform = np.arange(1000.0)
    assert bin_numeric(uniform, uniform, 10).reference.tolist() == [100] * 10
    # an all-NULL reference: one bin for any value plus the NULL bin
    empty = bin_numeric(np.full(5, np.nan), np.array([1.0, np.nan]), 10)
    assert empty.labels == ["any value", NULL_BIN]
    assert empty.reference.tolist() == [0, 5] and empty.current.tolist() == [1, 1]


def test_a_category_unseen_in_the_reference_gets_its_own_bin():
    reference = pa.array(["a"] * 60 + ["b"] * 40)
    current = pa.array(["a"] * 50 + ["b"] * 30 + ["c"] * 20)
    bins = bin_categorical(reference, current)
    assert bins.labels == ["a", "b", "c"]
    assert bins.reference.tolist() == [60, 40, 0]
    row = compare_feature("source", "categorical", reference, current, CFG)
    expected = (
        -0.1 * math.log(0.5 / 0.6) - 0.1 * math.log(0.3 / 0.4) + (0.2 - 1e-4) * math.log(2000)
    )
    assert row["psi"] == pytest.approx(expected)
    assert row["top_bin"] == "c" and row["status"] == "alert"
    first = json.loads(row["bins_json"])[0]  # categories by PSI term, largest first
    assert (first["bin"], first["reference_share"], first["current_share"]) == ("c", 0.0, 0.2)
    assert first["psi"] == pytest.approx((0.2 - 1e-4) * math.log(2000), abs=1e-5)


def test_booleans_are_categories_with_the_share_of_true_as_mean():
    reference = pa.array([True] * 30 + [False] * 60 + [None] * 10)
    current = pa.array([True] * 30 + [False] * 70)
    assert bin_categorical(reference, current).labels == ["false", "true", NULL_BIN]
    row = compare_feature("flag", "boolean", reference, current, CFG)
    assert row["reference_mean"] == pytest.approx(1 / 3)  # of the non-NULL values
    assert row["current_mean"] == pytest.approx(0.3)
    assert "ks_statistic" not in row and row["chi2_dof"] == 2


# ---------------------------------------------------------------------------------------------
# KS and chi-square


def test_ks_agrees_with_scipy_on_the_non_null_values():
    reference = np.array([0.1, 0.5, np.nan, 0.9, 1.3, 2.0, 2.2])
    current = np.array([1.0, np.nan, 1.8, 2.5, 3.1, 0.4])
    expected = stats.ks_2samp(reference[~np.isnan(reference)], current[~np.isnan(current)])
    assert ks_test(reference, current) == pytest.approx((expected.statistic, expected.pvalue))
    assert ks_test(np.array([np.nan]), current) is None


def test_chi_square_agrees_with_scipy_and_pools_tiny_categories():
    big = bin_categorical(pa.array(["a"] * 40 + ["b"] * 60), pa.array(["a"] * 55 + ["b"] * 45))
    expected = stats.chi2_contingency(np.array([[40, 60], [55, 45]]))
    assert chi_square(big) == pytest.approx((expected.statistic, expected.pvalue, 1))
    # c and d have expected counts below 5: they are tested as one pooled column
    ref = pa.array(["a"] * 50 + ["b"] * 45 + ["c"] * 3 + ["d"] * 2)
    cur = pa.array(["a"] * 40 + ["b"] * 50 + ["c"] * 4 + ["d"] * 6)
    pooled = stats.chi2_contingency(np.array([[50, 45, 5], [40, 50, 10]]))
    assert chi_square(bin_categorical(ref, cur)) == pytest.approx(
        (pooled.statistic, pooled.pvalue, 2)
    )
    # a numeric bin empty on both sides ("> 1": 1 is the reference's maximum) is left out
    halves = bin_numeric(np.repeat([0.0, 1.0], 50), np.repeat([0.0, 1.0], [40, 60]), 10)
    assert halves.labels == ["<= 0", "(0, 1]", "> 1"] and halves.current.tolist() == [40, 60, 0]
    expected = stats.chi2_contingency(np.array([[50, 50], [40, 60]]))
    assert chi_square(halves) == pytest.approx((expected.statistic, expected.pvalue, 1))
    # one category only: nothing to test
    assert chi_square(bin_categorical(pa.array(["a"] * 9), pa.array(["a"] * 7))) is None


# ---------------------------------------------------------------------------------------------
# status and config


def test_status_follows_the_psi_thresholds_when_the_difference_is_significant():
    values = (0.0, 0.0999, 0.1, 0.2499, 0.25, 3.0)
    assert [drift_status(v, 1e-9, CFG) for v in values] == [
        "ok",
        "ok",
        "watch",
        "watch",
        "alert",
        "alert",
    ]
    assert drift_status(None, None, CFG) == "no_data"
    assert drift_status(3.0, 0.01, CFG) == "ok"  # p >= drift_max_p_value: sampling noise
    # with 10 features each test must pass at 0.01 / 10 (noise flags any of them <= 1 %)
    assert drift_status(3.0, 0.005, CFG) == "alert"
    assert drift_status(3.0, 0.005, CFG, n_features=10) == "ok"
    assert drift_status(3.0, 0.0009, CFG, n_features=10) == "alert"
    assert drift_status(3.0, None, CFG) == "ok"  # too few rows for a test: noise
    strict = DriftConfig(psi_watch=0.02, psi_alert=0.05)
    assert [drift_status(v, 0.0, strict) for v in (0.01, 0.03, 0.06)] == ["ok", "watch", "alert"]


def test_a_large_psi_from_a_small_sample_is_noise_unless_chi_square_confirms_it():
    # the same shares once from 60 rows, once from 6,000: PSI identical, significance not
    reference = pa.array(np.repeat(np.arange(10.0), 500))
    shares = np.array([12, 2, 6, 6, 6, 6, 6, 6, 6, 4])
    small = pa.array(np.repeat(np.arange(10.0), shares))
    large = pa.array(np.repeat(np.arange(10.0), 100 * shares))
    noisy = compare_feature("x", "numeric", reference, small, CFG)
    real = compare_feature("x", "numeric", reference, large, CFG)
    assert noisy["psi"] == pytest.approx(real["psi"]) and noisy["psi"] > CFG.psi_watch
    assert noisy["chi2_p_value"] > 0.01 and noisy["status"] == "ok"
    assert "within sampling noise (chi-square p = " in noisy["note"]
    assert real["chi2_p_value"] < 1e-9 and real["status"] == "watch" and "note" not in real
    lenient = DriftConfig(max_p_value=1)
    assert compare_feature("x", "numeric", reference, small, lenient)["status"] == "watch"
    # 20 rows: every bin's expected count is below 5, no test is possible
    tiny = compare_feature("x", "numeric", reference, pa.array(np.repeat(1.0, 20)), CFG)
    assert tiny["psi"] > CFG.psi_alert and tiny["status"] == "ok"
    assert "too few rows for a chi-square test" in tiny["note"]


def test_config_defaults_match_dbt_project_vars_and_vars_are_read():
    project_vars = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    assert DriftConfig.from_vars(project_vars) == DriftConfig()
    cfg = DriftConfig.from_vars(
        {
            "drift_psi_watch": "0.2",
            "drift_psi_alert": 0.5,
            "drift_n_bins": 20,
            "drift_reference_rows": None,
            "exclude_features": "country, created_hour",
            "calendar_cumulative_features": ["n_prior_orders"],
            "drift_calendar_reference_days": 14,
            "as_of": "2026-01-01",
        }
    )
    assert cfg.calendar_cumulative_features == ("n_prior_orders",)
    assert cfg.calendar_reference_days == 14
    assert (cfg.psi_watch, cfg.psi_alert, cfg.n_bins) == (0.2, 0.5, 20)
    assert cfg.reference_rows == DriftConfig().reference_rows
    assert cfg.exclude_features == ("country", "created_hour")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"drift_psi_watch": 0.3}, "drift_psi_watch \\(0.3\\) and drift_psi_alert \\(0.25\\)"),
        ({"drift_psi_watch": 0}, "0 < drift_psi_watch < drift_psi_alert"),
        ({"drift_n_bins": 1}, "drift_n_bins must be a whole number between 2 and 100"),
        ({"drift_n_bins": 2.5}, "drift_n_bins must be a whole number, got 2.5"),
        ({"drift_psi_floor": 0}, "drift_psi_floor must be a share in \\(0, 0.01\\)"),
        ({"drift_reference_rows": 10}, "drift_reference_rows must be a whole number >= 100"),
        ({"drift_max_p_value": 0}, "drift_max_p_value must be a p-value in \\(0, 1\\]"),
        ({"drift_psi_alert": "high"}, "drift_psi_alert must be a number, got 'high'"),
        ({"drift_psi_alert": True}, "drift_psi_alert must be a number, got True"),
        ({"exclude_features": 3}, "exclude_features must be a list of column names"),
        ({"calendar_cumulative_features": 3}, "calendar_cumulative_features must be a list"),
        ({"drift_calendar_reference_days": 0}, "drift_calendar_reference_days must be a whole"),
    ],
)
def test_bad_vars_name_the_var_and_the_fix(values, message):
    with pytest.raises(ValueError, match=message) as err:
        DriftConfig.from_vars(values)
    assert "--vars '{" in str(err.value)


# ---------------------------------------------------------------------------------------------
# importance and whole populations


def lr_artifact(coef_by_name: dict[str, float]) -> ModelArtifact:
    """A logistic regression artifact on (size numeric, source categorical, flag boolean)
    with the given coefficients by transformed column name (others 0)."""
    n = 60
    train = pa.table(
        {
            "size": pa.array([float(i) if i % 10 else None for i in range(n)]),
            "source": ["web", "ads", "event"] * (n // 3),
            "flag": [True, False] * (n // 2),
        }
    )
    spec = FeatureSpec.from_schema(train.schema)
    pre = fit_preprocessor(train, spec, "linear", min_category_count=5)
    coef = [coef_by_name.get(name, 0.0) for name in pre.feature_names]
    return ModelArtifact(
        name="lr",
        model_type="logistic_regression",
        preprocessor=pre,
        model={"coef": coef, "intercept": 0.0},
        calibrator=Calibrator("platt"),
        params={},
        threshold=0.5,
    )


def test_importance_is_summed_per_input_column_and_normalised():
    art = lr_artifact(
        {"size": 1.0, "size (missing)": -1.0, "source=web": 2.0, "source=ads": -3.0, "flag": 0.0}
    )
    assert "size (missing)" in art.feature_names and "source=web" in art.feature_names
    assert importance_shares(art) == pytest.approx({"size": 2 / 7, "source": 5 / 7, "flag": 0.0})
    assert importance_shares(lr_artifact({})) == {"size": 0.0, "source": 0.0, "flag": 0.0}


def populations(reference: pa.Table, current: pa.Table, notes: tuple[str, ...] = ()):
    return Populations(reference, current, "m1", "test", None, None, 0, notes)


def test_one_row_per_feature_most_important_first_and_no_data_when_empty():
    spec = FeatureSpec(categorical=["source"], numeric=["size"], columns=["size", "source"])
    rng = np.random.default_rng(3)
    ref = pa.table({"size": rng.normal(size=600), "source": rng.choice(["a", "b"], 600)})
    cur = pa.table({"size": rng.normal(size=600) + 2, "source": rng.choice(["a", "b"], 600)})
    out = compare_populations(
        populations(ref, cur, ("a note",)), spec, {"size": 0.2, "source": 0.8}, AS_OF, CFG
    )
    assert out.schema == DRIFT_SCHEMA
    rows = out.to_pylist()
    assert [r["feature"] for r in rows] == ["source", "size"]
    assert [r["importance_rank"] for r in rows] == [1, 2]
    assert rows[1]["status"] == "alert" and rows[0]["status"] == "ok"
    assert rows[1]["ks_statistic"] > 0.5 and rows[1]["chi2_p_value"] < 1e-9
    assert rows[0]["chi2_p_value"] > 0.001 and rows[0]["ks_statistic"] is None
    assert {r["notes"] for r in rows} == {"a note"}
    assert {r["n_reference"] for r in rows} == {600}

    small = compare_populations(populations(ref, cur.slice(0, 50)), spec, None, AS_OF, CFG)
    note = small["notes"][0].as_py()
    assert "fewer than 500 rows on one side (600 reference, 50 current)" in note
    assert small["importance"].null_count == 2
    assert small["feature"].to_pylist() == ["size", "source"]  # spec order without importance

    empty = compare_populations(populations(ref, cur.slice(0, 0)), spec, None, AS_OF, CFG)
    assert empty["status"].to_pylist() == ["no_data", "no_data"]
    assert empty["psi"].null_count == 2
    assert "the current population has no rows" in empty["notes"][0].as_py()


def won_deal_counts(rng: np.random.Generator, n: int, history_days: float) -> np.ndarray:
    """Won deals of each lead's e-mail domain before T, when the CRM's history before T is
    history_days long: a domain wins at 1 deal per 5,000 days (a stationary process), so the
    counts grow with the history alone."""
    return rng.poisson(history_days / 5000, size=n).astype(np.float64)


def test_a_calendar_cumulative_feature_is_compared_with_the_time_matched_reference():
    # no drift at all: the train window saw 200 days of CRM history (4 % of leads' domains
    # with a won deal), the time-matched reference and today 1,300 and 1,400 days (23 %, 24 %)
    rng = np.random.default_rng(7)
    spec = FeatureSpec(
        categorical=["source"], numeric=["won_deals"], columns=["won_deals", "source"]
    )
    n = 5000
    sources = ["web", "ads"]
    train = pa.table({"won_deals": won_deal_counts(rng, n, 200), "source": rng.choice(sources, n)})
    matched = pa.table({"won_deals": won_deal_counts(rng, n, 1300)})
    # ...but a real shift in the source mix: it must still alert
    today = pa.table(
        {
            "won_deals": won_deal_counts(rng, n, 1400),
            "source": rng.choice(sources, n, p=[0.8, 0.2]),
        }
    )
    config = DriftConfig(calendar_cumulative_features=("won_deals",))
    time_matched = TimeMatchedReference(
        matched, "time-matched: the weeks before", T0, T0 + timedelta(days=27)
    )
    pops = Populations(train, today, "m1", "train window", None, None, 0, (), time_matched)
    rows = {
        r["feature"]: r for r in compare_populations(pops, spec, None, AS_OF, config).to_pylist()
    }
    won = rows["won_deals"]
    assert won["status"] == "ok" and won["psi"] < 0.01, won
    assert won["is_calendar_cumulative"] and won["n_reference"] == n
    assert won["reference_population"] == "time-matched: the weeks before"
    assert (won["reference_from"], won["reference_to"]) == (T0, T0 + timedelta(days=27))
    assert won["reference_mean"] == pytest.approx(0.26, abs=0.03)
    source = rows["source"]
    assert source["status"] == "alert" and not source["is_calendar_cumulative"]
    assert source["reference_population"] == "train window"

    # compared with the train window, as before, the growth of the history alone alerts
    stale = compare_populations(
        pops, spec, None, AS_OF, DriftConfig(calendar_cumulative_features=())
    )
    assert stale.to_pylist()[0]["status"] == "alert" and stale["psi"][0].as_py() > 0.25

    # a change beyond the history's growth (a campaign to existing customers' colleagues:
    # 60 % of today's leads come from a domain with a won deal) alerts against the matched one
    campaign = today.set_column(
        0, "won_deals", pa.array(np.where(rng.random(n) < 0.6, 1.0, today["won_deals"]))
    )
    shifted = Populations(train, campaign, "m1", "train window", None, None, 0, (), time_matched)
    (row,) = compare_populations(
        shifted, FeatureSpec(numeric=["won_deals"], columns=["won_deals"]), None, AS_OF, config
    ).to_pylist()
    assert row["status"] == "alert" and row["reference_population"].startswith("time-matched")


def test_without_a_time_matched_reference_a_calendar_feature_says_so():
    spec = FeatureSpec(numeric=["won_deals"], columns=["won_deals"])
    ref = pa.table({"won_deals": np.zeros(600)})
    config = DriftConfig(calendar_cumulative_features=("won_deals",))
    for matched in (None, TimeMatchedReference(ref.slice(0, 0), "empty", None, None)):
        pops = Populations(ref, ref, "m1", "train window", None, None, 0, (), matched)
        (row,) = compare_populations(pops, spec, None, AS_OF, config).to_pylist()
        assert row["reference_population"] == "train window" and row["n_reference"] == 600
        assert "for want of a time-matched one" in row["notes"]


# ---------------------------------------------------------------------------------------------
# the two populations, read from DuckDB


T0 = datetime(2026, 1, 5)


@pytest.fixture
def warehouse():
    """training_snapshots and lead_features in memory: a grid snapshot on each day T0 + d
    (d = 0..299; split train for d < 210) with age 10 + d % 30 days and x = d, plus a 'first'
    snapshot a few minutes old; today 60 open leads aged 0..59 days and 40 aged 200 days."""
    con = duckdb.connect()
    con.execute(
        """
        create table training_snapshots as
        select
            'L' || d || k as lead_id,
            timestamp '2026-01-05' + to_days(d::int) as snapshot_at,
            k as snapshot_kind,
            case when d < 210 then 'train' else 'valid' end as split,
            case when k = 'grid' then 10 + d % 30 else 0.04 end::double as lead_age_days,
            d::double as x
        from range(300) t(d), (values ('grid'), ('first')) k(k)
        """
    )
    con.execute(
        """
        create table lead_features as
        select 'C' || i as lead_id, timestamp '2026-10-01' as as_of,
            case when i < 60 then i else 200 end::double as lead_age_days,
            (i % 50)::double as x
        from range(100) t(i)
        """
    )
    yield con
    con.close()


def registry_row(train_from: datetime, train_to: datetime) -> dict:
    """A champion row whose logistic regression uses the one feature x."""
    spec = FeatureSpec(numeric=["x"], columns=["x"])
    artifact = ModelArtifact(
        name="lr",
        model_type="logistic_regression",
        preprocessor=fit_preprocessor(pa.table({"x": [1.0, 2.0, 3.0]}), spec, "linear"),
        model={"coef": [1.0], "intercept": 0.0},
        calibrator=Calibrator("platt"),
        params={},
        threshold=0.5,
    )
    return {
        "model_version": "m0001-20260401",
        "is_champion": True,
        "status": "champion",
        "data_as_of": datetime(2026, 4, 1),
        "train_from": train_from,
        "train_to": train_to,
        "artifact_json": artifact.to_json(),
    }


def run_drift(con, registry: list[dict], **config) -> list[dict]:
    out = feature_drift(
        con.table("lead_features"),
        con.table("training_snapshots"),
        entries_of(registry),
        AS_OF,
        DriftConfig(**config),
    )
    return out.to_pylist()


def test_reference_is_the_grid_snapshots_of_the_models_train_window(warehouse):
    row = registry_row(T0 + timedelta(days=10), T0 + timedelta(days=29))
    (out,) = run_drift(warehouse, [row])
    assert out["feature"] == "x" and out["importance"] == 1.0 and out["importance_rank"] == 1
    assert out["model_version"] == "m0001-20260401"
    assert out["n_reference"] == 20  # grid snapshots of days 10..29, no 'first' ones
    assert (out["reference_from"], out["reference_to"]) == (row["train_from"], row["train_to"])
    assert out["reference_mean"] == pytest.approx(19.5)  # x = d over d = 10..29
    # the oldest reference snapshot is 39 days old: older open leads are not compared
    assert out["n_current"] == 40 and out["n_current_beyond_reference_age"] == 60
    assert "60 open leads older than the oldest reference snapshot (39 days)" in out["notes"]


def test_a_calendar_feature_is_compared_with_the_snapshots_just_before_todays_leads(warehouse):
    """The time-matched reference: grid snapshots of the 28 days before as_of - 39 days (the
    oldest reference age), so no lead of today's compared population (all created after it)
    is in it, of leads no older than 39 days."""
    row = registry_row(T0 + timedelta(days=10), T0 + timedelta(days=29))
    (out,) = run_drift(warehouse, [row], calendar_cumulative_features=("x",))
    # as_of - 39 days = 2026-08-23 = T0 + 230 days: days 202..229, x = d
    assert out["n_reference"] == 28 and out["reference_mean"] == pytest.approx(215.5)
    assert (out["reference_from"], out["reference_to"]) == (
        T0 + timedelta(days=202),
        T0 + timedelta(days=229),
    )
    assert out["reference_population"] == (
        "time-matched: grid snapshots of the 28 days before 2026-08-23 "
        "(as_of minus the reference age, 39 days)"
    )
    assert out["is_calendar_cumulative"] and out["n_current"] == 40
    (week,) = run_drift(
        warehouse, [row], calendar_cumulative_features=("x",), calendar_reference_days=7
    )
    assert week["n_reference"] == 7 and week["reference_mean"] == pytest.approx(226)


def test_a_sample_caps_each_population(warehouse):
    row = registry_row(T0, T0 + timedelta(days=299))
    (out,) = run_drift(warehouse, [row], reference_rows=100)
    assert out["n_reference"] == 100 and out["n_current"] == 40
    (again,) = run_drift(warehouse, [row], reference_rows=100)
    assert again == out  # the hash sample is deterministic


def test_without_a_model_the_current_train_split_is_the_reference(warehouse):
    rows = run_drift(warehouse, [], exclude_features=("lead_age_days",))
    assert [r["feature"] for r in rows] == ["x"]  # keys, timestamps and excluded columns are not
    (out,) = rows
    assert out["model_version"] == "rules" and out["importance"] is None
    assert out["n_reference"] == 210  # grid snapshots of split train
    assert "current train split" in out["reference_population"]


def test_a_train_window_gone_from_the_snapshots_falls_back_to_the_train_split(warehouse):
    row = registry_row(datetime(2024, 1, 1), datetime(2024, 6, 1))
    (out,) = run_drift(warehouse, [row])
    assert out["n_reference"] == 210 and out["importance"] == 1.0
    assert "train window is no longer in training_snapshots" in out["notes"]


# ---------------------------------------------------------------------------------------------
# end to end


UNSEEN_SOURCE = "tiktok_ads"


@pytest.mark.e2e
def test_feature_drift_builds_one_row_per_model_feature_and_catches_a_new_source(tmp_path):
    """A small generated CRM where half of the leads of the last 60 days come from a new
    lead_source: that feature alerts on it, lead_age_days (compared like with like) does
    not."""
    raw = generate_raw(tmp_path / "gen", n_leads=3000, seed=17)
    leads = pq.read_table(raw / "leads.parquet")
    created = pc.cast(leads.column("created_at"), pa.timestamp("us"))
    recent = pc.greater(created, pc.subtract(pc.max(created), pa.scalar(timedelta(days=60))))
    every_other = pa.array(np.arange(leads.num_rows) % 2 == 0)
    moved = pc.and_(recent, every_other)
    source = pc.if_else(moved, pa.scalar(UNSEEN_SOURCE), leads.column("lead_source"))
    leads = leads.set_column(leads.schema.get_field_index("lead_source"), "lead_source", source)
    pq.write_table(leads, raw / "leads.parquet")

    run = run_dbt(
        [
            "build",
            "--select",
            "+feature_drift",
            # only tests wholly inside the selection (others join models not built here)
            "--indirect-selection",
            "cautious",
            "--vars",
            "{search_budget_seconds: 5}",
        ],
        raw,
        tmp_path,
    )
    assert run.returncode == 0, run.output[-5000:]
    con = duckdb.connect(str(run.db_path), read_only=True)
    try:
        drift = {r["feature"]: r for r in con.table("feature_drift").to_arrow_table().to_pylist()}
        champion = con.sql(
            "select model_version, artifact_json from model_registry where is_champion"
        ).fetchall()
        n_open = con.sql("select count(*) from lead_features").fetchall()[0][0]
    finally:
        con.close()
    assert len(champion) == 1
    version, artifact_json = champion[0]
    artifact = ModelArtifact.from_json(artifact_json)
    assert set(drift) == set(artifact.feature_spec.columns)
    rows = list(drift.values())
    assert {r["model_version"] for r in rows} == {version}
    assert sum(r["importance"] for r in rows) == pytest.approx(1.0)
    assert sorted(r["importance_rank"] for r in rows) == list(range(1, len(rows) + 1))
    for r in rows:
        assert r["psi"] >= 0
        assert r["status"] == drift_status(r["psi"], r["chi2_p_value"], CFG, len(rows))
        assert r["n_current"] + r["n_current_beyond_reference_age"] == n_open
        assert r["n_reference"] > 1000 and r["n_current"] > 100
        assert (r["ks_statistic"] is None) == (r["feature_kind"] != "numeric")

    source = drift["lead_source"]
    assert source["status"] == "alert" and source["top_bin"] == UNSEEN_SOURCE
    new = next(b for b in json.loads(source["bins_json"]) if b["bin"] == UNSEEN_SOURCE)
    assert new["reference_share"] == 0 and new["current_share"] > 0.2
    assert source["chi2_p_value"] < 1e-6
    assert drift["lead_age_days"]["status"] == "ok", drift["lead_age_days"]
    assert drift["company_size"]["status"] == "ok", drift["company_size"]
