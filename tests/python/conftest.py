"""Shared fixtures: running dbt on generated or hand-made raw data in a temp folder."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).parent / "dbt"


@dataclass
class DbtRun:
    returncode: int
    output: str
    db_path: Path
    raw_dir: Path

    def query(self, sql: str) -> list[tuple]:
        con = duckdb.connect(str(self.db_path), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def scalar(self, sql: str):
        return self.query(sql)[0][0]


def dbt_env(
    raw_dir: Path, work_dir: Path, extra_env: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment of a dbt run against raw_dir with its files under work_dir."""
    return {
        **os.environ,
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_TARGET_PATH": str(work_dir / "target"),
        "DBT_LOG_PATH": str(work_dir / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
        "LEADSCORE_RAW_DIR": str(raw_dir),
        "LEADSCORE_DB": str(work_dir / "leadscore.duckdb"),
        "LEADSCORE_EXPORT_DIR": str(work_dir / "exports"),
        "LEADSCORE_TARGET": "dev",
        **(extra_env or {}),
    }


def run_dbt(
    args: list[str],
    raw_dir: Path,
    work_dir: Path,
    extra_env: dict[str, str] | None = None,
    project_dir: Path = PROJECT_DIR,
) -> DbtRun:
    """Run a dbt command of the project against raw_dir, with its own DuckDB file and
    target folder under work_dir (never the developer's leadscore.duckdb or target/).
    project_dir: a copy of the project to run instead (e.g. with edited seeds)."""
    db_path = work_dir / "leadscore.duckdb"
    proc = subprocess.run(
        [str(DBT), *args],
        cwd=project_dir,
        env=dbt_env(raw_dir, work_dir, extra_env),
        capture_output=True,
        text=True,
        check=False,
    )
    return DbtRun(proc.returncode, proc.stdout + proc.stderr, db_path, raw_dir)


def generate_raw(out_dir: Path, n_leads: int, seed: int, faults: float = 0.0) -> Path:
    """Generate demo CRM data with the project's generator; returns the raw folder."""
    raw = out_dir / "raw"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "leadscore.generate",
            "--leads",
            str(n_leads),
            "--seed",
            str(seed),
            "--faults",
            str(faults),
            "--out",
            str(raw),
        ],
        check=True,
        capture_output=True,
    )
    return raw


@pytest.fixture(scope="session")
def small_build(tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    """One `dbt build` (all but the model training) on a small generated data set with data
    faults, shared by the end-to-end tests. Fails loudly (with dbt's output) if it fails."""
    work = tmp_path_factory.mktemp("small_build")
    raw = generate_raw(work, n_leads=3000, seed=11, faults=0.005)
    # staging and features only: training is tested on its own (test_training_e2e)
    run = run_dbt(["build", "--exclude", "model_registry+"], raw, work)
    assert run.returncode == 0, run.output[-6000:]
    return run


@pytest.fixture
def dbt_runner(tmp_path: Path) -> Callable[..., DbtRun]:
    """run_dbt bound to a fresh temp work folder."""

    def _run(args: list[str], raw_dir: Path, **kw) -> DbtRun:
        return run_dbt(args, raw_dir, tmp_path, **kw)

    return _run
