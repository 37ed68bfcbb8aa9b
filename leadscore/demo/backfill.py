"""Backfill scoring runs at past as_of dates, oldest first, as a schedule would have.

    python -m leadscore.backfill --weeks 3 --matured-runs 2

Runs ``dbt seed`` and the models up to ``int_as_of_resolved`` to learn the default as_of (the
midnight after the latest event), then ``dbt run --vars '{as_of: D}'`` for each date D,
skipping dates already in ``scoring_runs``: ``--matured-runs`` dates spaced
``--matured-gap-days`` apart whose conversion window (``--window-days``, keep it equal to the
var conversion_window_days) has passed by the default as_of — so model_performance has
matured cohorts to judge — then ``--weeks`` weekly dates just before the default as_of.
Each run trains only when the retrain policy says so (the registry counts the champion's age
in data time), appends ``lead_score_history`` and writes the exports. Finish with
``dbt build`` at the default as_of (``make demo`` does), which also runs every test.

Oldest first matters: a model trained on later data is never used for an earlier as_of
(``leadscore.registry.scoring_model_of``), so a backfill into a database that already holds a
newer champion scores with the rules or an older retired model, with a note saying so.
The dbt commands run in the current directory with the current environment (the Makefile
sets DBT_PROFILES_DIR and the LEADSCORE_* variables).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from leadscore import duck
from leadscore.build import BuildRunning, build_session
from leadscore.settings import environment

DBT = Path(sys.executable).parent / "dbt"


def _dbt(args: list[str]) -> None:
    proc = subprocess.run([str(DBT), *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-8000:] + proc.stderr[-4000:])
        raise SystemExit(f"backfill: 'dbt {' '.join(args)}' failed (output above)")


def _read(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duck.connect(db, read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def backfill_dates(
    default_as_of: datetime,
    weeks: int,
    matured_runs: int = 0,
    matured_gap_days: int = 56,
    window_days: int = 90,
) -> list[datetime]:
    """The as_of dates before the default one, oldest first, without repeats: matured_runs
    dates (the latest window_days before the default, the others matured_gap_days apart),
    then the weekly ones."""
    latest_matured = default_as_of - timedelta(days=window_days)
    matured = [
        latest_matured - timedelta(days=matured_gap_days * k)
        for k in range(matured_runs - 1, -1, -1)
    ]
    weekly = [default_as_of - timedelta(days=7 * k) for k in range(weeks, 0, -1)]
    return sorted(set(matured) | set(weekly))


def _scored(db: Path) -> set[datetime]:
    tables = _read(db, "select table_name from information_schema.tables")
    if ("scoring_runs",) not in tables:
        return set()
    return {row[0] for row in _read(db, "select distinct as_of from scoring_runs")}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=3, help="weekly runs before the default")
    parser.add_argument(
        "--matured-runs", type=int, default=2, help="runs whose conversion window has passed"
    )
    parser.add_argument("--matured-gap-days", type=int, default=56, help="days between them")
    parser.add_argument(
        "--window-days", type=int, default=90, help="the var conversion_window_days"
    )
    parser.add_argument(
        "--search-budget-seconds",
        type=float,
        default=20,
        help="var search_budget_seconds of the backfill runs (training is the slow part)",
    )
    args = parser.parse_args(argv)
    for name in ("weeks", "matured_runs"):
        if getattr(args, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must be >= 0, got {getattr(args, name)}")
    if not args.search_budget_seconds > 0:
        parser.error(f"--search-budget-seconds must be > 0, got {args.search_budget_seconds}")
    for name in ("matured_gap_days", "window_days"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    db = environment().db
    try:
        with build_session(db):
            _backfill(db, args)
    except BuildRunning as err:
        raise SystemExit(f"backfill: {err}") from None


def _backfill(db: Path, args: argparse.Namespace) -> None:
    _dbt(["seed", "--quiet"])
    _dbt(["run", "--quiet", "--select", "+int_as_of_resolved"])
    default_as_of = _read(db, "select as_of from int_as_of_resolved")[0][0]
    done = _scored(db)
    dates = backfill_dates(
        default_as_of, args.weeks, args.matured_runs, args.matured_gap_days, args.window_days
    )
    for as_of in dates:
        if as_of in done:
            print(f"as_of {as_of:%Y-%m-%d}: already scored, skipped")
            continue
        started = time.perf_counter()
        run_vars = (
            f"{{as_of: '{as_of:%Y-%m-%d %H:%M:%S}', "
            f"search_budget_seconds: {args.search_budget_seconds}}}"
        )
        _dbt(["run", "--quiet", "--vars", run_vars])
        row = _read(
            db,
            "select model_version, n_leads_scored, n_hot from scoring_runs "
            "where as_of = ? order by scored_at desc limit 1",
            [as_of],
        )[0]
        print(
            f"as_of {as_of:%Y-%m-%d}: {row[1]:,} open leads scored by {row[0]} "
            f"({row[2]} hot) in {time.perf_counter() - started:.0f} s"
        )


if __name__ == "__main__":
    main()
