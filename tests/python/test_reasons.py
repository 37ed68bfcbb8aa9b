"""Score reasons as text (leadscore.reasons) and its seed seeds/feature_labels.csv.

The seed is checked against the feature contract (models/features/_features.yml): every
lead_features column has a row, and no row is stale. The shipped phrases are checked on the
examples a salesperson sees; the rendering rules on hand-made rows, so they do not depend on
the seed's wording.
"""

from __future__ import annotations

import csv
import math
from datetime import datetime

import pytest
import yaml
from conftest import PROJECT_DIR

from leadscore.reasons import FeatureLabel, ReasonLabels, rule_reason

SEED_PATH = PROJECT_DIR / "seeds" / "feature_labels.csv"
NOT_FEATURES = {"lead_id", "as_of", "last_input_at"}


def seed_rows() -> list[dict[str, str]]:
    with SEED_PATH.open(newline="") as f:
        return list(csv.DictReader(f))


def lead_feature_columns() -> list[str]:
    spec = yaml.safe_load((PROJECT_DIR / "models/features/_features.yml").read_text())
    (model,) = [m for m in spec["models"] if m["name"] == "lead_features"]
    return [c["name"] for c in model["columns"] if c["name"] not in NOT_FEATURES]


def sales_touch_columns(windows: set[str]) -> set[str]:
    """The optional columns of var include_sales_touch_features (see _features.yml)."""
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    types = project["vars"]["sales_touch_activity_types"]
    return {f"n_{t}_{w}" for t in types for w in windows} | {"days_since_last_sales_touch"}


@pytest.fixture(scope="module")
def shipped() -> ReasonLabels:
    return ReasonLabels.from_rows(seed_rows())


def row(feature: str = "f", kind: str = "count", template: str = "{value} things", **rest: str):
    """A seed row as csv.DictReader gives it (empty cells are empty strings)."""
    cells = {"label": "", "template_one": "", "template_zero": "", "template_missing": ""}
    return {"feature": feature, "kind": kind, "template": template, **cells, **rest}


def render_one(value: object, **kwargs: str) -> str:
    return ReasonLabels.from_rows([row(**kwargs)]).render(kwargs.get("feature", "f"), value)


# --- the seed against the feature contract ----------------------------------------------------


def test_every_lead_features_column_has_a_label_row():
    columns = lead_feature_columns()
    assert len(columns) > 60  # the yml was parsed, not an empty list
    missing = sorted(set(columns) - {r["feature"] for r in seed_rows()})
    assert missing == [], f"add rows for {missing} to seeds/feature_labels.csv"


def test_no_seed_row_is_stale():
    columns = set(lead_feature_columns())
    windows = {c.rsplit("_", 1)[1] for c in columns if c.startswith("n_engagement_")}
    assert windows == {"7d", "30d", "90d", "all"}
    stale = sorted({r["feature"] for r in seed_rows()} - columns - sales_touch_columns(windows))
    assert stale == [], f"{stale} are not lead_features columns; remove or rename their rows"


SAMPLE_VALUES = {
    "count": [None, 0, 1, 4, 12_345],
    "number": [None, 0.0, 1.0, 3.27, 1234.5],
    "days": [None, 0.2, 1.5, 12.4, 400.0],
    "money": [None, 0.0, 1.0, 12_000.0, 2_500_000.0],
    "percent": [None, 0.0, 0.01, 0.25, 1.5],
    "log_count": [None, 0.0, math.log(5400), math.log(250_000)],
    "hour": [None, 0, 14, 23],
    "day_of_week": [None, 1, 7],
    "category": [None, "5000+", "financial_services", "north_america"],
    "flag": [None, True, False],
}


def test_shipped_phrases_are_short_lowercase_and_without_a_period(shipped):
    for r in seed_rows():
        for value in SAMPLE_VALUES[r["kind"]]:
            text = shipped.render(r["feature"], value)
            assert len(text) <= 60, (r["feature"], value, text)
            assert not text[0].isupper(), (r["feature"], value, text)
            assert not text.endswith("."), (r["feature"], value, text)
            assert "{" not in text, (r["feature"], value, text)


