"""Fault injection: no input value is ever compiled into SQL unescaped (docs/rules.md "What
reaches SQL").

Each input that reaches SQL gets payloads that break naive SQL building - a carriage return
(DuckDB ends a ``--`` comment there), a quote, ``;``, ``--``, ``*/``, a newline - and the build
either refuses it with an error naming the input and the fix (ids and names) or keeps it as
data (free text). One real build on hand-made leads (raw folder with a quote in its path)
covers the data cases; the refusals reuse its database or stop at parse time.
"""

from __future__ import annotations

import ast
import csv
import shutil
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest
from conftest import DbtRun, run_dbt
from rawdata import default_leads, write_raw
from test_rules import copy_project

from leadscore import sql

AS_OF = "2026-05-01"
PAYLOADS = ["\r+ 1000", "'", "; drop table x", "-- x", "*/ x", "\n+ 1000"]

# free text that must come through verbatim
DESCRIPTION = "Said 'yes' -- then */ left; \\ back\r\nslash"
QUOTED_VALUE = "o'brien; -- */"
PLACEHOLDERS = ["n'a", "x\r\n-- y", "a */ b;"]
RAW_FOLDER = "raw'dir -- */; x"

RULES_HEADER = ["rule_id", "dimension", "feature", "operator", "value", "points", "description"]
DATA_RULES = [
    ("fit_big", "fit", "company_size", ">", "1000", "10", DESCRIPTION),
    ("fit_quoted_industry", "fit", "industry", "=", QUOTED_VALUE, "7", "quote in the value"),
]


def write_csv(path: Path, header: list[str], rows: list[tuple]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def yaml_list(values: list[str]) -> str:
    """A YAML flow list of double-quoted strings (escapes for quotes and control chars)."""
    escaped = []
    for v in values:
        text = v.replace("\\", "\\\\").replace('"', '\\"')
        text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\x07", "\\a")
        escaped.append(f'"{text}"')
    return "[" + ", ".join(escaped) + "]"


# ------------------------------------------------------------------------------------------
# leadscore.sql: the Python side's one way to write a value into SQL
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [*PAYLOADS, DESCRIPTION, "\t"])
def test_literal_reads_back_as_the_same_text(payload: str) -> None:
    con = duckdb.connect()
    assert con.execute(f"select {sql.literal(payload)}").fetchall() == [(payload,)]
    assert con.execute(f"select 1 where 'a' in {sql.literal_list([payload, 'a'])}").fetchall()


@pytest.mark.parametrize("payload", ["a\x00b", "bell\x07", "\x1b[31m"])
def test_literal_refuses_other_control_characters(payload: str) -> None:
    with pytest.raises(ValueError, match="control character"):
        sql.literal(payload, "var x")


