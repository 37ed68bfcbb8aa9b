"""Lookup of a text key (lead_id, email_domain) in a memory-mapped table without a Python dict:
the table is sorted by a 64-bit hash of the key, found by binary search and confirmed by
comparing the key itself (so a hash collision costs a comparison, never a wrong row)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import pyarrow as pa


def key_hash(key: str) -> int:
    """The 64-bit hash of one key (BLAKE2b, 8 bytes, little-endian), stable across processes
    and versions (Python's ``hash()`` is salted per process)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


def key_hashes(keys: Iterable[str]) -> np.ndarray:
    return np.fromiter((key_hash(k) for k in keys), dtype=np.uint64)


def rows_of(hashes: np.ndarray, keys: pa.ChunkedArray | pa.Array, key: str) -> range:
    """The rows of a table sorted by ``hashes`` (its key_hash column) whose key is ``key``:
    an empty range when there is none. Rows with one key are contiguous (sorted by hash, then
    by the table's own order)."""
    h = np.uint64(key_hash(key))
    lo = int(np.searchsorted(hashes, h, side="left"))
    hi = int(np.searchsorted(hashes, h, side="right"))
    matching = [row for row in range(lo, hi) if keys[row].as_py() == key]
    if not matching:
        return range(0)
    return range(matching[0], matching[-1] + 1)
