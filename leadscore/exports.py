"""Atomic Parquet copies of the BI-facing tables, so dashboards never need the DuckDB write lock.

``export_tables`` writes each table to ``<folder>/<name>.parquet`` or, for an ``ExportSpec`` with
``partition_by``, one Hive-style file per value, ``<folder>/<name>/<col>=<value>/data.parquet``,
then ``<folder>/_manifest.json``; it returns the manifest as an Arrow table. ``export_run`` is
what the dbt Python model ``bi_exports`` calls. Why: DECISIONS.md, "The report and BI read the
exports, never the DuckDB file"; reading the exports: docs/outputs.md.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from leadscore import sql
from leadscore.dbt_inputs import resolved_as_of

MANIFEST_FILE = "_manifest.json"
PARTITION_FILE = "data.parquet"
PARTITION_TYPES = ("DATE", "TIMESTAMP")
EXPORT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")

MANIFEST_SCHEMA = pa.schema(
    [
        pa.field("export_name", pa.string(), nullable=False),
        pa.field("path", pa.string(), nullable=False),
        pa.field("partition_value", pa.string()),
        pa.field("n_rows", pa.int64(), nullable=False),
        pa.field("was_rewritten", pa.bool_(), nullable=False),
        pa.field("written_at", pa.timestamp("us"), nullable=False),
    ]
)

Source = str | duckdb.DuckDBPyRelation


@dataclass(frozen=True)
class ExportSpec:
    """One exported table; name is its file (name.parquet) or folder (name/) under the folder."""

    name: str
    partition_by: str | None = None


@dataclass(frozen=True)
class ExportedFile:
    """One file of the export as it stands after the run (a manifest row)."""

    export_name: str
    path: str  # relative to the export folder, '/'-separated
    partition_value: str | None
    n_rows: int
    was_rewritten: bool
    written_at: datetime  # UTC, the file's modification time


@dataclass(frozen=True)
class _Plan:
    spec: ExportSpec
    relation: duckdb.DuckDBPyRelation
    partition_counts: dict[str, tuple[date, int]]  # label -> (value, rows)


def partition_label(value: Any) -> str:
    """Folder value of a partition: ``YYYY-MM-DD`` for dates and midnight timestamps, ISO
    ``YYYY-MM-DDTHH:MM:SS[.ffffff]`` otherwise (``:`` is not allowed in Windows file names:
    partition by a date there). Values must be DATE or TIMESTAMP without time zone."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError(
                f"partition value {value} has a time zone; partition by a DATE or a TIMESTAMP "
                "without time zone (cast it in the model)"
            )
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    if isinstance(value, date):
        return value.isoformat()
    raise ValueError(
        f"partition value {value!r} is a {type(value).__name__}; partition values must be "
        "dates or timestamps (pass the run's as_of)"
    )


def _utc_mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _write_parquet(relation: duckdb.DuckDBPyRelation, path: Path) -> None:
    """DuckDB streams the relation into one Parquet file (the path never enters SQL text)."""
    relation.write_parquet(str(path))


# exports are for BI readers (other users): files 0644 and folders 0755 whatever the umask (a
# build run by `leadscore build` has umask 077 so the DuckDB file stays private)
EXPORT_FILE_MODE = 0o644
EXPORT_DIR_MODE = 0o755
# file times are coarser than time.time(): a temp this run writes may look this much older
MTIME_SLACK_SECONDS = 2.0


