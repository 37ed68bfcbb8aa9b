"""Reading the inputs every dbt Python model shares, once."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def resolved_as_of(params: Any) -> datetime:
    """The scoring date of int_as_of_resolved (a one-row relation or Arrow table)."""
    table = params.to_arrow_table() if hasattr(params, "to_arrow_table") else params
    if table.num_rows != 1:
        raise ValueError(
            f"int_as_of_resolved has {table.num_rows} rows, expected 1; rebuild it "
            "(dbt build --select int_as_of_resolved) and check var as_of"
        )
    return table.column("as_of")[0].as_py()
