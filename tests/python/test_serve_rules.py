"""leadscore.serve.rules: one feature row's rule score, grade and reasons, computed in Python.

Unit tests on hand-made rules and feature rows whose expected matches were derived by
reading macros/scoring_rules.sql (rule_match, rule_points, rule_clamp, rule_grade) and
models/scoring/lead_rule_reasons.sql; and the parity test: every lead_features row of a
real build against lead_rule_scores and lead_rule_reasons.
"""

from __future__ import annotations

import csv
from typing import Any

import duckdb
import pytest
from conftest import PROJECT_DIR, DbtRun

from leadscore.serve.rules import RuleResult, RuleScorer, feature_kind

KINDS = {
    "company_size": "number", "n_visits": "number", "industry": "text",
    "is_corporate_email": "boolean", "created_at": None, "lead_id": "text",
}  # fmt: skip
GRADES = [
    {"grade": "A", "min_score": "150"}, {"grade": "C", "min_score": "90"},
    {"grade": "B", "min_score": "120"}, {"grade": "F", "min_score": "0"},
]  # fmt: skip


def _rule(feature: str, operator: str, value: str | None, points: Any = 10, **kw: Any) -> dict:
    return {"rule_id": kw.get("rule_id", "r1"), "dimension": kw.get("dimension", "fit"),
            "feature": feature, "operator": operator, "value": value, "points": points,
            "description": kw.get("description", "a rule")}  # fmt: skip


def _matches(rule: dict[str, Any], **features: Any) -> bool:
    """Whether the one rule matched: its points moved the score from the base."""
    result = RuleScorer([rule], GRADES, KINDS).score({name: None for name in KINDS} | features)
    return result.rule_score_unclamped != 100


@pytest.mark.parametrize(
    ("operator", "value", "feature_value", "matched"),
    [
        ("=", "50", 50.0, True), ("=", "50", 50.5, False), ("=", "0.1", 0.1, True),
        ("!=", "50", 51.0, True), ("!=", "50", 50.0, False),
        ("<", "11", 10.9, True), ("<", "11", 11.0, False),
        ("<=", "11", 11.0, True), ("<=", "11", 11.5, False),
        (">", "1000", 1000.0, False), (">", "1000", 1000.5, True),
        (">=", "5", 5.0, True), (">=", "5", 4.99, False),
        ("in", "1|2 | 3", 2.0, True), ("in", "1|2|3", 4.0, False),
        ("not_in", "1|2|3", 4.0, True), ("not_in", "1|2|3", 3.0, False),
        ("between", "201|1000", 201.0, True), ("between", "201|1000", 1000.0, True),
        ("between", "201|1000", 200.99, False), ("between", "201|1000", 1000.01, False),
        ("=", "1e3", 1000.0, True), ("<", "+5", 4.0, True), ("<", ".5", 0.25, True),
        # DuckDB orders NaN above every number
        (">", "5", float("nan"), True), ("!=", "5", float("nan"), True),
        ("<", "5", float("nan"), False), ("between", "1|2", float("nan"), False),
    ],
)  # fmt: skip
def test_number_operators(operator: str, value: str, feature_value: float, matched: bool) -> None:
    assert _matches(_rule("company_size", operator, value), company_size=feature_value) is matched


@pytest.mark.parametrize(
    ("operator", "value", "feature_value", "matched"),
    [
        ("<", "2.5", 2, True),
        ("=", "2.5", 2, False),
        (">", "2.5", 3, True),
        ("=", "1e3", 1000, True),
        ("in", "1|2", 2, True),
        ("between", "0|2.0", 2, True),
    ],
)
def test_integer_feature_against_decimal_values(
    operator: str, value: str, feature_value: int, matched: bool
) -> None:
    assert _matches(_rule("n_visits", operator, value), n_visits=feature_value) is matched


@pytest.mark.parametrize(
    ("operator", "value"),
    [("=", "5"), ("!=", "5"), ("<", "5"), ("in", "1|5"), ("not_in", "1|5"), ("between", "1|9")],
)
def test_null_feature_matches_only_is_null(operator: str, value: str) -> None:
    assert not _matches(_rule("company_size", operator, value), company_size=None)


@pytest.mark.parametrize(
    ("value", "feature_value", "matched"),
    [("", None, True), ("", 3.0, False), ("TRUE", None, True), ("false", None, False),
     ("False", 3.0, True)],
)  # fmt: skip
def test_is_null(value: str, feature_value: float | None, matched: bool) -> None:
    assert _matches(_rule("company_size", "is_null", value), company_size=feature_value) is matched


