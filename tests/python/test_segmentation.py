"""leadscore.segmentation: config, scaling, the k search, sample fit / assign all, stable ids
(permuted centroids, k changes), names, DBSCAN outliers, profiles; and one end-to-end test
that builds the segments at two consecutive as_of dates on one database."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from conftest import generate_raw, run_dbt

from leadscore.segmentation import (
    DEFAULT_NOUN,
    FeatureScaler,
    KCandidate,
    NameTerm,
    SegmentationConfig,
    assign_leads,
    build_profiles,
    choose_k,
    cluster_name,
    cluster_names,
    contrast_with_rest,
    dbscan_outliers,
    evaluate_k_range,
    fit_segments,
    match_cluster_ids,
    model_selection,
    nearest_centroid,
    previous_run,
    signed_log1p,
    wilson_interval,
)

AS_OF = datetime(2026, 9, 1)
# four blobs, far apart after the signed log1p
BLOB_CENTERS = np.array([[0.0, 0.0], [200.0, 0.0], [0.0, 200.0], [200.0, 200.0]])
TERMS = [
    {"feature": "engagement", "axis": "engagement", "part": "adjective",
     "high_term": "high-engagement", "low_term": "low-engagement", "neutral_term": None},
    {"feature": "recency_days", "axis": "engagement", "part": "adjective",
     "high_term": "dormant", "low_term": "recently active", "neutral_term": None},
    {"feature": "age", "axis": "tenure", "part": "adjective",
     "high_term": "long-standing", "low_term": "new", "neutral_term": None},
    {"feature": "size", "axis": "size", "part": "noun",
     "high_term": "enterprise", "low_term": "SMB", "neutral_term": None},
]  # fmt: skip


def _blobs(n_per_blob: int, seed: int, spread: float = 1.0) -> tuple[pa.Table, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(len(BLOB_CENTERS)), n_per_blob)
    values = BLOB_CENTERS[truth] + rng.normal(scale=spread, size=(len(truth), 2))
    order = rng.permutation(len(truth))
    truth, values = truth[order], np.abs(values[order])
    table = pa.table(
        {
            "lead_id": [f"L{seed}-{i}" for i in range(len(truth))],
            "f1": values[:, 0],
            "f2": values[:, 1],
        }
    )
    return table, truth


def _config(**kw) -> SegmentationConfig:
    base = {"features": ("f1", "f2"), "k_range": (2, 6), "n_init": 2, "sample_rows": 1000}
    return SegmentationConfig(**{**base, **kw})


def _purity(labels: np.ndarray, truth: np.ndarray) -> float:
    """Share of rows whose label is the majority label of their true blob (1 = same
    partition up to renaming, when the number of labels equals the number of blobs)."""
    hits = 0
    for t in np.unique(truth):
        _, counts = np.unique(labels[truth == t], return_counts=True)
        hits += counts.max()
    return hits / len(truth)


# --- config ---------------------------------------------------------------------------------------


def test_from_vars_reads_segment_vars_and_ignores_the_rest():
    cfg = SegmentationConfig.from_vars(
        {
            "as_of": "2026-01-01",
            "segment_features": ["a", "b"],
            "segment_k_range": [2, 5],
            "segment_match_radius": 0.4,
            "segment_dbscan_eps": None,
            "segment_outlier_method": "dbscan",
            "segment_sample_rows": None,  # null keeps the default
        }
    )
    assert cfg.features == ("a", "b")
    assert cfg.k_range == (2, 5)
    assert cfg.match_radius == 0.4
    assert cfg.dbscan_eps is None
    assert cfg.outlier_method == "dbscan"
    assert cfg.sample_rows == SegmentationConfig().sample_rows


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("segment_k_range", [1, 4], "segment_k_range must be \\[min_k, max_k\\]"),
        ("segment_k_range", [6, 3], "segment_k_range must be \\[min_k, max_k\\]"),
        ("segment_sample_rows", 10, "segment_sample_rows must be >= 100"),
        ("segment_sample_rows", "many", "segment_sample_rows must be a whole number"),
        ("segment_match_radius", 0, "segment_match_radius must be a number > 0"),
        ("segment_k_tolerance", -0.1, "segment_k_tolerance must be a number >= 0"),
        ("segment_outlier_method", "hdbscan", "segment_outlier_method must be one of none"),
        ("segment_features", [], "segment_features must be a non-empty list"),
        ("segment_features", ["a", "a"], "segment_features must be a non-empty list of distinct"),
        ("segment_reset_ids", "yes", "segment_reset_ids must be true or false"),
        ("segment_dbscan_eps", -1, "segment_dbscan_eps must be a number > 0 or null"),
    ],
)
def test_bad_vars_name_the_var_and_the_fix(var, value, message):
    with pytest.raises(ValueError, match=message) as err:
        SegmentationConfig.from_vars({var: value})
    assert f"--vars '{{{var}:" in str(err.value)


def test_a_feature_that_is_not_a_column_is_named_with_the_fix():
    cfg = SegmentationConfig(features=("days_since_last_engagement", "n_enagement_30d"))
    with pytest.raises(ValueError, match="segment_features names n_enagement_30d, not a column"):
        cfg.input_columns(["lead_id", "days_since_last_engagement", "lead_age_days"], "lead_x")
    ok = SegmentationConfig(features=("days_since_last_engagement",))
    # lead_age_days comes along: it fills the NULLs of days_since_* features
    assert ok.input_columns(
        ["lead_id", "lead_age_days", "days_since_last_engagement", "other"], "lead_features"
    ) == ["lead_id", "days_since_last_engagement", "lead_age_days"]


def test_a_text_feature_is_refused():
    table = pa.table({"lead_id": ["a"], "industry": ["saas"]})
    with pytest.raises(ValueError, match="names industry, a string column"):
        FeatureScaler.fit(table, ["industry"], "lead_features")


# --- scaling --------------------------------------------------------------------------------------


def test_nulls_are_filled_by_meaning_and_the_scaler_round_trips():
    table = pa.table(
        {
            "lead_id": ["a", "b", "c", "d"],
            "days_since_last_engagement": [1.0, None, 3.0, 7.0],
            "engagement_score_decayed": [2.0, None, 1.0, 0.5],
            "company_size": [10.0, 100.0, None, 1000.0],
            "constant": [5, 5, 5, 5],
            "lead_age_days": [30.0, 50.0, 10.0, 20.0],
        }
    )
    features = ["days_since_last_engagement", "engagement_score_decayed", "company_size",
                "constant"]  # fmt: skip
    scaler = FeatureScaler.fit(table, features, "lead_features")
    x = scaler.transform(table, "lead_features")
    # never engaged: silent since creation, so days since = the lead's age
    assert x[1, 0] == pytest.approx(signed_log1p(np.array(50.0)))
    # no activity: the decayed sum of nothing is 0
    assert x[1, 1] == 0.0
    # unknown size: the median of the known ones (transformed)
    assert x[2, 2] == pytest.approx(np.median(signed_log1p(np.array([10.0, 100.0, 1000.0]))))
    # a constant column gets no weight instead of a division by zero
    assert scaler.constant == (False, False, False, True)
    assert np.allclose(scaler.scaled(table, "lead_features")[:, 3], 0.0)
    again = FeatureScaler.from_json(scaler.to_json())
    assert np.allclose(again.scaled(table, "lead_features"), scaler.scaled(table, "lead_features"))


def test_signed_log1p_keeps_the_sign_of_negative_velocities():
    assert signed_log1p(np.array([-3.0, 0.0, 3.0])).tolist() == pytest.approx(
        [-np.log(4), 0.0, np.log(4)]
    )


# --- choosing k -----------------------------------------------------------------------------------


def test_silhouette_finds_the_number_of_blobs():
    table, _ = _blobs(150, seed=1)
    cfg = _config()
    z = FeatureScaler.fit(table, cfg.features, "t").scaled(table, "t")
    candidates = evaluate_k_range(z, cfg)
    assert [c.k for c in candidates] == [2, 3, 4, 5, 6]
    k, reason = choose_k(candidates, None, cfg.k_tolerance)
    assert k == 4, [(c.k, c.silhouette) for c in candidates]
    assert reason.startswith("best silhouette")


def test_previous_k_is_kept_only_within_the_tolerance():
    candidates = [KCandidate(3, 10.0, 0.50), KCandidate(4, 8.0, 0.52), KCandidate(5, 7.0, 0.40)]
    assert choose_k(candidates, 3, 0.03)[0] == 3
    assert "kept the previous k=3" in choose_k(candidates, 3, 0.03)[1]
    assert choose_k(candidates, 3, 0.01)[0] == 4
    assert choose_k(candidates, 5, 0.03)[0] == 4
    assert choose_k([KCandidate(3, None, None)], None, 0.01)[0] is None


def test_the_previous_k_is_also_fitted_from_the_previous_centroids():
    table, _ = _blobs(100, seed=2)
    cfg = _config(k_range=(3, 5))
    z = FeatureScaler.fit(table, cfg.features, "t").scaled(table, "t")
    init = np.array([z[:50].mean(axis=0), z[50:100].mean(axis=0), z[100:150].mean(axis=0),
                     z[150:].mean(axis=0)])  # fmt: skip
    by_k = {c.k: c for c in evaluate_k_range(z, cfg, warm_init=init)}
    assert by_k[4].is_warm_started
    assert not by_k[3].is_warm_started and not by_k[5].is_warm_started


def test_too_few_distinct_leads_give_no_model():
    table = pa.table({"lead_id": ["a", "b"], "f1": [1.0, 1.0], "f2": [2.0, 2.0]})
    out = fit_segments(table, None, TERMS, AS_OF, _config())
    assert out.num_rows == 0


# --- fit on a sample, assign all ------------------------------------------------------------------


def test_fit_on_a_sample_assigns_every_lead_like_the_blobs():
    everyone, truth = _blobs(2500, seed=3)  # 10,000 leads
    cfg = _config(sample_rows=400)
    centroids = fit_segments(everyone.slice(0, cfg.sample_rows), None, TERMS, AS_OF, cfg)
    assert centroids.column("k")[0].as_py() == 4
    assert centroids.column("cluster_id").to_pylist() == [1, 2, 3, 4]
    assigned = assign_leads(everyone, centroids, AS_OF, cfg)
    assert assigned.num_rows == everyone.num_rows
    assert assigned.column("lead_id").to_pylist() == everyone.column("lead_id").to_pylist()
    assert _purity(assigned.column("cluster_id").to_numpy(), truth) == 1.0
    assert assigned.column("is_outlier").null_count == everyone.num_rows  # detection off


def test_chunked_nearest_centroid_equals_brute_force():
    rng = np.random.default_rng(4)
    z, centers = rng.normal(size=(1001, 3)), rng.normal(size=(5, 3))
    ids = np.array([7, 3, 9, 1, 4])
    labels, dist = nearest_centroid(z, centers, ids, chunk_rows=97)
    brute = np.linalg.norm(z[:, None, :] - centers[None], axis=2)
    assert (labels == ids[brute.argmin(axis=1)]).all()
    assert np.allclose(dist, brute.min(axis=1))


# --- stable ids -----------------------------------------------------------------------------------


OLD = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])


def test_permuted_centroids_keep_their_ids():
    new = OLD[[2, 0, 1]] + 0.1
    ids, distances = match_cluster_ids(new, OLD, [5, 6, 7], next_id=8, radius=0.5)
    assert ids == [7, 5, 6]
    assert all(d == pytest.approx(0.1 * np.sqrt(2)) for d in distances)


def test_one_more_cluster_gets_a_new_id_and_a_vanished_id_is_not_reused():
    grown = np.vstack([OLD, [[10.0, 10.0]]])
    ids, distances = match_cluster_ids(grown, OLD, [1, 2, 3], next_id=4, radius=0.5)
    assert ids == [1, 2, 3, 4]
    assert distances[3] is None
    shrunk = OLD[[0, 2]]
    ids, _ = match_cluster_ids(shrunk, OLD, [1, 2, 3], next_id=5, radius=0.5)
    assert ids == [1, 3]
    # a centroid outside every old cluster's territory is new, even if it is the only one
    ids, distances = match_cluster_ids(np.array([[5.0, 5.0]]), OLD, [1, 2, 3], 9, radius=0.5)
    assert ids == [9] and distances == [None]


def test_a_merged_cluster_keeps_the_id_of_the_part_it_sits_closest_to():
    merged = np.array([[0.0, 0.0], [7.0, 3.0]])  # old 2 and old 3 merged, closer to old 2
    ids, _ = match_cluster_ids(merged, OLD, [1, 2, 3], next_id=4, radius=0.5)
    assert ids == [1, 2]


def _fit_history(runs: list[tuple[datetime, pa.Table]], cfg: SegmentationConfig) -> pa.Table:
    history = None
    for as_of, sample in runs:
        out = fit_segments(sample, history, TERMS, as_of, cfg)
        history = out if history is None else pa.concat_tables([history, out])
    assert history is not None
    return history


def test_ids_follow_the_clusters_across_runs_not_the_fit_order():
    cfg = _config(k_range=(4, 4))
    day1, truth1 = _blobs(150, seed=5)
    day2, truth2 = _blobs(150, seed=6)  # other leads, other order: another K-Means labelling
    history = _fit_history([(AS_OF, day1), (AS_OF + timedelta(days=7), day2)], cfg)
    first = assign_leads(day1, history, AS_OF, cfg).column("cluster_id").to_numpy()
    second = assign_leads(day2, history, AS_OF + timedelta(days=7), cfg)
    second_ids = second.column("cluster_id").to_numpy()
    for blob in range(len(BLOB_CENTERS)):
        assert set(first[truth1 == blob]) == set(second_ids[truth2 == blob])
    run2 = history.filter(pa.compute.equal(history.column("as_of"), AS_OF + timedelta(days=7)))
    assert run2.column("is_new_cluster").to_pylist() == [False] * 4
    assert run2.column("is_warm_started").to_pylist() == [True] * 4
    assert max(run2.column("previous_distance").to_pylist()) < 0.5


def test_k_change_between_runs_does_not_crash_and_keeps_surviving_ids():
    day1, _ = _blobs(150, seed=7)
    three_blobs = day1.filter(pa.compute.less(day1.column("f2"), 100))  # blobs 0 and 1 only...
    three_blobs = pa.concat_tables([three_blobs, _blobs(150, seed=8)[0].slice(0, 60)])
    cfg4, cfg3 = _config(k_range=(4, 4)), _config(k_range=(3, 3))
    history = _fit_history([(AS_OF, day1)], cfg4)
    day2 = fit_segments(three_blobs, history, TERMS, AS_OF + timedelta(days=1), cfg3)
    assert day2.num_rows == 3
    assert set(day2.column("cluster_id").to_pylist()) <= {1, 2, 3, 4, 5}
    history = pa.concat_tables([history, day2])
    day3 = fit_segments(day1, history, TERMS, AS_OF + timedelta(days=2), cfg4)
    ids3 = day3.column("cluster_id").to_pylist()
    assert len(ids3) == 4 and len(set(ids3)) == 4
    # the fourth cluster comes back under an id; any id new on day 3 is above all used ids
    is_new = day3.column("is_new_cluster").to_pylist()
    new_ids = [i for i, new in zip(ids3, is_new, strict=True) if new]
    assert all(i > max(history.column("cluster_id").to_pylist()) for i in new_ids)


def test_a_rerun_of_the_same_as_of_reproduces_its_ids_and_reset_restarts_them():
    cfg = _config(k_range=(4, 4))
    day1, _ = _blobs(150, seed=9)
    day2, _ = _blobs(150, seed=10)
    history = _fit_history([(AS_OF, day1), (AS_OF + timedelta(days=7), day2)], cfg)
    rerun = fit_segments(day2, history, TERMS, AS_OF + timedelta(days=7), cfg)
    first = history.filter(pa.compute.equal(history.column("as_of"), AS_OF + timedelta(days=7)))
    assert rerun.column("cluster_id").to_pylist() == first.column("cluster_id").to_pylist()
    assert rerun.column("centroid_json").to_pylist() == first.column("centroid_json").to_pylist()
    reset = fit_segments(day2, history, TERMS, AS_OF + timedelta(days=14), _config(
        k_range=(4, 4), reset_ids=True))  # fmt: skip
    assert reset.column("cluster_id").to_pylist() == [1, 2, 3, 4]
    assert reset.column("previous_as_of").null_count == 4


def test_previous_run_is_the_latest_before_else_the_earliest_after():
    def run(as_of: datetime, ids: list[int]) -> list[dict]:
        return [{"as_of": as_of, "cluster_id": i, "centroid_json": json.dumps({"f": float(i)})}
                for i in ids]  # fmt: skip

    d1, d2, d3 = AS_OF, AS_OF + timedelta(days=7), AS_OF + timedelta(days=14)
    history = pa.Table.from_pylist(run(d1, [1, 2]) + run(d3, [1, 3]))
    prev = previous_run(history, d2)
    assert prev is not None and prev.as_of == d1 and prev.ids == [1, 2] and prev.next_id == 4
    backfill = previous_run(history, AS_OF - timedelta(days=7))
    assert backfill is not None and backfill.as_of == d1
    assert previous_run(pa.Table.from_pylist(run(d1, [1, 2])), d1) is None


# --- names ----------------------------------------------------------------------------------------


FEATURES = ["engagement", "recency_days", "age", "size"]
TERMS_BY_FEATURE = NameTerm.from_rows(TERMS)


def test_names_use_one_word_per_axis_the_strongest_first_and_the_size_noun():
    name = cluster_name(np.array([2.0, -1.0, -1.5, 1.2]), FEATURES, [False] * 4,
                        TERMS_BY_FEATURE, threshold=0.5, max_terms=2)  # fmt: skip
    assert name == "high-engagement, new enterprise"
    dormant = cluster_name(np.array([-0.6, 1.5, 0.2, -0.8]), FEATURES, [False] * 4,
                           TERMS_BY_FEATURE, threshold=0.5, max_terms=2)  # fmt: skip
    assert dormant == "dormant SMB"
    # size near the rest's, or constant (B2C without company sizes): no size word
    plain = cluster_name(np.array([0.1, 0.0, 0.0, 3.0]), FEATURES, [False, False, False, True],
                         TERMS_BY_FEATURE, threshold=0.5, max_terms=2)  # fmt: skip
    assert plain == f"typical {DEFAULT_NOUN}"
    unknown = cluster_name(np.array([0.0, 0.0, 0.0, 0.0, 1.0]), [*FEATURES, "n_webinars"],
                           [False] * 5, TERMS_BY_FEATURE, threshold=0.5, max_terms=2)  # fmt: skip
    assert unknown == "high n_webinars leads"


def test_clashing_names_get_more_words_then_the_id():
    centers = np.array([[1.0, 0.0, 0.6, 0.0], [1.2, 0.0, -0.7, 0.0], [1.1, 0.0, -0.8, 0.0]])
    names = cluster_names(centers, [1, 2, 3], FEATURES, [False] * 4, TERMS_BY_FEATURE, 0.5, 1)
    assert names[0] == "high-engagement, long-standing leads"
    assert names[1] == "high-engagement, new leads (cluster 2)"
    assert names[2] == "high-engagement, new leads (cluster 3)"


def test_a_dominant_cluster_is_named_by_its_contrast_with_the_rest():
    # 80 % of leads: close to the overall mean, but clearly less engaged than the rest
    centers = np.array([[-0.3, 0.4, 0.0, 0.0], [1.2, -1.6, 0.0, 0.0]])
    shares = [0.8, 0.2]
    contrast = contrast_with_rest(centers, shares)
    assert contrast[0].tolist() == pytest.approx([-1.5, 2.0, 0.0, 0.0])
    names = cluster_names(contrast, [1, 2], FEATURES, [False] * 4, TERMS_BY_FEATURE, 0.5, 2)
    assert names == ["dormant leads", "recently active leads"]


# --- outliers and profiles ------------------------------------------------------------------------


def test_dbscan_flags_leads_far_from_every_dense_region():
    rng = np.random.default_rng(11)
    dense = rng.normal(size=(500, 2)) * 0.3
    far = np.array([[8.0, 8.0], [-9.0, 4.0]])
    flags, eps = dbscan_outliers(dense, np.vstack([dense, far]), _config(dbscan_min_samples=10))
    assert eps > 0
    assert flags[-2:].all()
    assert flags[:-2].mean() < 0.02


def test_outlier_flags_reach_lead_clusters_when_dbscan_is_on():
    table, _ = _blobs(200, seed=12)
    far = pa.table({"lead_id": ["far"], "f1": [1e6], "f2": [3e5]})
    everyone = pa.concat_tables([table, far])
    cfg = _config(k_range=(4, 4), outlier_method="dbscan", dbscan_min_samples=5)
    centroids = fit_segments(table, None, TERMS, AS_OF, cfg)
    out = assign_leads(everyone, centroids, AS_OF, cfg, lambda n: everyone.slice(0, n))
    lead_ids, outlier = out.column("lead_id").to_pylist(), out.column("is_outlier").to_pylist()
    flags = dict(zip(lead_ids, outlier, strict=True))
    assert flags["far"] is True
    assert sum(flags.values()) <= 0.05 * len(flags)


def test_profiles_report_sizes_means_and_the_conversion_of_matured_snapshots():
    table, _ = _blobs(100, seed=13)
    cfg = _config(k_range=(4, 4))
    centroids = fit_segments(table, None, TERMS, AS_OF, cfg)
    assigned = assign_leads(table, centroids, AS_OF, cfg)
    members = table.append_column("cluster_id", assigned.column("cluster_id")).append_column(
        "is_outlier", assigned.column("is_outlier")
    )
    # matured snapshots: blob 3 (both features high) converted half the time, the rest never
    snaps, snap_truth = _blobs(100, seed=14)
    converted = (snap_truth == 3) & (np.arange(len(snap_truth)) % 2 == 0)
    snaps = snaps.append_column("is_converted", pa.array(converted))
    profiles = build_profiles(members, centroids, snaps, AS_OF, cfg).to_pylist()
    assert sorted(p["n_leads"] for p in profiles) == [100, 100, 100, 100]
    assert sum(p["n_matured_snapshots"] for p in profiles) == 400
    by_rate = sorted(profiles, key=lambda p: p["conversion_rate"])
    top = by_rate[-1]
    assert top["avg_f1"] > 150 and top["avg_f2"] > 150
    assert top["conversion_rate"] == pytest.approx(converted.sum() / 100)
    assert top["conversion_rate_low"] < top["conversion_rate"] < top["conversion_rate_high"]
    assert top["conversion_lift"] == pytest.approx(top["conversion_rate"] / converted.mean())
    assert [p["conversion_rate"] for p in by_rate[:3]] == [0.0, 0.0, 0.0]


def test_wilson_interval():
    low, high = wilson_interval(10, 100)
    assert low == pytest.approx(0.0552, abs=1e-3) and high == pytest.approx(0.1744, abs=1e-3)
    assert wilson_interval(0, 0) == (None, None)
    # a cluster where nobody (or everybody) converted: the rate is the exact bound
    assert wilson_interval(0, 135)[0] == 0.0
    assert wilson_interval(135, 135)[1] == 1.0


def test_model_selection_expands_every_runs_curve():
    cfg = _config(k_range=(3, 5))
    day1, _ = _blobs(100, seed=15)
    history = _fit_history([(AS_OF, day1), (AS_OF + timedelta(days=7), day1)], cfg)
    curve = model_selection(history).to_pylist()
    assert [(r["as_of"], r["k"]) for r in curve] == [
        (d, k) for d in (AS_OF, AS_OF + timedelta(days=7)) for k in (3, 4, 5)
    ]
    chosen = [r for r in curve if r["is_chosen"]]
    assert [r["k"] for r in chosen] == [4, 4]
    assert chosen[1]["is_warm_started"] and chosen[0]["chosen_reason"].startswith("best")


# --- end to end -----------------------------------------------------------------------------------


@pytest.mark.e2e
def test_segments_build_and_keep_their_ids_on_the_next_as_of(tmp_path: Path):
    raw = generate_raw(tmp_path, n_leads=2500, seed=21)
    select = ["--select", "+lead_segments", "+segment_profiles", "+segment_model_selection",
              "--indirect-selection", "cautious"]  # fmt: skip
    first_as_of, second_as_of = "2026-09-17", "2026-09-24"
    # the first day only needs the tables (seeds + models); the second runs every data test
    first = ["build", *select, "--exclude-resource-type", "test"]
    run = run_dbt([*first, "--vars", f"{{as_of: {first_as_of}}}"], raw, tmp_path)
    assert run.returncode == 0, run.output[-6000:]
    before = dict(run.query("select lead_id, cluster_id from lead_clusters"))
    run = run_dbt(["build", *select, "--vars", f"{{as_of: {second_as_of}}}"], raw, tmp_path)
    assert run.returncode == 0, run.output[-6000:]
    after = dict(run.query("select lead_id, cluster_id from lead_clusters"))

    # every open lead has an RFM segment and a named cluster
    assert run.scalar("select count(*) from lead_segments") == run.scalar(
        "select count(*) from lead_features"
    )
    assert (
        run.scalar(
            "select count(*) from lead_segments where rfm_segment is null or cluster_name is null"
        )
        == 0
    )
    assert run.scalar("select count(distinct rfm_segment) from lead_segments") >= 5

    # ids: the second run matched the first run's centroids, and leads open on both days
    # mostly keep their cluster id (a relabelled K-Means would keep ~1/k of them)
    runs = run.query(
        "select as_of, count(*), count(*) filter (where is_new_cluster), "
        "max(previous_distance) from segment_centroids group by 1 order by 1"
    )
    assert [str(r[0].date()) for r in runs] == [first_as_of, second_as_of]
    _, k2, n_new, max_distance = runs[1]
    assert n_new == 0 or k2 > runs[0][1]
    assert max_distance < 1.0
    both = before.keys() & after.keys()
    kept = sum(before[lead] == after[lead] for lead in both) / len(both)
    assert len(both) > 1000 and kept >= 0.9, kept
    assert (
        run.scalar(
            "select count(*) from segment_model_selection where is_chosen group by as_of "
            "order by 1 desc limit 1"
        )
        == 1
    )

    # profiles: today's clusters differ in how often leads like them converted
    rates = run.query(
        "select conversion_rate, n_matured_snapshots from segment_profiles "
        "where n_matured_snapshots >= 200 order by conversion_rate"
    )
    assert len(rates) >= 2
    assert rates[-1][0] >= 2 * rates[0][0], rates