@pytest.mark.parametrize(
    ("feature", "value", "expected"),
    [
        ("n_pricing_page_view_7d", 4, "4 pricing-page views in the last 7 days"),
        ("n_pricing_page_view_7d", 1, "1 pricing-page view in the last 7 days"),
        ("n_pricing_page_view_7d", 0, "no pricing-page views in the last 7 days"),
        ("n_page_view_all", 12_345, "12,345 page views so far"),
        ("company_size_band", "5000+", "company size 5000+"),
        ("is_corporate_email", True, "corporate email address"),
        ("is_corporate_email", False, "free email address"),
        ("days_since_last_engagement", 3.0, "last engaged 3 days ago"),
        ("days_since_last_engagement", 1.9, "last engaged 1 day ago"),
        ("days_since_last_engagement", 0.3, "last engaged less than a day ago"),
        ("days_since_last_engagement", None, "no engagement yet"),
        ("lead_source", "paid_search", "lead source: paid search"),
        ("company_size", 5400, "5,400 employees"),
        ("company_size_log", math.log(5400), "5,400 employees"),
        ("engagement_score_decayed", 3.27, "engagement score 3.3"),
        ("created_hour", 14, "signed up at 14:00 UTC"),
        ("created_hour", 7, "signed up at 07:00 UTC"),
        ("created_day_of_week", 2, "signed up on a Tuesday"),
        ("created_day_of_week", 7, "signed up on a Sunday"),
        ("lead_age_days", 12.4, "lead is 12 days old"),
        ("email_click_through_rate", 0.25, "25% email click-through rate"),
        ("prior_won_amount_domain", 12000, "$12,000 already won from this account"),
        ("prior_won_amount_domain", 0.0, "nothing won from this account yet"),
        ("has_requested_demo", True, "requested a demo"),
        ("has_requested_demo", False, "no demo requested yet"),
        ("company_size", None, "company size unknown"),
        ("industry", None, "industry unknown"),
        ("industry", float("nan"), "industry unknown"),
    ],
)
def test_shipped_phrases(shipped, feature, value, expected):
    assert shipped.render(feature, value) == expected


# --- rendering rules on hand-made rows --------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3, "3 items"), (1, "one item"), (0, "no items"), (None, "stuff unknown"), (0.4, "no items")],
)
def test_count_picks_plural_singular_zero_and_missing_on_the_value_as_shown(value, expected):
    assert (
        render_one(value, template="{value} items", template_one="one item", label="stuff",
                   template_zero="no items")
        == expected
    )  # fmt: skip


@pytest.mark.parametrize(("value", "expected"), [(1, "1 things"), (0, "0 things")])
def test_empty_one_and_zero_templates_fall_back_to_the_template(value, expected):
    assert render_one(value) == expected


def test_empty_label_falls_back_to_the_feature_name():
    assert render_one(None, feature="deal_stage", kind="category") == "deal stage unknown"


def test_flag_true_false_and_their_fallbacks():
    spelled = {"kind": "flag", "template": "is hot", "template_zero": "is cold"}
    assert render_one(True, **spelled) == "is hot"
    assert render_one(False, **spelled) == "is cold"
    assert render_one(None, **spelled, label="temperature") == "temperature unknown"
    assert render_one(False, kind="flag", template="is hot", label="hot lead") == "hot lead: no"


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("money", 1_234_567.4, "$1,234,567"),
        ("money", -1200.0, "-$1,200"),
        ("money", 0.6, "$1"),
        ("percent", 0.25, "25%"),
        ("percent", 0.3333, "33%"),
        ("percent", 1.5, "150%"),
        ("number", 1234.56, "1,234.6"),
        ("number", -0.04, "0.0"),  # not "-0.0"
        ("days", 12.9, "12"),  # whole days elapsed
        ("count", 1_000_000, "1,000,000"),
        ("category", "c_level", "c level"),
    ],
)
def test_value_formats(kind, value, expected):
    assert render_one(value, kind=kind, template="[{value}]") == f"[{expected}]"


def test_day_of_week_outside_iso_range_names_the_feature():
    labels = ReasonLabels.from_rows([row("created_day_of_week", "day_of_week", "on {value}")])
    with pytest.raises(ValueError, match=r"created_day_of_week=0 as kind day_of_week.*1 \(Monday"):
        labels.render("created_day_of_week", 0)


