"""Print what a build produced: row counts, where the files are and how to query them.

Opens the DuckDB file read-only, so it never takes the write lock from a running build.
Usage: ``python -m leadscore.summary [--db PATH]`` (default: env LEADSCORE_DB).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from leadscore import duck
from leadscore.settings import environment

# The tables a user looks at first, in reading order; missing ones are skipped (a table
# only exists once the capability that builds it has landed).
SUMMARY_TABLES: tuple[str, ...] = (
    "stg_crm__leads",
    "stg_crm__activities",
    "stg_crm__opportunities",
    "stg_crm__lead_status_changes",
    "stg_crm__rejected_rows",
    "fct_lead_lifecycle",
    "lead_funnel",
    "lead_features",
    "training_snapshots",
    "lead_rule_scores",
    "model_registry",
    "model_comparison",
    "lead_scores",
    "lead_score_history",
    "score_changes",
    "score_thresholds",
    "scoring_runs",
)


def _read_only(db_path: Path) -> duckdb.DuckDBPyConnection:
    """The database opened read-only; use it in a ``with`` block, which closes it."""
    return duck.connect(db_path, read_only=True)


def _names(con: duckdb.DuckDBPyConnection, sql: str) -> set[str]:
    """The first column of a query's rows (table or column names), as a set."""
    return {row[0] for row in con.execute(sql).fetchall()}


def table_counts(db_path: Path) -> dict[str, int]:
    """Row count of each summary table present in the database."""
    with _read_only(db_path) as con:
        present = _names(
            con, "select table_name from information_schema.tables where table_schema = 'main'"
        )
        counts: dict[str, int] = {}
        for name in SUMMARY_TABLES:
            if name in present:
                counts[name] = con.execute(f'select count(*) from "{name}"').fetchall()[0][0]
        return counts


def rejected_by_reason(db_path: Path) -> list[tuple[str, str, int]]:
    """(source_table, reason, rows) of the quarantine, largest first."""
    with _read_only(db_path) as con:
        return con.execute(
            "select source_table, rejection_reason, count(*) from stg_crm__rejected_rows "
            "group by all order by 3 desc"
        ).fetchall()


def scoring_overview(db_path: Path, n_leads: int = 5) -> list[str]:
    """The latest scoring run: model, tiers, the first leads to call and why."""
    with _read_only(db_path) as con:
        run = con.execute(
            "select as_of, model_version, n_leads_scored, n_hot, n_warm, n_cold, notes "
            "from scoring_runs order by as_of desc, scored_at desc limit 1"
        ).fetchall()
        n_runs = con.execute("select count(distinct as_of) from lead_score_history").fetchall()
        top = con.execute(
            "select lead_id, score, recommended_action, top_reasons_text from lead_scores "
            f"order by priority_rank limit {int(n_leads)}"
        ).fetchall()
    if not run:
        return []
    as_of, version, n, hot, warm, cold, notes = run[0]
    lines = [
        "",
        f"  scoring as of {as_of:%Y-%m-%d} with {version}: {n:,} open leads, "
        f"{hot:,} hot / {warm:,} warm / {cold:,} cold; the history holds "
        f"{n_runs[0][0]} scoring date{'' if n_runs[0][0] == 1 else 's'}",
    ]
    if notes:
        lines.append(f"  notes: {notes}")
    for lead, score, action, reasons in top:
        lines.append(f"    {lead}  score {score:>3}  {action:<19} {reasons or ''}")
    return lines


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def operating_threshold(db_path: Path) -> list[str]:
    """The recommended score_thresholds row: chosen on the valid figures, with the test
    figures (what to expect) beside them."""
    with _read_only(db_path) as con:
        columns = _names(
            con,
            "select column_name from information_schema.columns "
            "where table_schema = 'main' and table_name = 'score_thresholds'",
        )
        if "valid_precision" not in columns:
            return []
        found = con.execute(
            "select threshold_score, valid_precision, valid_recall, precision, recall "
            "from score_thresholds where is_recommended"
        ).fetchall()
    if not found:
        return []
    score, valid_p, valid_r, test_p, test_r = found[0]
    return [
        "",
        f"  operating threshold: score >= {score} (score_thresholds), chosen on valid "
        f"(precision {_pct(valid_p)}, recall {_pct(valid_r)}); on test, what to expect: "
        f"precision {_pct(test_p)}, recall {_pct(test_r)}",
    ]


def render(db_path: Path, export_dir: Path) -> str:
    counts = table_counts(db_path)
    lines = [f"leadscore build: {db_path.resolve()}", ""]
    width = max((len(n) for n in counts), default=10)
    lines += [f"  {name:<{width}}  {n:>10,} rows" for name, n in counts.items()]
    if "stg_crm__rejected_rows" in counts:
        rejected = rejected_by_reason(db_path)
        if rejected:
            lines += ["", "  quarantined raw rows (stg_crm__rejected_rows):"]
            lines += [f"    {t:<20} {reason:<24} {n:>8,}" for t, reason, n in rejected]
    if "scoring_runs" in counts and "lead_scores" in counts:
        lines += scoring_overview(db_path)
    if "score_thresholds" in counts:
        lines += operating_threshold(db_path)
    report = export_dir / "report.html"
    if report.is_file():
        lines += ["", f"Report: {report.resolve()} (open it in a browser)"]
    if export_dir.is_dir():
        files = sorted(str(p.relative_to(export_dir)) for p in export_dir.rglob("*") if p.is_file())
        shown = ", ".join(files[:5]) + (f", ... ({len(files)} files)" if len(files) > 5 else "")
        lines += ["", f"Exports: {export_dir.resolve()}: {shown or 'empty'}"]
    if (export_dir / "online" / "CURRENT").is_file():
        lines += [
            "",
            "Real-time scoring of the exported state: make serve, then "
            "curl -s localhost:8000/health (docs/serving.md)",
        ]
    lines += [
        "",
        "Query the database read-only (a running dbt build holds the write lock):",
        f"  .venv/bin/python -c \"import duckdb; print(duckdb.connect('{db_path}', "
        "read_only=True).sql('select * from lead_scores order by priority_rank limit 5'))\"",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(environment().db))
    parser.add_argument("--exports", default=str(environment().export_dir))
    args = parser.parse_args(argv)
    db_path = Path(args.db)
    if not db_path.exists():
        print(f"no database at {db_path}; run 'make demo' first", file=sys.stderr)
        return 1
    print(render(db_path, Path(args.exports)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