def test_literal_of_dates_numbers_and_aware_timestamps() -> None:
    con = duckdb.connect()
    aware = datetime(2026, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    values = [date(2026, 5, 1), datetime(2026, 5, 1, 9, 30), aware, 2, 2.5, True, None]
    row = con.execute("select " + ", ".join(sql.literal(v) for v in values)).fetchall()[0]
    assert row == (
        date(2026, 5, 1),
        datetime(2026, 5, 1, 9, 30),
        aware.astimezone(UTC).replace(tzinfo=None),
        2,
        2.5,
        True,
        None,
    )
    assert sql.literal_list([]) == "(NULL)"
    with pytest.raises(ValueError):
        sql.literal(float("nan"))


@pytest.mark.parametrize("payload", [*PAYLOADS, 'a"b'])
def test_identifier_is_one_name_whatever_it_holds(payload: str) -> None:
    con = duckdb.connect()
    con.execute(f"create table t ({sql.identifier(payload)} integer)")
    assert [c[0] for c in con.execute("select * from t").description] == [payload]


# ------------------------------------------------------------------------------------------
# dbt: free text is data (one real build)
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data_build(tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    """+lead_rule_scores on three hand-made leads, read from a folder with a quote in its path,
    with a description and a rule value full of SQL syntax and placeholder values with quotes,
    comment markers and line breaks."""
    work = tmp_path_factory.mktemp("injection_data")
    project = copy_project(work / "project")
    write_csv(project / "seeds/scoring_rules.csv", RULES_HEADER, DATA_RULES)
    leads = default_leads()
    leads[0]["industry"] = "N'A"  # L1: a placeholder with a quote
    leads[1]["industry"] = "x\r\n-- y"  # L2: one with a line break and a comment marker
    leads[2]["industry"] = "O'Brien; -- */"  # L3: matches fit_quoted_industry
    raw = write_raw(work / RAW_FOLDER, {"leads": leads})
    run = run_dbt(
        ["build", "--select", "+lead_rule_scores", "+lead_rule_score_breakdown",
         "--indirect-selection", "cautious",
         "--vars", f"{{as_of: '{AS_OF}', placeholder_values: {yaml_list(PLACEHOLDERS)}}}"],
        raw,
        work,
        project_dir=project,
    )  # fmt: skip
    assert run.returncode == 0, run.output[-6000:]
    return run


@pytest.mark.e2e
def test_raw_folder_with_a_quote_in_its_path_is_read(data_build: DbtRun) -> None:
    assert "'" in str(data_build.raw_dir)
    assert data_build.scalar("select count(*) from stg_crm__leads") == 3


@pytest.mark.e2e
def test_placeholder_values_with_quotes_and_line_breaks_become_null(data_build: DbtRun) -> None:
    rows = dict(data_build.query("select lead_id, industry from stg_crm__leads"))
    assert rows == {"L1": None, "L2": None, "L3": "o'brien; -- */"}


@pytest.mark.e2e
def test_description_with_sql_syntax_shows_up_verbatim_in_the_breakdown(
    data_build: DbtRun,
) -> None:
    rows = data_build.query(
        "select distinct description from lead_rule_score_breakdown where rule_id = 'fit_big'"
    )
    assert rows == [(DESCRIPTION,)]


@pytest.mark.e2e
def test_rule_value_with_a_quote_is_compared_as_data(data_build: DbtRun) -> None:
    scores = dict(data_build.query("select lead_id, fit_score from lead_rule_scores"))
    # L3: 5000 employees (fit_big, 10) and the quoted industry (7); nobody else matches
    assert scores == {"L1": 0, "L2": 0, "L3": 17}


# ------------------------------------------------------------------------------------------
# dbt: ids and names with SQL syntax are refused
# ------------------------------------------------------------------------------------------

BAD_RULE_IDS = ["fit_cr_test\r+ 1000", "x'; drop table leads; --", "a*/b", "a\nb", "a;b"]


def _refusal_run(data_build: DbtRun, work: Path, args: list[str], edit) -> DbtRun:
    """`args` in a fresh copy of the project edited by `edit(project)`, on a copy of the data
    build's database (its lead_features exist, so only seeds and a model or two run)."""
    project = copy_project(work / "project")
    shutil.copy(data_build.db_path, work / "leadscore.duckdb")
    edit(project)
    return run_dbt([*args, "--vars", f"{{as_of: '{AS_OF}'}}"], data_build.raw_dir, work,
                   project_dir=project)  # fmt: skip


def _error_lines(run: DbtRun, seed: str, column: str, values: list[str]) -> None:
    lines = run.output.splitlines()
    for value in values:
        expected = f"{column} {value!r} is not a valid id"
        assert any(f"seeds/{seed}.csv row" in line and expected in line for line in lines), (
            f"no error for {seed}.{column} {value!r}:\n{run.output[-4000:]}"
        )


@pytest.mark.e2e
def test_rule_ids_and_grades_with_sql_syntax_are_refused(
    data_build: DbtRun, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The \\r+ 1000 rule_id once gave every lead +1000 points; now it stops the build, with
    every other bad id, the row and the fix."""
    bad_grades = ["A'--", "B;", "C*/"]

    def edit(project: Path) -> None:
        write_csv(project / "seeds/scoring_rules.csv", RULES_HEADER,
                  [(rid, "fit", "company_size", ">", "0", "5", "x") for rid in BAD_RULE_IDS]
                  + [("bell_rule", "fit", "company_size", ">", "0", "5", "ding\x07")])  # fmt: skip
        write_csv(project / "seeds/rule_grades.csv", ["grade", "min_score", "fallback_tier"],
                  [(g, str(100 - 40 * i), "warm") for i, g in enumerate(bad_grades)])  # fmt: skip

    run = _refusal_run(
        data_build,
        tmp_path_factory.mktemp("injection_rules"),
        ["build", "--select", "scoring_rules", "rule_grades", "lead_rule_scores",
         "--indirect-selection", "cautious"],
        edit,
    )  # fmt: skip
    assert run.returncode != 0, run.output[-4000:]
    _error_lines(run, "scoring_rules", "rule_id", BAD_RULE_IDS)
    _error_lines(run, "rule_grades", "grade", bad_grades)
    assert "rule 'bell_rule': description 'ding\\x07' contains the control character" in run.output
    assert "use letters, digits and _ . - only" in run.output


@pytest.mark.e2e
def test_segment_names_and_actions_with_sql_syntax_are_refused(
    data_build: DbtRun, tmp_path_factory: pytest.TempPathFactory
) -> None:
    segments = ["champ'ions", "new\r+1"]
    actions = ["call -- now", "x*/"]

    def edit(project: Path) -> None:
        path = project / "seeds/rfm_segments.csv"
        rows = list(csv.reader(path.open(newline="")))
        rows[1][0], rows[2][0] = segments
        write_csv(path, rows[0], [tuple(r) for r in rows[1:]])
        path = project / "seeds/recommended_actions.csv"
        rows = list(csv.reader(path.open(newline="")))
        rows[1][2], rows[2][0] = actions[0], "hot;"
        rows[3][1] = actions[1]
        write_csv(path, rows[0], [tuple(r) for r in rows[1:]])

    work = tmp_path_factory.mktemp("injection_segments")
    seeded = _refusal_run(
        data_build, work, ["seed", "--select", "rfm_segments", "recommended_actions"], edit
    )
    assert seeded.returncode == 0, seeded.output[-4000:]
    runs = {
        model: run_dbt(["compile", "--select", model, "--vars", f"{{as_of: '{AS_OF}'}}"],
                       data_build.raw_dir, work, project_dir=work / "project")
        for model in ["lead_rfm", "lead_scores"]  # compile stops at the first error
    }  # fmt: skip
    assert all(run.returncode != 0 for run in runs.values())
    _error_lines(runs["lead_rfm"], "rfm_segments", "rfm_segment", segments)
    scores = runs["lead_scores"]
    _error_lines(scores, "recommended_actions", "recommended_action", [actions[0]])
    _error_lines(scores, "recommended_actions", "tier", ["hot;"])
    _error_lines(scores, "recommended_actions", "rule_grade", [actions[1]])


# ------------------------------------------------------------------------------------------
# dbt: vars
# ------------------------------------------------------------------------------------------

VAR_CASES = [
    # (command, var, YAML value, phrase of the error)
    ("parse", "engagement_activity_types", yaml_list(["page_view'); drop table x; --"]),
     "var engagement_activity_types must be a non-empty list of distinct names"),
    ("parse", "lead_categorical_attributes", yaml_list(['plan"; drop table x; --']),
     "var lead_categorical_attributes must be a list of distinct column names"),
    ("parse", "lead_categorical_attributes", yaml_list(["plan\r*/"]),
     "var lead_categorical_attributes must be a list of distinct column names"),
    ("parse", "placeholder_values", yaml_list(["ding\x07"]),
     "var placeholder_values 'ding\\x07' contains the control character"),
    # crm_schema is used by the on-run-start hook, which run/build execute before any model
    ("run", "crm_schema", '"raw\'; drop schema main; --"',
     "var crm_schema must be a column or schema name"),
]  # fmt: skip


@pytest.mark.e2e
@pytest.mark.parametrize(("command", "name", "value", "phrase"), VAR_CASES)
def test_vars_with_sql_syntax_are_refused(
    dbt_runner, tmp_path: Path, command: str, name: str, value: str, phrase: str
) -> None:
    raw = write_raw(tmp_path / "raw")
    args = [command, "--vars", f"{{{name}: {value}}}"]
    if command == "run":
        args += ["--select", "int_as_of_resolved"]
    run = dbt_runner(args, raw)
    assert run.returncode != 0, run.output[-4000:]
    assert phrase in run.output, run.output[-4000:]


@pytest.mark.e2e
def test_pinned_model_version_reaches_the_python_model_as_data(dbt_runner, tmp_path: Path) -> None:
    """pinned_model_version is free text read by the registry's Python model: dbt writes it
    into the compiled model as a Python literal, which must give back the same text."""
    payload = "m1'\"\r\n-- */; x"
    raw = write_raw(tmp_path / "raw")
    run = dbt_runner(
        ["compile", "--select", "model_registry",
         "--vars", f"{{pinned_model_version: {yaml_list([payload])[1:-1]}}}"],
        raw,
    )  # fmt: skip
    assert run.returncode == 0, run.output[-4000:]
    compiled = next((tmp_path / "target/compiled").rglob("model_registry.py")).read_text()
    tree = ast.parse(compiled)
    config = next(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "config_dict" for t in node.targets)
    )
    assert ast.literal_eval(config)["leadscore_vars"]["pinned_model_version"] == payload
