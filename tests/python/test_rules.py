"""Rule-based scoring from the editable seeds (seeds/scoring_rules.csv, seeds/rule_grades.csv).

Every test runs dbt in a copy of the project, so the seeds can be edited like a user would:
- one rule per operator on hand-made leads whose feature values are known, asserting exactly
  which rules matched each lead (and that NULL features match only is_null);
- invalid rules stop the build with each bad rule_id and the fix in the message;
- the default rules on generated data: the breakdown sums to the unclamped score, the score is
  clamped, grades follow the thresholds; then one rule's points are edited in the seed and a
  rerun of `dbt build` moves exactly the affected leads by exactly the delta.
"""

from __future__ import annotations

import csv
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from conftest import PROJECT_DIR, DbtRun, generate_raw, run_dbt
from rawdata import write_raw

pytestmark = pytest.mark.e2e

# the rules do not need trained models: skip the registry (test_training_e2e covers it)
NO_TRAINING = ["build", "--exclude", "model_registry+"]

RULE_COLUMNS = ["rule_id", "dimension", "feature", "operator", "value", "points", "description"]
SCORING = ["lead_rule_scores", "lead_rule_score_breakdown"]
ANYWHERE_IGNORE = shutil.ignore_patterns(
    "*.duckdb", "*.duckdb.wal", "__pycache__", ".ruff_cache", ".pytest_cache", "*.egg-info",
)  # fmt: skip
ROOT_IGNORE = {".venv", "target", "logs", "data", "exports", ".git"}


def _ignore(folder: str, names: list[str]) -> set[str]:
    ignored = set(ANYWHERE_IGNORE(folder, names))
    if Path(folder) == PROJECT_DIR:  # build output and data only at the root
        ignored |= ROOT_IGNORE & set(names)
    return ignored


def copy_project(dst: Path) -> Path:
    """A copy of the project (code and seeds, no data, venv or build output) to edit."""
    shutil.copytree(PROJECT_DIR, dst, ignore=_ignore)
    return dst