@pytest.mark.parametrize(
    ("operator", "value", "feature_value", "matched"),
    [
        ("=", "Software", "software", True), ("=", " software ", "SOFTWARE", True),
        ("=", "software", " software", False),  # the column is lowercased, not trimmed
        ("!=", "software", "retail", True), ("!=", "software", None, False),
        ("in", "Software | Retail", "retail", True), ("in", "software|retail", "media", False),
        ("not_in", "software|retail", "media", True), ("not_in", "software|retail", None, False),
        ("=", "οδοσ", "ΟΔΟΣ", True),  # DuckDB's lower has no final sigma
    ],
)  # fmt: skip
def test_text_operators(
    operator: str, value: str, feature_value: str | None, matched: bool
) -> None:
    assert _matches(_rule("industry", operator, value), industry=feature_value) is matched


@pytest.mark.parametrize(
    ("operator", "value", "feature_value", "matched"),
    [
        ("=", "TRUE", True, True), ("=", "true", False, False), ("=", "false", False, True),
        ("=", "true", None, False), ("!=", "true", False, True), ("!=", "true", None, False),
    ],
)  # fmt: skip
def test_boolean_operators(
    operator: str, value: str, feature_value: bool | None, matched: bool
) -> None:
    rule = _rule("is_corporate_email", operator, value)
    assert _matches(rule, is_corporate_email=feature_value) is matched


def _scorer(points: list[int], dimensions: list[str] | None = None) -> RuleScorer:
    """One always-matching rule (n_visits >= 0) per entry of points, ids r0, r1, ..."""
    dimensions = dimensions or ["fit"] * len(points)
    rules = [
        _rule("n_visits", ">=", "0", str(p), rule_id=f"r{i}", dimension=d, description=f"d{i}")
        for i, (p, d) in enumerate(zip(points, dimensions, strict=True))
    ]
    return RuleScorer(rules, GRADES, KINDS)


def _score(scorer: RuleScorer) -> RuleResult:
    return scorer.score({name: None for name in KINDS} | {"n_visits": 1})


def test_points_summed_by_dimension() -> None:
    result = _score(_scorer([10, -3, 25], ["fit", "engagement", "engagement"]))
    assert (result.fit_score, result.engagement_score) == (10, 22)
    assert (result.rule_score_unclamped, result.rule_score, result.rule_grade) == (132, 132, "B")


@pytest.mark.parametrize(
    ("points", "unclamped", "score", "grade"),
    [(150, 250, 200, "A"), (-150, -50, 0, "F"), (50, 150, 150, "A"), (49, 149, 149, "B"),
     (20, 120, 120, "B"), (19, 119, 119, "C"), (-10, 90, 90, "C"), (-11, 89, 89, "F")],
)  # fmt: skip
def test_clamp_and_grade_edges(points: int, unclamped: int, score: int, grade: str) -> None:
    result = _score(_scorer([points]))
    assert (result.rule_score_unclamped, result.rule_score, result.rule_grade) == (
        unclamped, score, grade,
    )  # fmt: skip
    assert isinstance(result.rule_score, int)


def test_base_and_clamp_vars() -> None:
    rules = [_rule("n_visits", ">=", "0", "30")]
    scorer = RuleScorer(rules, GRADES, KINDS, base_score=50, score_min=10, score_max=70)
    result = _score(scorer)
    assert (result.rule_score_unclamped, result.rule_score, result.rule_grade) == (80, 70, "F")


def test_reasons_order_zero_points_and_none() -> None:
    result = _score(_scorer([5, -5, 10, 0, 5, -20]))
    assert result.ups == [
        {"description": "d2", "points": 10},
        {"description": "d0", "points": 5},  # a tie: by rule_id
        {"description": "d4", "points": 5},
    ]
    assert result.downs == [
        {"description": "d5", "points": -20},
        {"description": "d1", "points": -5},
    ]
    only_ups = _score(_scorer([5, 0]))
    assert (only_ups.ups, only_ups.downs) == ([{"description": "d0", "points": 5}], None)
    nothing = RuleScorer([], GRADES, KINDS).score({})
    assert (nothing.rule_score, nothing.rule_grade, nothing.ups, nothing.downs) == (
        100, "C", None, None,
    )  # fmt: skip