def _make_dirs(folder: Path, root: Path) -> None:
    """folder and its parents up to root, each readable by BI (EXPORT_DIR_MODE)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in (folder, *folder.parents):
        if path == root.parent or root not in (path, *path.parents):
            break
        path.chmod(EXPORT_DIR_MODE)


def remove_stale_temps(folder: Path, started: float) -> list[Path]:
    """Delete the ``.*.tmp`` files under folder last written before ``started`` (the
    time.time() this export began): what a killed export left; returns them. No other export
    can be writing then: it runs inside a dbt build, which holds the DuckDB file's one write
    lock (and ``leadscore build`` its build lock)."""
    if not folder.is_dir():
        return []
    stale = [
        path
        for path in folder.rglob(".*.tmp")
        if path.is_file() and path.stat().st_mtime < started - MTIME_SLACK_SECONDS
    ]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _replace_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """write(temp) in target's folder, then rename over target; on error drop the temp file.

    The temp file is ``.<file>.<random>.tmp`` in the same folder and ``os.replace`` swaps it
    in: a reader sees the old or the new file, never half of one, and a reader that has the
    old file open keeps reading it (POSIX; on Windows a reader holding the file open makes
    the replace fail, and the run errors). On any error the previous good file stays. DuckDB
    creates the temp file itself; it is set to EXPORT_FILE_MODE before the swap, so other
    users (the BI service) can read it. A killed process can leave a ``.*.tmp`` file; no
    reader globbing ``*.parquet`` picks it up, and the next export removes it
    (remove_stale_temps).
    """
    temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    try:
        write(temp)
        temp.chmod(EXPORT_FILE_MODE)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _ensure_writable(folder: Path) -> None:
    probe = folder / f".write-test.{secrets.token_hex(6)}.tmp"
    try:
        _make_dirs(folder, folder)
        probe.touch(exist_ok=False)
        probe.unlink()
    except OSError as err:
        raise OSError(
            f"export folder {folder} is not writable ({err.strerror or err}); "
            "set LEADSCORE_EXPORT_DIR to a writable folder"
        ) from err


def _relation(con: duckdb.DuckDBPyConnection, name: str, source: Source) -> duckdb.DuckDBPyRelation:
    if isinstance(source, duckdb.DuckDBPyRelation):
        return source
    try:
        return con.sql(f"select * from {source}")
    except duckdb.Error as err:
        raise ValueError(
            f"export {name!r}: cannot read source {source} ({err}); build that model first "
            f"or fix sources[{name!r}]"
        ) from err


def _partition_counts(
    relation: duckdb.DuckDBPyRelation, name: str, column: str
) -> dict[str, tuple[date, int]]:
    """Rows per partition label, refusing a missing, mistyped or NULL partition column."""
    if column not in relation.columns:
        raise ValueError(
            f"export {name!r}: partition_by column {column!r} is not in the table "
            f"(columns: {', '.join(relation.columns)}); fix ExportSpec.partition_by"
        )
    column_type = str(relation.types[relation.columns.index(column)])
    if column_type not in PARTITION_TYPES:
        raise ValueError(
            f"export {name!r}: partition column {column} is {column_type}; partition_by "
            "needs a DATE or TIMESTAMP column (cast it in the model)"
        )
    quoted = sql.identifier(column)
    counts: dict[str, tuple[date, int]] = {}
    for value, n_rows in relation.aggregate(f"{quoted}, count(*)", quoted).fetchall():
        if value is None:
            raise ValueError(
                f"export {name!r}: {n_rows} rows have NULL {column}; a partition needs a "
                f"value: fix {name} or filter those rows out before exporting"
            )
        counts[partition_label(value)] = (value, n_rows)
    return counts


def _plan(
    con: duckdb.DuckDBPyConnection, sources: Mapping[str, Source], specs: Sequence[ExportSpec]
) -> list[_Plan]:
    names = [spec.name for spec in specs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"export names must be unique; {', '.join(duplicates)} repeat")
    plans = []
    for spec in specs:
        if not EXPORT_NAME.fullmatch(spec.name):
            raise ValueError(
                f"export name {spec.name!r} is not a plain file name; use letters, digits, "
                "'_', '-' and '.' (not first)"
            )
        if spec.name not in sources:
            raise ValueError(
                f"export {spec.name!r} has no source; add sources[{spec.name!r}] (a relation "
                'name like "main"."lead_scores", or a DuckDB relation)'
            )
        relation = _relation(con, spec.name, sources[spec.name])
        counts = (
            _partition_counts(relation, spec.name, spec.partition_by) if spec.partition_by else {}
        )
        plans.append(_Plan(spec, relation, counts))
    return plans


def _export_whole(plan: _Plan, folder: Path) -> ExportedFile:
    target = folder / f"{plan.spec.name}.parquet"
    _replace_atomically(target, lambda temp: _write_parquet(plan.relation, temp))
    return ExportedFile(
        export_name=plan.spec.name,
        path=target.name,
        partition_value=None,
        n_rows=pq.read_metadata(target).num_rows,
        was_rewritten=True,
        written_at=_utc_mtime(target),
    )


def _stored_shape(path: Path) -> tuple[int, list[str]] | None:
    """Row count and column names from the Parquet footer; None if missing or unreadable."""
    try:
        metadata = pq.read_metadata(path)
    except (OSError, pa.ArrowException):
        return None
    return metadata.num_rows, metadata.schema.to_arrow_schema().names


def _export_partitioned(
    plan: _Plan, column: str, folder: Path, rewrite: set[str]
) -> list[ExportedFile]:
    """Write missing, changed and listed partitions; delete folders of values no longer there.

    A partition is rewritten when its file is missing or unreadable, its row count or column
    names (Parquet footer) differ from the table's, or its value is in ``rewrite``. A column
    added to the table thus rewrites every partition, so all files keep one schema. An older
    partition whose values changed at an equal count and the same columns is not refreshed:
    after rebuilding the table's past, delete ``<folder>/<name>/`` once. Deleting the folders
    of values no longer in the table makes the export mirror the table.

    Hive convention: the partition column is not stored inside the files; the folder name
    holds it. DuckDB types it from the names: DATE for ``YYYY-MM-DD`` (so a midnight as_of
    reads back as DATE, which is what a dashboard filters on), TIMESTAMP for ISO names;
    pyarrow reads it as a string unless given a Hive partitioning schema. Keeping the column
    in the file as well would not change that (DuckDB lets the folder value win) and would
    store the same fact twice. DuckDB's ``COPY ...
    (PARTITION_BY ...)`` is not used: it writes ``data_<n>.parquet`` files in place (not
    atomic) and cannot skip unchanged partitions.
    """
    spec = plan.spec
    quoted = sql.identifier(column)
    table_dir = folder / spec.name
    columns = [name for name in plan.relation.columns if name != column]
    files = []
    for label, (value, n_rows) in sorted(plan.partition_counts.items()):
        target = table_dir / f"{column}={label}" / PARTITION_FILE
        rewritten = label in rewrite or _stored_shape(target) != (n_rows, columns)
        if rewritten:
            _make_dirs(target.parent, folder)
            rows = plan.relation.filter(f"{quoted} = {sql.literal(value)}")
            data = rows.project(f"* exclude ({quoted})")
            _replace_atomically(target, lambda temp, data=data: _write_parquet(data, temp))
        files.append(
            ExportedFile(
                export_name=spec.name,
                path=target.relative_to(folder).as_posix(),
                partition_value=label,
                n_rows=n_rows,
                was_rewritten=rewritten,
                written_at=_utc_mtime(target),
            )
        )
    if table_dir.is_dir():
        for stale in table_dir.glob(f"{column}=*"):
            if stale.is_dir() and stale.name.split("=", 1)[1] not in plan.partition_counts:
                shutil.rmtree(stale)
    return files


def _manifest_json(plans: list[_Plan], files: list[ExportedFile], generated_at: datetime) -> str:
    exports = []
    for plan in plans:
        own = [file for file in files if file.export_name == plan.spec.name]
        exports.append(
            {
                "name": plan.spec.name,
                "path": plan.spec.name if plan.spec.partition_by else f"{plan.spec.name}.parquet",
                "partition_by": plan.spec.partition_by,
                "rows": sum(file.n_rows for file in own),
                "files": [
                    {
                        "path": file.path,
                        "partition_value": file.partition_value,
                        "rows": file.n_rows,
                        "was_rewritten": file.was_rewritten,
                        "written_at": file.written_at.isoformat(),
                    }
                    for file in own
                ],
            }
        )
    manifest = {"generated_at": generated_at.isoformat(), "exports": exports}
    return json.dumps(manifest, indent=2) + "\n"


def _write_text(path: Path, text: str) -> None:
    with path.open("x", encoding="utf-8") as handle:
        handle.write(text)


def export_tables(
    con: duckdb.DuckDBPyConnection,
    sources: Mapping[str, Source],
    specs: Sequence[ExportSpec],
    folder: Path,
    rewrite_partitions: Iterable[Any] = (),
) -> pa.Table:
    """Write each spec's table as Parquet under folder (atomically) and the manifest.

    sources maps an export name to a relation name readable with con
    (``"main"."lead_scores"``) or a DuckDB relation (a dbt-duckdb Python model's ``dbt.ref()``
    returns a relation). rewrite_partitions: partition values (dates/timestamps) rewritten even
    when their row count is unchanged (``export_run`` passes the run's as_of, so a same-day
    rerun refreshes it). Returns one row per exported file (MANIFEST_SCHEMA).

    Validation (sources, partition column, NULLs) runs for every spec before the first file
    is written. Each file is replaced atomically, but a run as a whole is not: between two
    files a reader can see the new lead_scores and the previous summary. ``_manifest.json``
    is written last and lists what the finished run wrote.
    """
    started = time.time()
    rewrite = {partition_label(value) for value in rewrite_partitions}
    plans = _plan(con, sources, specs)
    _ensure_writable(folder)
    remove_stale_temps(folder, started)
    files: list[ExportedFile] = []
    for plan in plans:
        if plan.spec.partition_by:
            files.extend(_export_partitioned(plan, plan.spec.partition_by, folder, rewrite))
        else:
            files.append(_export_whole(plan, folder))
    manifest = _manifest_json(plans, files, datetime.now(UTC))
    _replace_atomically(folder / MANIFEST_FILE, lambda temp: _write_text(temp, manifest))
    rows = [
        {
            "export_name": file.export_name,
            "path": file.path,
            "partition_value": file.partition_value,
            "n_rows": file.n_rows,
            "was_rewritten": file.was_rewritten,
            "written_at": file.written_at.replace(tzinfo=None),
        }
        for file in files
    ]
    return pa.Table.from_pylist(rows, schema=MANIFEST_SCHEMA)


# ---------------------------------------------------------------------------------------------
# the bi_exports model's entry point

_REF_QUERY = re.compile(r'^select \* from (?:"(?:[^"]|"")*"\.)*"((?:[^"]|"")*)"$', re.IGNORECASE)


def relation_name(relation: duckdb.DuckDBPyRelation) -> str:
    """The table a relation of ``dbt.ref`` reads: dbt-duckdb hands a Python model
    ``select * from "db"."schema"."name"``, so the export is named once, by its ref."""
    found = _REF_QUERY.match(relation.sql_query().strip())
    if found is None:
        raise ValueError(
            "bi_exports: cannot tell which table this relation reads "
            f"({relation.sql_query()[:80]!r}); pass dbt.ref('<model>') relations only"
        )
    return found.group(1).replace('""', '"')


def export_run(
    con: duckdb.DuckDBPyConnection,
    folder: str | Path,
    params: duckdb.DuckDBPyRelation,
    tables: Sequence[duckdb.DuckDBPyRelation],
) -> pa.Table:
    """bi_exports: every ref'd table as Parquet under ``folder``; lead_score_history
    Hive-partitioned by as_of with the run's as_of partition always rewritten."""
    sources = {relation_name(table): table for table in tables}
    specs = [
        ExportSpec(name, partition_by="as_of" if name == "lead_score_history" else None)
        for name in sources
    ]
    as_of = resolved_as_of(params)
    return export_tables(con, sources, specs, Path(folder), rewrite_partitions=[as_of])