def write_rules(project: Path, rules: list[tuple]) -> None:
    with (project / "seeds/scoring_rules.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(RULE_COLUMNS)
        writer.writerows(rules)


def read_rules(project: Path) -> list[dict[str, str]]:
    with (project / "seeds/scoring_rules.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def write_grades(project: Path, grades: list[tuple[str, str]]) -> None:
    """grade, min_score rows; fallback_tier (used only by lead_scores) is warm for all."""
    with (project / "seeds/rule_grades.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["grade", "min_score", "fallback_tier"])
        writer.writerows([(*grade, "warm") for grade in grades])


def matched_rules(run: DbtRun) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for lead_id, rule_id in run.query(
        "select lead_id, rule_id from lead_rule_score_breakdown where rule_id <> 'base'"
    ):
        out.setdefault(lead_id, set()).add(rule_id)
    return out


def scores(run: DbtRun) -> dict[str, tuple]:
    """lead_id -> (fit_score, engagement_score, rule_score_unclamped, rule_score, rule_grade)"""
    return {
        row[0]: row[1:]
        for row in run.query(
            "select lead_id, fit_score, engagement_score, rule_score_unclamped, rule_score, "
            "rule_grade from lead_rule_scores"
        )
    }


def clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


# ------------------------------------------------------------------------------------------
# Every operator and NULL handling, on hand-made leads
# ------------------------------------------------------------------------------------------

AS_OF = "2026-05-01"

# rule_id, dimension, feature, operator, value, points. Text values are written in mixed case
# on purpose: rules compare lowercased.
OPERATOR_RULES = [
    ("num_eq", "fit", "company_size", "=", "500", 1),
    ("num_ne", "fit", "company_size", "!=", "500", 2),
    ("num_lt", "fit", "company_size", "<", "200", 3),
    ("num_le", "fit", "company_size", "<=", "200", 4),
    ("num_gt", "fit", "company_size", ">", "200", 5),
    ("num_ge", "fit", "company_size", ">=", "200", 6),
    ("num_between", "fit", "company_size", "between", "200|500", 7),
    ("num_in", "fit", "company_size", "in", "10|500", 8),
    ("num_not_in", "fit", "company_size", "not_in", "10 | 500", 9),
    ("num_is_null", "fit", "company_size", "is_null", "", -10),
    ("text_eq", "fit", "industry", "=", "Financial Services", 11),
    ("text_ne", "fit", "industry", "!=", "retail", 12),
    ("text_in", "fit", "industry", "in", "SOFTWARE|Retail", 13),
    ("text_not_in", "fit", "industry", "not_in", "software|retail", 14),
    ("text_is_not_null", "fit", "industry", "is_null", "false", 15),
    ("bool_true", "fit", "is_corporate_email", "=", "true", 16),
    ("bool_false", "fit", "is_corporate_email", "=", "FALSE", 17),
    ("bool_ne", "fit", "is_corporate_email", "!=", "true", 18),
    ("bool_is_null", "fit", "is_corporate_email", "is_null", "true", 19),
    ("count_ge", "engagement", "n_page_view_30d", ">=", "3", 20),
    ("recency_lt", "engagement", "days_since_last_engagement", "<", "30", 21),
    ("recency_is_null", "engagement", "days_since_last_engagement", "is_null", "", -22),
]

# The hand-made leads' feature values at AS_OF and the rules each must match.
#   BIG:   size 500, software, corporate email, 3 page views in the last 30 days
#   SMALL: size 10, retail, free-mail, no activity (counts 0, recency NULL)
#   EDGE:  size 200 (on the bounds), financial services, corporate, 1 page view 40 days ago
#   NULLS: size, industry ('Select' placeholder) and email unknown, no activity
EXPECTED_MATCHES = {
    "BIG": {
        "num_eq", "num_gt", "num_ge", "num_between", "num_in", "text_ne", "text_in",
        "text_is_not_null", "bool_true", "count_ge", "recency_lt",
    },
    "SMALL": {
        "num_ne", "num_lt", "num_le", "num_in", "text_in", "text_is_not_null", "bool_false",
        "bool_ne", "recency_is_null",
    },
    "EDGE": {
        "num_ne", "num_le", "num_ge", "num_between", "num_not_in", "text_eq", "text_ne",
        "text_not_in", "text_is_not_null", "bool_true",
    },
    "NULLS": {"num_is_null", "bool_is_null", "recency_is_null"},
}  # fmt: skip

BASE, SCORE_MIN, SCORE_MAX = 50, 40, 100
GRADES = [("hot", "110"), ("warm", "80"), ("cold", "0")]


def _lead(lead_id: str, size, industry, email) -> dict:
    return {
        "lead_id": lead_id,
        "created_at": datetime(2026, 1, 5, 9),
        "lead_source": "organic",
        "company_size": size,
        "industry": industry,
        "country": "us",
        "job_title": "Marketing Manager",
        "email": email,
    }


def _page_view(activity_id: str, lead_id: str, at: str) -> dict:
    return {
        "activity_id": activity_id,
        "lead_id": lead_id,
        "occurred_at": datetime.fromisoformat(at),
        "activity_type": "page_view",
    }


@pytest.fixture(scope="module")
def operator_build(tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    work = tmp_path_factory.mktemp("rule_operators")
    project = copy_project(work / "project")
    write_rules(
        project,
        [(*rule[:5], rule[5], f"test rule {rule[0]}") for rule in OPERATOR_RULES],
    )
    write_grades(project, GRADES)
    raw = write_raw(
        work / "raw",
        {
            "leads": [
                _lead("BIG", 500, "Software", "ann@acme.io"),
                _lead("SMALL", 10, "Retail", "bob@gmail.com"),
                _lead("EDGE", 200, "Financial Services", "cat@bank.com"),
                _lead("NULLS", None, "Select", None),
            ],
            "activities": [
                _page_view("A1", "BIG", "2026-04-20 10:00"),
                _page_view("A2", "BIG", "2026-04-21 10:00"),
                _page_view("A3", "BIG", "2026-04-22 10:00"),
                _page_view("A4", "EDGE", "2026-03-22 00:00"),
            ],
        },
    )
    run = run_dbt(
        [
            "build",
            "--select",
            "+lead_rule_scores",
            "+lead_rule_score_breakdown",
            "--indirect-selection",
            "cautious",
            "--vars",
            f"{{as_of: '{AS_OF}', rule_base_score: {BASE}, rule_score_min: {SCORE_MIN}, "
            f"rule_score_max: {SCORE_MAX}}}",
        ],
        raw,
        work,
        project_dir=project,
    )
    assert run.returncode == 0, run.output[-6000:]
    return run


def test_hand_made_feature_values_are_what_the_rules_assume(operator_build: DbtRun) -> None:
    rows = operator_build.query(
        "select lead_id, company_size, industry, is_corporate_email, n_page_view_30d, "
        "days_since_last_engagement is null from lead_features order by lead_id"
    )
    assert rows == [
        ("BIG", 500.0, "software", True, 3, False),
        ("EDGE", 200.0, "financial services", True, 0, False),
        ("NULLS", None, None, None, 0, True),
        ("SMALL", 10.0, "retail", False, 0, True),
    ]


def test_each_operator_matches_exactly_the_expected_leads(operator_build: DbtRun) -> None:
    matched = matched_rules(operator_build)
    for lead_id, expected in EXPECTED_MATCHES.items():
        got = matched.get(lead_id, set())
        assert got == expected, (
            f"{lead_id}: unexpected {sorted(got - expected)}, missing {sorted(expected - got)}"
        )
    # every operator of the contract is exercised and matches somewhere
    all_matched = set().union(*matched.values())
    assert all_matched == {rule[0] for rule in OPERATOR_RULES}
    assert {rule[3] for rule in OPERATOR_RULES} == {
        "=", "!=", "<", "<=", ">", ">=", "in", "not_in", "between", "is_null",
    }  # fmt: skip


def test_null_features_match_only_is_null(operator_build: DbtRun) -> None:
    """NULLS has every rule feature unknown except the page-view count (a real zero): no
    rule but is_null matches - not even !=, not_in or 'is_null false'."""
    rule_by_id = {rule[0]: rule for rule in OPERATOR_RULES}
    nulls = matched_rules(operator_build)["NULLS"]
    assert {rule_by_id[r][3] for r in nulls} == {"is_null"}
    assert "text_is_not_null" not in nulls  # is_null false = "is known"


def test_scores_sum_points_and_clamp_and_grade(operator_build: DbtRun) -> None:
    points = {rule[0]: (rule[1], rule[5]) for rule in OPERATOR_RULES}
    got = scores(operator_build)
    assert set(got) == set(EXPECTED_MATCHES)
    for lead_id, rules in EXPECTED_MATCHES.items():
        fit = sum(p for r in rules for dim, p in [points[r]] if dim == "fit")
        engagement = sum(p for r in rules for dim, p in [points[r]] if dim == "engagement")
        unclamped = BASE + fit + engagement
        score = clamp(unclamped, SCORE_MIN, SCORE_MAX)
        grade = next(g for g, low in GRADES if score >= int(low))
        assert got[lead_id] == (fit, engagement, unclamped, score, grade), lead_id
    # the vars clamp both ways on this data
    assert got["BIG"][2] > SCORE_MAX and got["BIG"][3] == SCORE_MAX
    assert got["NULLS"][2] < SCORE_MIN and got["NULLS"][3] == SCORE_MIN


def test_breakdown_explains_the_score(operator_build: DbtRun) -> None:
    rows = operator_build.query(
        "select rule_id, dimension, feature, feature_value, points, description "
        "from lead_rule_score_breakdown where lead_id = 'EDGE' order by rule_id"
    )
    by_rule = {row[0]: row[1:] for row in rows}
    assert by_rule["base"] == ("base", None, None, BASE, "base score (var rule_base_score)")
    assert by_rule["num_between"] == ("fit", "company_size", "200.0", 7, "test rule num_between")
    assert by_rule["text_eq"][2] == "financial services"
    totals = operator_build.query(
        "select s.lead_id, s.rule_score_unclamped, sum(b.points) from lead_rule_scores s "
        "join lead_rule_score_breakdown b using (lead_id, as_of) group by 1, 2"
    )
    assert len(totals) == len(EXPECTED_MATCHES)
    assert all(unclamped == total for _, unclamped, total in totals)


# ------------------------------------------------------------------------------------------
# Invalid rules fail at build time, naming the rule_id
# ------------------------------------------------------------------------------------------

BAD_RULES = [
    ("ok_rule", "fit", "company_size", ">", "100", "5", "a valid rule"),
    ("bad_feature", "fit", "company_sise", ">", "100", "5", "typo in the feature"),
    ("bad_operator", "fit", "company_size", "like", "100", "5", "no such operator"),
    ("bad_value", "fit", "company_size", ">", "ten", "5", "not a number"),
    ("bad_between", "fit", "company_size", "between", "100", "5", "one bound"),
    ("bad_boolean", "fit", "is_corporate_email", "=", "yes", "5", "not true/false"),
    ("bad_text_op", "fit", "industry", ">", "m", "5", "no order on text"),
    ("dup_rule", "fit", "company_size", ">", "100", "5", "first copy"),
    ("dup_rule", "fit", "company_size", ">", "200", "5", "second copy"),
    ("bad_points", "fit", "company_size", ">", "100", "lots", "points not a number"),
    ("bad_dimension", "fitness", "company_size", ">", "100", "5", "unknown dimension"),
    ("bad_label", "engagement", "is_converted", "=", "true", "5", "the label is no feature"),
]
# rule_id -> a phrase that must be on the same line of the error
BAD_RULE_MESSAGES = {
    "bad_feature": "unknown feature 'company_sise'",
    "bad_operator": "unknown operator 'like'",
    "bad_value": "value 'ten' is not a number",
    "bad_between": "between needs two bounds",
    "bad_boolean": "value 'yes' is not true or false",
    "bad_text_op": "operator '>' does not apply to the text feature 'industry'",
    "dup_rule": "duplicate rule_id",
    "bad_points": "points 'lots' is not a whole number",
    "bad_dimension": "unknown dimension 'fitness'",
    "bad_label": "'is_converted' is not a feature",
}


def test_invalid_rules_fail_with_the_rule_id(
    operator_build: DbtRun, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """All problems are reported at once, one line per rule. Reuses the operator build's
    database (its lead_features exist), so only the seeds and one model run."""
    work = tmp_path_factory.mktemp("rule_errors")
    project = copy_project(work / "project")
    shutil.copy(operator_build.db_path, work / "leadscore.duckdb")
    write_rules(project, BAD_RULES)
    write_grades(project, [("A", "high"), ("B", "100"), ("B", "50"), ("F", "0")])
    run = run_dbt(
        ["build", "--select", "scoring_rules", "rule_grades", "lead_rule_scores",
         "--indirect-selection", "cautious", "--vars", f"{{as_of: '{AS_OF}'}}"],
        operator_build.raw_dir,
        work,
        project_dir=project,
    )  # fmt: skip
    assert run.returncode != 0
    lines = run.output.splitlines()
    for rule_id, phrase in BAD_RULE_MESSAGES.items():
        assert any(f"rule '{rule_id}'" in line and phrase in line for line in lines), (
            f"no error line for {rule_id} ({phrase!r}):\n{run.output[-4000:]}"
        )
    assert not any("rule 'ok_rule'" in line for line in lines)
    assert any("grade 'A'" in line and "min_score 'high' is not a number" in line for line in lines)
    assert any("grade 'B'" in line and "duplicate grade" in line for line in lines)
    # the model was not (re)built from the bad rules
    assert "Compilation Error in model lead_rule_scores" in run.output


# ------------------------------------------------------------------------------------------
# The default rules on generated data; editing a rule changes exactly the expected scores
# ------------------------------------------------------------------------------------------

EDITED_RULE = "eng_pricing_page"  # n_pricing_page_view_30d >= 1
DELTA = 25


def _training_scores(run: DbtRun) -> dict[tuple, tuple[int, bool]]:
    """(lead_id, snapshot_at) -> (rule_score_unclamped, meets the edited rule's condition)"""
    return {
        (lead_id, at): (unclamped, meets)
        for lead_id, at, unclamped, meets in run.query(
            "select r.lead_id, r.snapshot_at, r.rule_score_unclamped, "
            "coalesce(t.n_pricing_page_view_30d >= 1, false) from training_rule_scores r "
            "join training_snapshots t using (lead_id, snapshot_at)"
        )
    }


@pytest.fixture(scope="module")
def default_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    work = tmp_path_factory.mktemp("rule_defaults")
    project = copy_project(work / "project")
    raw = generate_raw(work / "gen", n_leads=1500, seed=7)
    return work, project, raw


@pytest.fixture(scope="module")
def default_build(default_project: tuple[Path, Path, Path]) -> DbtRun:
    work, project, raw = default_project
    run = run_dbt(NO_TRAINING, raw, work, project_dir=project)
    assert run.returncode == 0, run.output[-6000:]
    return run


def test_default_rules_invariants(default_build: DbtRun) -> None:
    run = default_build
    n_leads = run.scalar("select count(*) from lead_features")
    assert n_leads > 300
    assert run.scalar("select count(*) from lead_rule_scores") == n_leads
    assert run.scalar("select count(*) from training_rule_scores") == run.scalar(
        "select count(*) from training_snapshots"
    )
    # the breakdown sums to the unclamped score, lead by lead
    mismatches = run.scalar(
        "select count(*) from lead_rule_scores s left join (select lead_id, sum(points) as total "
        "from lead_rule_score_breakdown group by 1) b using (lead_id) "
        "where b.total is distinct from s.rule_score_unclamped"
    )
    assert mismatches == 0
    # clamped to the default range 0-200
    low, high = run.query("select min(rule_score), max(rule_score) from lead_rule_scores")[0]
    assert low >= 0 and high <= 200
    assert (
        run.scalar(
            "select count(*) from lead_rule_scores "
            "where rule_score <> least(greatest(rule_score_unclamped, 0), 200)"
        )
        == 0
    )
    # grades follow the default thresholds (A >= 150, B >= 120, C >= 90, D >= 60, else F)
    for table in ("lead_rule_scores", "training_rule_scores"):
        wrong = run.scalar(
            f"select count(*) from {table} where rule_grade <> case "
            "when rule_score >= 150 then 'A' when rule_score >= 120 then 'B' "
            "when rule_score >= 90 then 'C' when rule_score >= 60 then 'D' else 'F' end"
        )
        assert wrong == 0, table
    # the defaults spread the leads over the grades and separate converters from the rest
    grades = {g for (g,) in run.query("select distinct rule_grade from lead_rule_scores")}
    assert {"A", "B", "C", "D"} <= grades
    conv = dict(
        run.query(
            "select r.rule_grade in ('A', 'B'), avg(cast(t.is_converted as double)) "
            "from training_rule_scores r join training_snapshots t using (lead_id, snapshot_at) "
            "where t.is_matured group by 1"
        )
    )
    assert conv[True] > 1.5 * conv[False]


def test_editing_a_rule_changes_the_scores_by_the_delta(
    default_project: tuple[Path, Path, Path], default_build: DbtRun
) -> None:
    work, project, raw = default_project
    before = scores(default_build)
    before_train = _training_scores(default_build)
    assert any(meets for _, meets in before_train.values())
    affected = {
        lead_id
        for (lead_id,) in default_build.query(
            f"select lead_id from lead_rule_score_breakdown where rule_id = '{EDITED_RULE}'"
        )
    }
    assert 0 < len(affected) < len(before)

    rules = read_rules(project)
    rule = next(r for r in rules if r["rule_id"] == EDITED_RULE)
    old_points = int(rule["points"])
    rule["points"] = str(old_points + DELTA)
    write_rules(project, [tuple(r[c] for c in RULE_COLUMNS) for r in rules])

    after_run = run_dbt(NO_TRAINING, raw, work, project_dir=project)
    assert after_run.returncode == 0, after_run.output[-6000:]
    after = scores(after_run)
    assert set(after) == set(before)
    for lead_id, (fit, eng, unclamped, score, _) in before.items():
        new_fit, new_eng, new_unclamped, new_score, new_grade = after[lead_id]
        delta = DELTA if lead_id in affected else 0
        assert (new_fit, new_eng, new_unclamped) == (fit, eng + delta, unclamped + delta), lead_id
        assert new_score == clamp(new_unclamped, 0, 200), lead_id
        if delta == 0:
            assert (new_score, new_grade) == (score, before[lead_id][4]), lead_id
    assert after_run.scalar(
        f"select min(points) from lead_rule_score_breakdown where rule_id = '{EDITED_RULE}'"
    ) == (old_points + DELTA)
    # the training snapshots are scored by the same rules: exactly the snapshots that meet
    # the edited rule's condition moved, by the delta
    after_train = _training_scores(after_run)
    assert set(after_train) == set(before_train)
    for key, (unclamped, meets_rule) in before_train.items():
        assert after_train[key][0] == unclamped + (DELTA if meets_rule else 0), key
