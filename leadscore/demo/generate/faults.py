"""Injected data-quality faults (nulls, duplicates, future timestamps, placeholders, ...)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.demo.generate.config import _epoch_us
from leadscore.demo.generate.contract import (
    FUTURE_YEAR,
    PLACEHOLDER_VALUES,
    TS,
    UNKNOWN_ACTIVITY_TYPES,
)
from leadscore.demo.generate.numeric import _lead_ids, _take, _timestamps
from leadscore.demo.generate.parameters import US_PER_DAY, US_PER_SECOND


def _fault_count(n_rows: int, rate: float) -> int:
    """About ``rate`` of the rows, at least one per chunk when faults are on."""
    if rate <= 0.0 or n_rows == 0:
        return 0
    return max(1, round(n_rows * rate))


def _disjoint_rows(rng: np.random.Generator, n_rows: int, k: int, parts: int) -> list[np.ndarray]:
    picked = rng.choice(n_rows, size=min(n_rows, k * parts), replace=False)
    return [np.sort(p) for p in np.array_split(picked, parts)]


def _mask(n: int, rows: np.ndarray) -> pa.Array:
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    return pa.array(mask)


def _set_null(col: pa.Array, rows: np.ndarray) -> pa.Array:
    return pc.if_else(_mask(len(col), rows), pa.scalar(None, col.type), col)


def _replace(col: pa.Array, rows: np.ndarray, values: pa.Array) -> pa.Array:
    """Values at sorted ``rows`` replaced by ``values`` (same order)."""
    return pc.replace_with_mask(col, _mask(len(col), rows), values.cast(col.type))


def _future_us(rng: np.random.Generator, n: int) -> np.ndarray:
    start = _epoch_us(date(FUTURE_YEAR, 1, 1))
    return start + np.floor(rng.uniform(0, 365, n) * 86_400) * US_PER_SECOND


def _duplicate_rows(rng: np.random.Generator, table: pa.Table, k: int) -> tuple[pa.Table, int]:
    """Exact copies of k rows, each right after its original."""
    if k == 0:
        return table, 0
    n = table.num_rows
    dup = rng.choice(n, size=min(k, n), replace=False)
    return table.take(np.sort(np.concatenate([np.arange(n), dup]))), dup.size


def _fault_rows(
    rng: np.random.Generator, table: pa.Table, rate: float, parts: int
) -> tuple[int, dict[str, pa.Array], list[np.ndarray]] | None:
    """What a table's faults start from: k (rows per fault kind), the columns (one chunk
    each, to edit) and ``parts`` disjoint sorted sets of k rows; None when there are none."""
    n = table.num_rows
    k = _fault_count(n, rate)
    if k == 0:
        return None
    cols = {name: table.column(name).combine_chunks() for name in table.column_names}
    return k, cols, _disjoint_rows(rng, n, k, parts)


def _lead_faults(
    rng: np.random.Generator, table: pa.Table, rate: float, counts: dict[str, int]
) -> pa.Table:
    start = _fault_rows(rng, table, rate, 4)
    if start is None:
        return table
    k, cols, (null_rows, email_rows, placeholder_rows, size_rows) = start

    nullable = ("industry", "country", "job_title", "email")
    which = rng.integers(len(nullable), size=null_rows.size)
    for i, name in enumerate(nullable):
        cols[name] = _set_null(cols[name], null_rows[which == i])
    counts["null_lead_attribute"] += null_rows.size

    emails = pc.take(cols["email"], email_rows)
    variants = [pc.replace_substring(emails, "@", r) for r in ("", " at ", "(at)")]
    pick = pa.array(rng.integers(len(variants), size=email_rows.size), pa.int8())
    cols["email"] = _replace(cols["email"], email_rows, pc.choose(pick, *variants))
    counts["malformed_email"] += email_rows.size

    targets = ("industry", "job_title", "country")
    which = rng.integers(len(targets), size=placeholder_rows.size)
    for i, name in enumerate(targets):
        rows = placeholder_rows[which == i]
        values = _take(PLACEHOLDER_VALUES, rng.integers(len(PLACEHOLDER_VALUES), size=rows.size))
        cols[name] = _replace(cols[name], rows, values)
    counts["placeholder_value"] += placeholder_rows.size

    sizes = pc.take(cols["company_size"], size_rows).to_numpy(zero_copy_only=False)
    negative = -np.nan_to_num(sizes.astype(float), nan=1.0).astype(np.int64)
    cols["company_size"] = _replace(cols["company_size"], size_rows, pa.array(negative))
    counts["negative_company_size"] += size_rows.size

    table, added = _duplicate_rows(rng, pa.table(cols, schema=table.schema), k)
    counts["duplicate_lead"] += added
    return table


def _activity_faults(
    rng: np.random.Generator, table: pa.Table, rate: float, n_leads: int, counts: dict[str, int]
) -> pa.Table:
    start = _fault_rows(rng, table, rate, 6)
    if start is None:
        return table
    k, cols, (null_lead, null_time, unknown, variant, orphan, future) = start

    cols["lead_id"] = _set_null(cols["lead_id"], null_lead)
    cols["occurred_at"] = _set_null(cols["occurred_at"], null_time)
    values = _take(
        UNKNOWN_ACTIVITY_TYPES, rng.integers(len(UNKNOWN_ACTIVITY_TYPES), size=unknown.size)
    )
    cols["activity_type"] = _replace(cols["activity_type"], unknown, values)

    original = pc.take(cols["activity_type"], variant)
    title = pc.utf8_title(original)
    variants = [
        pc.utf8_upper(original),
        pc.binary_join_element_wise(" ", title, " ", ""),
        pc.binary_join_element_wise(title, "  ", ""),
    ]
    pick = pa.array(rng.integers(len(variants), size=variant.size), pa.int8())
    cols["activity_type"] = _replace(cols["activity_type"], variant, pc.choose(pick, *variants))

    ghost = n_leads + 1 + rng.integers(n_leads, size=orphan.size)
    cols["lead_id"] = _replace(cols["lead_id"], orphan, _lead_ids(ghost))
    cols["occurred_at"] = _replace(
        cols["occurred_at"], future, pa.array(_future_us(rng, future.size).astype(np.int64), TS)
    )
    for kind, rows in (
        ("null_activity_lead_id", null_lead),
        ("null_activity_occurred_at", null_time),
        ("unknown_activity_type", unknown),
        ("activity_type_variant", variant),
        ("orphan_activity", orphan),
        ("future_activity_timestamp", future),
    ):
        counts[kind] += rows.size

    table, added = _duplicate_rows(rng, pa.table(cols, schema=table.schema), k)
    counts["duplicate_activity"] += added
    return table


def _opportunity_faults(
    rng: np.random.Generator, table: pa.Table, rate: float, counts: dict[str, int]
) -> pa.Table:
    start = _fault_rows(rng, table, rate, 2)
    if start is None:
        return table
    _, cols, (future, negative) = start

    created = _future_us(rng, future.size)
    closed = pc.take(cols["closed_at"], future).is_valid().to_numpy(zero_copy_only=False)
    closed_us = np.where(closed, created + 30 * US_PER_DAY, np.nan)
    cols["created_at"] = _replace(cols["created_at"], future, _timestamps(created))
    cols["closed_at"] = _replace(cols["closed_at"], future, _timestamps(closed_us))
    counts["future_opportunity_timestamp"] += future.size

    amounts = pc.take(cols["amount"], negative)
    cols["amount"] = _replace(cols["amount"], negative, pc.negate(amounts))
    counts["negative_opportunity_amount"] += negative.size
    return pa.table(cols, schema=table.schema)
