"""Small numeric and Arrow helpers of the generator, and its seeded random streams."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.demo.generate.contract import TS
from leadscore.demo.generate.parameters import US_PER_SECOND


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _column(table: Sequence[tuple], i: int) -> np.ndarray:
    return np.asarray([row[i] for row in table], dtype=float)


def _draw(
    rng: np.random.Generator, table: Sequence[tuple], n: int, share_col: int = 1
) -> np.ndarray:
    """Indices into a reference table, drawn by its share column."""
    p = _column(table, share_col)
    return rng.choice(len(table), size=n, p=p / p.sum())


def _group_starts(counts: np.ndarray) -> np.ndarray:
    return np.cumsum(counts) - counts


def _first_in_group(group: np.ndarray, mask: np.ndarray, n_groups: int) -> np.ndarray:
    """Position of the first True of ``mask`` per group (-1 if none); group must be sorted."""
    pos = np.flatnonzero(mask)
    first = np.full(n_groups, -1, dtype=np.int64)
    uniq, at = np.unique(group[pos], return_index=True)
    first[uniq] = pos[at]
    return first


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _lead_ids(numbers: np.ndarray) -> pa.Array:
    """Lead ids: ``L`` and the number in 8 digits (the chunks' leads, orphan-fault leads)."""
    return _ids("L", numbers, 8)


def _take(values: Sequence[str], idx: np.ndarray) -> pa.Array:
    return pc.take(pa.array(values, pa.string()), pa.array(idx, pa.int64()))


def _timestamps(us: np.ndarray) -> pa.Array:
    """Float epoch microseconds to timestamp[us], floored to the second; non-finite -> NULL."""
    finite = np.isfinite(us)
    secs = np.floor(np.where(finite, us, 0.0) / US_PER_SECOND).astype(np.int64)
    return pa.array(secs * US_PER_SECOND, TS, mask=~finite)


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))
