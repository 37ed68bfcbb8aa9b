"""How the raw tables are written: as the generator makes them, or the way real exports look.

``--export-format`` of ``leadscore generate``:

- ``parquet`` (default): typed Parquet, timestamps naive UTC.
- ``parquet_tz``: typed Parquet with every timestamp a ``TIMESTAMPTZ`` (UTC instants), the way
  Spark, Snowflake or pandas with ``utc=True`` write them.
- ``excel_csv``: CSV files (UTF-8, header row), every value text the way a spreadsheet
  export writes it: ``company_size`` with a thousands separator (``1,000``) and a share of
  size ranges (``51-200``); ``amount`` with a currency symbol (``$4,900.00``); ``is_won`` as
  ``Y``/``N``; timestamps ISO 8601 with a UTC offset (``2026-01-02T18:00:00+05:00``, the same
  instant as ``13:00`` UTC), a share in ``Z`` notation.

The values are the same facts in every format (the same seed gives the same leads, times and
outcomes), so a build on any format must give the same features and labels; the range
``51-200`` is the one fact that is coarser than the number it came from.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from leadscore.demo.generate.contract import RAW_TABLES

EXPORT_FORMATS: tuple[str, ...] = ("parquet", "parquet_tz", "excel_csv")
# UTC offsets of the excel_csv timestamps, in minutes (a CRM exporting in its users' zones)
OFFSETS_MINUTES: tuple[int, ...] = (0, -300, 60, 120, 330)
# company_size bands an export writes instead of the number, for this share of the leads
SIZE_RANGE_SHARE = 0.1
SIZE_RANGES: tuple[tuple[int, int], ...] = (
    (1, 10),
    (11, 50),
    (51, 200),
    (201, 1000),
    (1001, 5000),
    (5001, 10000),
)


def _offset_text(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


def excel_timestamp(value: datetime | None, minutes: int) -> str:
    """A naive UTC timestamp as local time at ``minutes`` east of UTC with its offset (``Z``
    for UTC): the same instant."""
    if value is None:
        return ""
    local = value + timedelta(minutes=minutes)
    suffix = "Z" if minutes == 0 else _offset_text(minutes)
    return f"{local:%Y-%m-%dT%H:%M:%S}{suffix}"


def excel_size(value: int | None, as_range: bool) -> str:
    if value is None:
        return ""
    if as_range:
        for low, high in SIZE_RANGES:
            if low <= value <= high:
                return f"{low}-{high}"
    return f"{value:,}"


def excel_amount(value: float | None) -> str:
    return "" if value is None else f"${value:,.2f}"


def excel_bool(value: bool | None) -> str:
    return "" if value is None else ("Y" if value else "N")


def _cells(table: pa.Table, rng: np.random.Generator) -> list[list[str]]:
    """The rows of ``table`` as an Excel export writes them."""
    columns: dict[str, list[str]] = {}
    for name in table.column_names:
        field = table.schema.field(name)
        values = table.column(name).to_pylist()
        if pa.types.is_timestamp(field.type):
            offsets = rng.choice(OFFSETS_MINUTES, size=len(values))
            columns[name] = [
                excel_timestamp(v, int(m)) for v, m in zip(values, offsets, strict=True)
            ]
        elif name == "company_size":
            ranges = rng.random(len(values)) < SIZE_RANGE_SHARE
            columns[name] = [excel_size(v, bool(r)) for v, r in zip(values, ranges, strict=True)]
        elif name == "amount":
            columns[name] = [excel_amount(v) for v in values]
        elif pa.types.is_boolean(field.type):
            columns[name] = [excel_bool(v) for v in values]
        else:
            columns[name] = ["" if v is None else str(v) for v in values]
    return [list(row) for row in zip(*columns.values(), strict=True)]


def _write_excel_csv(path: Path, table: pa.Table, rng: np.random.Generator) -> Path:
    target = path.with_suffix(".csv")
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(table.column_names)
        writer.writerows(_cells(table, rng))
    path.unlink()
    return target


def _write_parquet_tz(path: Path, table: pa.Table, rng: np.random.Generator) -> Path:
    del rng
    fields = [
        pa.field(f.name, pa.timestamp("us", tz="UTC")) if pa.types.is_timestamp(f.type) else f
        for f in table.schema
    ]
    pq.write_table(table.cast(pa.schema(fields)), path, compression="zstd")
    return path


WRITERS: dict[str, Callable[[Path, pa.Table, np.random.Generator], Path]] = {
    "excel_csv": _write_excel_csv,
    "parquet_tz": _write_parquet_tz,
}


def rewrite_as(out_dir: str | os.PathLike[str], export_format: str, seed: int) -> list[Path]:
    """Rewrite the raw tables the generator wrote to out_dir in ``export_format``; returns
    the files (the ground truth under ../truth stays Parquet)."""
    if export_format not in EXPORT_FORMATS:
        raise ValueError(
            f"unknown export format {export_format!r}; use one of {', '.join(EXPORT_FORMATS)}"
        )
    paths = [Path(out_dir) / f"{name}.parquet" for name in RAW_TABLES]
    if export_format == "parquet":
        return paths
    rng = np.random.default_rng([seed, 20261201])
    return [WRITERS[export_format](p, pq.read_table(p), rng) for p in paths]
