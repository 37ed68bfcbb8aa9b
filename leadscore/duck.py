"""Opening a DuckDB database the way the dbt profile does: with TimeZone UTC.

Timestamps are UTC by contract. DuckDB otherwise takes the machine's time zone (TZ), and a
TIMESTAMPTZ value read or cast in that session shifts by its offset. Every connection the
package and the benchmarks open goes through ``connect``; dbt's own connection (and the
Python models, which get it) has the same setting from profiles.yml.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

TIME_ZONE = "UTC"


def connect(path: str | Path | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to the database file at ``path`` (in memory when None), TimeZone UTC."""
    database = ":memory:" if path is None else str(path)
    con = duckdb.connect(database, read_only=read_only)
    # a SET, not config={...}: TimeZone needs ICU, which is loaded only once connected
    con.execute(f"set TimeZone = '{TIME_ZONE}'")
    return con