def test_seed_cells_are_trimmed_and_lowercased() -> None:
    rule = {"rule_id": " r1 ", "dimension": " FIT ", "feature": " Industry ", "operator": " IN ",
            "value": " Software|Media ", "points": " +7 ", "description": "  why  "}  # fmt: skip
    result = RuleScorer([rule], GRADES, KINDS).score({"industry": "media"})
    assert (result.fit_score, result.ups) == (7, [{"description": "why", "points": 7}])


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (_rule("company_size", "~", "5"), "operator '~'"),
        (_rule("company_size", "<", "five"), "value 'five' is not a number"),
        (_rule("company_size", "between", "5"), "between needs"),
        (_rule("company_size", "in", "1||2"), "in needs"),
        (_rule("industry", "<", "b"), "operator '<' does not apply to the text feature"),
        (_rule("is_corporate_email", "=", "yes"), "value 'yes' is not true or false"),
        (_rule("company_size", "is_null", "maybe"), "is_null takes"),
        (_rule("company_size", "=", ""), "needs a value"),
        (_rule("unknown_feature", "=", "1"), "'unknown_feature' is not a number"),
        (_rule("created_at", "=", "1"), "'created_at' is not a number"),
        (_rule("lead_id", "=", "x"), "'lead_id' is not a number"),
        (_rule("company_size", "=", "1", points="1.5"), "points '1.5'"),
        (_rule("company_size", "=", "1", dimension="intent"), "unknown dimension 'intent'"),
    ],
)
def test_invalid_rules_raise(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RuleScorer([rule], GRADES, KINDS)


def test_missing_feature_column_is_an_error() -> None:
    scorer = RuleScorer([_rule("company_size", "is_null", "")], GRADES, KINDS)
    with pytest.raises(ValueError, match=r"missing column.*company_size"):
        scorer.score({"industry": "media"})


@pytest.mark.parametrize(
    ("duckdb_type", "kind"),
    [
        ("INTEGER", "number"), ("BIGINT", "number"), ("HUGEINT", "number"),
        ("UBIGINT", "number"), ("DOUBLE", "number"), ("FLOAT", "number"),
        ("DECIMAL(18,3)", "number"), ("VARCHAR", "text"), ("BOOLEAN", "boolean"),
        ("TIMESTAMP", None), ("DATE", None), ("INTERVAL", None), ("STRUCT(a INTEGER)", None),
    ],
)  # fmt: skip
def test_feature_kind(duckdb_type: str, kind: str | None) -> None:
    assert feature_kind(duckdb_type) == kind


def test_default_seeds_parse() -> None:
    """seeds/scoring_rules.csv and rule_grades.csv as read from the files (all text)."""
    with (PROJECT_DIR / "seeds" / "scoring_rules.csv").open(newline="") as f:
        rules = list(csv.DictReader(f))
    with (PROJECT_DIR / "seeds" / "rule_grades.csv").open(newline="") as f:
        grades = list(csv.DictReader(f))
    kinds = {rule["feature"]: "number" for rule in rules}
    kinds |= {"industry": "text", "seniority": "text", "job_function": "text", "region": "text",
              "lead_source": "text", "is_corporate_email": "boolean",
              "has_pricing_page_view_7d": "boolean"}  # fmt: skip
    result = RuleScorer(rules, grades, kinds).score(dict.fromkeys(kinds))
    # only fit_size_unknown (company_size is_null, -5) matches an all-NULL row
    assert (result.rule_score, result.rule_grade, result.ups) == (95, "C", None)
    assert result.downs == [{"description": "Company size unknown: harder to qualify",
                             "points": -5}]  # fmt: skip


def _dicts(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.mark.e2e
def test_parity_with_lead_rule_scores_and_reasons(small_build: DbtRun) -> None:
    """score(row) of every lead_features row equals its lead_rule_scores and
    lead_rule_reasons rows."""
    con = duckdb.connect(str(small_build.db_path), read_only=True)
    try:
        columns = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_name = 'lead_features'"
        ).fetchall()
        scorer = RuleScorer(
            _dicts(con, "select * from scoring_rules"),
            _dicts(con, "select * from rule_grades"),
            {name: feature_kind(dtype) for name, dtype in columns},
        )
        features = _dicts(con, "select * from lead_features order by lead_id")
        expected = {
            row["lead_id"]: row
            for row in _dicts(
                con,
                "select s.lead_id, s.fit_score, s.engagement_score, s.rule_score_unclamped, "
                "s.rule_score, s.rule_grade, r.ups, r.downs from lead_rule_scores as s "
                "inner join lead_rule_reasons as r using (lead_id)",
            )
        }
    finally:
        con.close()
    assert len(features) == len(expected) > 1000
    mismatches = []
    for row in features:
        result = scorer.score(row)
        want = expected[row["lead_id"]]
        got = {name: getattr(result, name, row["lead_id"]) for name in want}
        if got != want:
            diff = {k: (got[k], want[k]) for k in want if got[k] != want[k]}
            mismatches.append(f"{row['lead_id']}: {diff} (got, want)")
    assert not mismatches, f"{len(mismatches)} of {len(features)} leads differ:\n" + "\n".join(
        mismatches[:10]
    )
