"""Reading the exports: the Parquet files and model cards, and the latest scoring run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


class NotAvailable(Exception):
    """A section's input is not there (yet): the section shows this message instead."""


@dataclass
class Exports:
    """The export folder; tables are read once and kept."""

    folder: Path
    _tables: dict[str, pa.Table] = field(default_factory=dict, repr=False)

    def table(self, name: str, columns: Sequence[str] = ()) -> pa.Table:
        """``<folder>/<name>.parquet``; NotAvailable when the file or a column is missing."""
        if name not in self._tables:
            path = self.folder / f"{name}.parquet"
            if not path.is_file():
                raise NotAvailable(
                    f"{path.name} is not in the exports: bi_exports writes it once dbt builds "
                    f"{name} (run make demo or dbt build)"
                )
            self._tables[name] = pq.read_table(path)
        table = self._tables[name]
        missing = [c for c in columns if c not in table.column_names]
        if missing:
            raise NotAvailable(
                f"{name}.parquet lacks column(s) {', '.join(missing)}; rebuild the exports with "
                "this version of the project (dbt build)"
            )
        return table

    def rows(self, name: str, columns: Sequence[str] = ()) -> list[dict[str, Any]]:
        return self.table(name, columns).to_pylist()

    def text(self, relative: str) -> str:
        path = self.folder / relative
        if not path.is_file():
            raise NotAvailable(f"{relative} is not in the exports (run make demo or dbt build)")
        return path.read_text(encoding="utf-8")


def latest(rows: list[dict[str, Any]], key: str = "as_of") -> list[dict[str, Any]]:
    """The rows with the largest ``key``."""
    values = [r[key] for r in rows if r[key] is not None]
    if not values:
        return []
    top = max(values)
    return [r for r in rows if r[key] == top]


@dataclass(frozen=True)
class Run:
    """The latest scoring run (scoring_runs); every field None when there is none."""

    as_of: datetime | None = None
    model_version: str | None = None
    row: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, exports: Exports) -> Run:
        try:
            rows = exports.rows("scoring_runs", ["as_of", "model_version", "scored_at"])
        except NotAvailable:
            return cls()
        newest = sorted(latest(rows), key=lambda r: r["scored_at"] or datetime.min)
        if not newest:
            return cls()
        row = newest[-1]
        return cls(row["as_of"], row["model_version"], row)