def test_a_value_that_does_not_fit_the_kind_names_the_feature_and_the_fix():
    with pytest.raises(ValueError, match=r"f='many' as kind count.*seeds/feature_labels.csv"):
        render_one("many")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("gold_tier", "account tier: gold tier"),
        (1234, "account tier: 1,234"),
        (0.25, "account tier: 0.25"),
        (3.0, "account tier: 3"),
        (True, "account tier: yes"),
        (datetime(2026, 1, 5, 14, 30), "account tier: 2026-01-05 14:30:00"),
        (None, "account tier unknown"),
        (float("nan"), "account tier unknown"),
    ],
)
def test_a_feature_without_a_row_renders_generically(shipped, value, expected):
    assert shipped.render("account_tier", value) == expected


# --- bad seed rows ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (row(kind="counts"), r"line 2 \(feature 'f'\): kind 'counts' is not one of count \|"),
        (row(template="things"), r"line 2 \(feature 'f'\): template 'things' has no \{value\}"),
        (row(template=""), r"line 2 \(feature 'f'\): template is empty"),
        (row(feature=""), r"line 2 \(feature ''\): feature is empty"),
        (row(template_zero="no {values}"), r"template_zero 'no \{values\}' has braces"),
        (row(template_missing="{value} unknown"), r"template_missing .* \(there is no value\)"),
        (row(kind="flag", template="hot: {value}"), r"template 'hot: \{value\}' has braces"),
    ],
)
def test_a_bad_row_names_the_row_and_the_fix(bad, message):
    with pytest.raises(ValueError, match=message) as err:
        ReasonLabels.from_rows([bad])
    assert str(err.value).endswith("edit seeds/feature_labels.csv")


def test_a_duplicate_feature_names_both_lines():
    rows = [row("a"), row("b"), row("a", template="{value} again")]
    with pytest.raises(ValueError, match=r"line 4 \(feature 'a'\): duplicate of line 2") as err:
        ReasonLabels.from_rows(rows)
    assert str(err.value).endswith("edit seeds/feature_labels.csv")


def test_rows_from_the_seed_table_with_nulls_load_like_csv_rows():
    arrow_row = {**row(template_one=None, template_zero=None), "template_missing": None}
    assert ReasonLabels.from_rows([arrow_row]).render("f", None) == "f unknown"


def test_a_feature_label_holds_the_effective_templates():
    label = FeatureLabel.from_row(row(label="things"), "test row")
    assert (label.template_one, label.template_zero) == ("{value} things", "{value} things")
    assert label.template_missing == "things unknown"


# --- the memo ---------------------------------------------------------------------------------


def test_memoized_rendering_equals_fresh_rendering():
    rows = seed_rows()
    pairs = [
        (r["feature"], value)
        for r in rows
        for value in SAMPLE_VALUES[r["kind"]] + SAMPLE_VALUES[r["kind"]][::-1]
    ]
    pairs += [("lead_age_days", 12.1), ("lead_age_days", 12.8), ("custom", 2.5), ("custom", "x")]
    memoized = ReasonLabels.from_rows(rows)
    tiny = ReasonLabels(
        {r["feature"]: FeatureLabel.from_row(r, "") for r in rows}, cache_size=1
    )  # emptied on nearly every call
    for feature, value in pairs + pairs:
        fresh = ReasonLabels.from_rows(rows).render(feature, value)
        assert memoized.render(feature, value) == fresh, (feature, value)
        assert tiny.render(feature, value) == fresh, (feature, value)


def test_memo_returns_the_stored_text_for_a_repeated_or_equally_shown_value():
    labels = ReasonLabels.from_rows([row("d", "days", "{value} days", template_one="{value} day")])
    assert labels.render("d", 4) is labels.render("d", 4)  # the same object: from the memo
    assert labels.render("d", 1.2) == "1 day"
    assert labels.render("d", 1.9) is labels.render("d", 1.2)  # both shown as 1 day
    assert labels.render("d", 2.0) == "2 days"
    assert [labels.render("d", math.nan) for _ in range(3)] == ["d unknown"] * 3


# --- rule reasons -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "expected"),
    [(15, "(+15 pts)"), (-10.0, "(-10 pts)"), (1, "(+1 pt)"), (2.5, "(+2.5 pts)")],
)
def test_rule_reason(points, expected):
    text = rule_reason(" Enterprise company (over 1000 employees) ", points)
    assert text == f"Enterprise company (over 1000 employees) {expected}"
