"""Feature typing and preprocessing: layouts, rare/missing/unknown categories, JSON state."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest

from leadscore.preprocess import FeatureSpec, Preprocessor, fit_preprocessor


def table() -> pa.Table:
    industry = ["software"] * 5 + ["retail"] * 3 + ["mining"] + [None]
    return pa.table(
        {
            "lead_id": [f"L{i}" for i in range(10)],
            "snapshot_at": pa.array([datetime(2026, 1, 1)] * 10, pa.timestamp("us")),
            "last_input_at": pa.array([datetime(2025, 12, 1)] * 10, pa.timestamp("us")),
            "industry": pa.array(industry).dictionary_encode(),
            "company_size": pa.array([10, 20, None, 40, 50, 60, 70, 80, 90, 100], pa.int32()),
            "velocity": pa.array([Decimal(v) for v in range(-5, 5)], pa.decimal128(38, 0)),
            "is_corporate_email": [True, False, None, True, True, False, True, True, True, True],
            "constant": [3.0] * 10,
            "all_null": pa.nulls(10, pa.float64()),
            "signup_date": pa.array([datetime(2025, 1, 1)] * 10, pa.timestamp("us")),
            "is_converted": [True, False] * 5,
            "split": ["train"] * 10,
        }
    )


def test_spec_types_columns_and_excludes_keys_labels_and_configured_columns():
    spec = FeatureSpec.from_schema(table().schema, exclude=("constant",))
    assert spec.categorical == ["industry"]
    assert spec.boolean == ["is_corporate_email"]
    assert spec.numeric == ["company_size", "velocity", "all_null"]
    assert "signup_date" in spec.ignored
    for never in ("lead_id", "snapshot_at", "last_input_at", "is_converted", "split", "constant"):
        assert never not in spec.columns
    assert FeatureSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_rare_missing_and_unknown_categories_get_their_own_columns():
    spec = FeatureSpec.from_schema(table().schema)
    pre = fit_preprocessor(table(), spec, "tree", min_category_count=2, max_categories=1)
    # software (5) kept; retail (3) beyond max_categories → rare; mining (1) → rare
    assert pre.categorical["industry"].categories == ["software"]
    scoring = pa.table(
        {
            **{c: table().column(c).slice(0, 4) for c in spec.columns if c != "industry"},
            "industry": ["software", "retail", None, "space mining"],
        }
    )
    out = pre.transform(scoring)
    cols = [out.feature_names.index(n) for n in out.feature_names if n.startswith("industry")]
    assert [out.feature_names[j] for j in cols] == [
        "industry=software",
        "industry=(rare)",
        "industry (missing)",
        "industry=(unknown)",
    ]
    np.testing.assert_array_equal(out.matrix[:, cols], np.eye(4))
    assert out.unknown_counts == {"industry": 1}


def test_linear_layout_imputes_standardises_and_never_makes_nan():
    spec = FeatureSpec.from_schema(table().schema)
    pre = fit_preprocessor(table(), spec, "linear", min_category_count=1)
    out = pre.transform(table())
    assert np.isfinite(out.matrix).all()
    names = out.feature_names
    assert "company_size (missing)" in names and "is_corporate_email (missing)" in names
    assert "constant (missing)" not in names
    constant = out.matrix[:, names.index("constant")]
    np.testing.assert_array_equal(constant, 0.0)  # std 0 → scale 1, centred
    np.testing.assert_array_equal(out.matrix[:, names.index("all_null")], 0.0)
    size = out.matrix[:, names.index("company_size")]
    assert size[2] == pytest.approx(np.median(np.delete(size, 2)), abs=0.5)  # median-imputed
    assert out.matrix[2, names.index("company_size (missing)")] == 1.0
    flags = out.matrix[:, names.index("is_corporate_email")]
    np.testing.assert_array_equal(flags, [1, 0, 0, 1, 1, 0, 1, 1, 1, 1])  # 0/1, NULL → 0


def test_tree_layout_keeps_nan_for_missing():
    spec = FeatureSpec.from_schema(table().schema)
    pre = fit_preprocessor(table(), spec, "tree")
    out = pre.transform(table())
    names = out.feature_names
    assert out.matrix.dtype == np.float32
    assert np.isnan(out.matrix[2, names.index("company_size")])
    assert np.isnan(out.matrix[2, names.index("is_corporate_email")])
    assert out.matrix[0, names.index("velocity")] == -5.0
    assert not any(n.endswith("(missing)") and not n.startswith("industry") for n in names)


def test_state_round_trips_through_json_with_identical_output():
    spec = FeatureSpec.from_schema(table().schema)
    for mode in ("linear", "tree"):
        pre = fit_preprocessor(table(), spec, mode, min_category_count=2)
        again = Preprocessor.from_dict(json.loads(json.dumps(pre.to_dict())))
        expected = pre.transform(table()).matrix
        np.testing.assert_array_equal(expected, again.transform(table()).matrix)


def test_missing_feature_column_names_the_column_and_the_fix():
    spec = FeatureSpec.from_schema(table().schema)
    pre = fit_preprocessor(table(), spec, "tree")
    with pytest.raises(ValueError, match=r"company_size.*retrain"):
        pre.transform(table().drop_columns(["company_size"]))


def test_a_few_rows_give_the_matrix_of_the_arrow_path():
    """transform reads tables of up to SMALL_TABLE_ROWS rows as Python values (leadscore
    serve's one lead); every row must get exactly the matrix row of the Arrow path."""
    from leadscore.preprocess import SMALL_TABLE_ROWS

    n = 40
    plain = pa.table(
        {
            "industry": pa.array(
                (["software", "retail", "mining", None, "unseen", "rare"] * 7)[:n]
            ),
            "company_size": pa.array(([10, None, 3, 7_000_000, -2] * 8)[:n], pa.int64()),
            "ratio": pa.array(([0.5, float("nan"), float("inf"), None, -1e30] * 8)[:n]),
            "is_corporate_email": pa.array(([True, False, None, True] * 10)[:n]),
            "is_converted": [True, False] * (n // 2),
            "split": ["train"] * n,
        }
    )
    spec = FeatureSpec.from_schema(plain.schema)
    for mode in ("tree", "linear"):
        pre = fit_preprocessor(plain, spec, mode, min_category_count=7)
        assert pre.categorical["industry"].rare_values  # the rare bucket is exercised
        whole = pre.transform(plain)  # n > SMALL_TABLE_ROWS: the Arrow path
        assert n > SMALL_TABLE_ROWS
        for i in range(n):
            one = pre.transform(plain.slice(i, 1))
            np.testing.assert_array_equal(one.matrix[0], whole.matrix[i])
        rows = plain.slice(0, 3)
        given = pre.transform(rows, {"rows": rows.to_pylist()})
        np.testing.assert_array_equal(given.matrix, whole.matrix[:3])
