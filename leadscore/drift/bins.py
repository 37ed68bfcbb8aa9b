"""Binning one feature in both populations: the bins PSI and the chi-square test count on.

Numeric: ``drift_n_bins`` bins on the reference's quantiles (inverted CDF, so every edge is a
reference value and tied quantiles collapse bins), right-closed and open-ended at both ends.
Categorical and boolean: a bin per value, each value unseen in the reference its own. NULL
(and NaN) is always a bin of its own, so a source column that goes empty shows."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NULL_BIN = "(null)"


@dataclass(frozen=True)
class Bins:
    """One feature's bins: a label and the row count of each population per bin."""

    labels: list[str]
    reference: np.ndarray
    current: np.ndarray


def quantile_edges(reference: np.ndarray, n_bins: int) -> np.ndarray:
    """Interior bin edges: the 1/n … (n-1)/n quantiles of the reference's non-NaN values
    (inverted CDF: the smallest value with at least that share at or below it, so every edge
    is a reference value), duplicates removed: tied quantiles collapse bins, and a count that
    is mostly 0 gets bins "<= 0", "(0, 1]", … instead of empty in-between ones."""
    values = reference[~np.isnan(reference)]
    if values.size == 0:
        return np.empty(0)
    quantiles = np.quantile(values, np.arange(1, n_bins) / n_bins, method="inverted_cdf")
    return np.unique(quantiles)


def _interval_labels(edges: np.ndarray) -> list[str]:
    if edges.size == 0:
        return ["any value"]
    text = [f"{e:.6g}" for e in edges]
    middle = [f"({lo}, {hi}]" for lo, hi in pairwise(text)]
    return [f"<= {text[0]}", *middle, f"> {text[-1]}"]


def _numeric_counts(values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, int]:
    known = values[~np.isnan(values)]
    # side="left": a value equal to an edge belongs to the bin that edge closes, (lo, hi]
    index = np.searchsorted(edges, known, side="left")
    return np.bincount(index, minlength=edges.size + 1), int(values.size - known.size)


def bin_numeric(reference: np.ndarray, current: np.ndarray, n_bins: int) -> Bins:
    """Bins on the reference's quantiles (right-closed, open-ended at both ends) plus a
    ``(null)`` bin when either population has NaN (NULL) values."""
    edges = quantile_edges(reference, n_bins)
    ref_counts, ref_nulls = _numeric_counts(reference, edges)
    cur_counts, cur_nulls = _numeric_counts(current, edges)
    labels = _interval_labels(edges)
    if ref_nulls or cur_nulls:
        labels.append(NULL_BIN)
        ref_counts = np.append(ref_counts, ref_nulls)
        cur_counts = np.append(cur_counts, cur_nulls)
    return Bins(labels, ref_counts, cur_counts)


def _category_counts(values: pa.Array) -> dict[str | None, int]:
    counts = pc.value_counts(values).to_pylist()
    return {c["values"]: int(c["counts"]) for c in counts}


def _as_text(arr: pa.Array) -> pa.Array:
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    return pc.cast(arr, pa.string())


def bin_categorical(reference: pa.Array, current: pa.Array) -> Bins:
    """One bin per category (as text; booleans ``true``/``false``): the reference's
    categories by frequency, then categories seen only today (each its own bin), then
    ``(null)`` when either population has NULLs."""
    ref = _category_counts(_as_text(reference))
    cur = _category_counts(_as_text(current))
    seen = sorted((v for v in ref if v is not None), key=lambda v: (-ref[v], v))
    unseen = sorted((v for v in cur if v is not None and v not in ref), key=lambda v: (-cur[v], v))
    labels: list[str] = [*seen, *unseen]
    keys: list[str | None] = list(labels)
    if None in ref or None in cur:
        labels.append(NULL_BIN)
        keys.append(None)
    return Bins(
        labels,
        np.array([ref.get(k, 0) for k in keys], dtype=np.int64),
        np.array([cur.get(k, 0) for k in keys], dtype=np.int64),
    )
