"""Fault-injection suite, files and concurrency: a second build, killed exports, permissions.

Part of the fault suite (tests/python/test_faults_*.py): each case asserts the exact outcome.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from leadscore.build import BuildRunning, build_session, lock_path
from leadscore.exports import (
    MTIME_SLACK_SECONDS,
    ExportSpec,
    export_tables,
    remove_stale_temps,
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_second_build_exits_at_once_naming_the_running_one(tmp_path: Path):
    db = tmp_path / "leadscore.duckdb"
    with build_session(db):
        started = time.monotonic()
        second = subprocess.run(
            [sys.executable, "-m", "leadscore.cli", "build", "--select", "lead_scores"],
            env={**os.environ, "LEADSCORE_DB": str(db)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        waited = time.monotonic() - started
        running = rf"another build is running \(pid {os.getpid()},"
        with pytest.raises(BuildRunning, match=running), build_session(db):
            pass
    assert second.returncode == 1
    assert f"another build is running (pid {os.getpid()}, started at " in second.stderr
    assert "Traceback" not in second.stderr and waited < 30  # no wait for the first build
    # released: the next build may start, and the lock file says nobody holds it
    with build_session(db):
        pass
    assert lock_path(db).read_text() == ""


def test_the_database_is_private_and_exports_stay_readable(tmp_path: Path):
    db = tmp_path / "leadscore.duckdb"
    old = tmp_path / "old.duckdb"
    duckdb.connect(str(old)).close()
    old.chmod(0o644)
    with build_session(db):
        con = duckdb.connect(str(db))
        con.execute("create table lead_scores as select 'L1' as lead_id, 0.5 as p")
        export_tables(
            con, {"lead_scores": "lead_scores"}, [ExportSpec("lead_scores")], tmp_path / "ex"
        )
        con.close()
    with build_session(old):
        pass
    assert _mode(db) == 0o600 and _mode(old) == 0o600
    assert _mode(tmp_path / "ex") == 0o755
    assert _mode(tmp_path / "ex" / "lead_scores.parquet") == 0o644


def test_temp_files_a_killed_export_left_are_removed_and_fresh_ones_kept(tmp_path: Path):
    folder = tmp_path / "exports"
    (folder / "lead_score_history" / "as_of=2026-01-01").mkdir(parents=True)
    stale = folder / "lead_score_history" / "as_of=2026-01-01" / ".data.parquet.ab12.tmp"
    stale.write_bytes(b"")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    started = time.time()
    fresh = folder / ".lead_scores.parquet.cd34.tmp"  # this run's own, being written
    fresh.write_bytes(b"")
    kept = folder / "lead_scores.parquet"
    kept.write_bytes(b"x")
    os.utime(kept, (old, old))
    assert remove_stale_temps(folder, started) == [stale]
    assert not stale.exists() and fresh.exists() and kept.exists()


EXPORT_SCRIPT = """
import sys, duckdb
from pathlib import Path
from leadscore.exports import ExportSpec, export_tables
con = duckdb.connect()
con.execute(f"create table lead_scores as select range as id, md5(range::varchar) as h "
            f"from range({sys.argv[2]})")
export_tables(con, {"lead_scores": "lead_scores"}, [ExportSpec("lead_scores")], Path(sys.argv[1]))
"""


def _export(folder: Path, n_rows: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", EXPORT_SCRIPT, str(folder), str(n_rows)])


def test_an_export_killed_mid_write_keeps_the_previous_file_and_the_next_cleans_up(
    tmp_path: Path,
):
    folder = tmp_path / "exports"
    assert _export(folder, 10).wait(timeout=60) == 0
    target = folder / "lead_scores.parquet"
    before = target.read_bytes()
    big = _export(folder, 5_000_000)
    deadline = time.monotonic() + 60
    while not list(folder.glob(".lead_scores.parquet.*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.01)
    big.send_signal(signal.SIGKILL)
    big.wait(timeout=30)
    left = list(folder.glob(".*.tmp"))
    assert left, "the export finished before it could be killed; raise its row count"
    assert target.read_bytes() == before  # readers still see the last good file
    assert duckdb.sql(f"select count(*) from '{target}'").fetchall() == [(10,)]
    time.sleep(MTIME_SLACK_SECONDS + 0.5)
    assert _export(folder, 20).wait(timeout=60) == 0
    assert not list(folder.glob(".*.tmp"))
    assert duckdb.sql(f"select count(*) from '{target}'").fetchall() == [(20,)]
