"""``leadscore build [dbt build options]``: one build at a time on a database, private files.

What a scheduler (and ``make demo``) runs instead of a bare ``dbt build``:

- **One build at a time.** DuckDB allows one writer per file; a second ``dbt build`` on the
  same file dies with a long lock traceback. The build takes an exclusive lock on
  ``<LEADSCORE_DB>.lock`` first (``fcntl.flock``, released by the OS when the process ends, so
  a killed build leaves no stale lock); a second build exits at once with "another build is
  running (pid N, started at T)".
- **Private files.** The DuckDB file holds raw CRM data (emails): the build runs with umask
  077, so the database and its WAL are created 0600, and an existing database is set to
  0600. Exports for BI readers set their own modes (0644, ``leadscore.exports``).

The remaining options go to ``dbt build`` unchanged (``leadscore build --select lead_scores+``).
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from leadscore.settings import environment

DBT = Path(sys.executable).parent / "dbt"
PRIVATE_UMASK = 0o077
DATABASE_MODE = 0o600


class BuildRunning(RuntimeError):
    """Another build holds the database's lock."""


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


@contextmanager
def build_session(db: Path) -> Iterator[None]:
    """Hold the database's build lock and a private umask while the block runs."""
    db.parent.mkdir(parents=True, exist_ok=True)
    path = lock_path(db)
    handle = path.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "pid unknown"
            raise BuildRunning(
                f"another build is running ({holder}) on {db}; wait for it to finish or stop "
                f"it (lock file {path})"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started at {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")
        handle.flush()
        previous = os.umask(PRIVATE_UMASK)
        try:
            for private in (db, db.with_name(db.name + ".wal")):
                if private.exists():
                    private.chmod(DATABASE_MODE)
            yield
        finally:
            os.umask(previous)
            handle.seek(0)
            handle.truncate()
    finally:
        handle.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    db = environment().db
    try:
        with build_session(db):
            return subprocess.run([str(DBT), "build", *args], check=False).returncode
    except BuildRunning as err:
        print(f"leadscore build: {err}", file=sys.stderr)
        return 1
