"""The labelled splits: column names, labels, groups and times of a split, the enough-data
check, the fixed row order and the training weights."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

LABEL = "is_converted"
TIME = "snapshot_at"
FIRST = "lead_first_snapshot_at"
GROUP = "lead_source"
UNKNOWN_GROUP = "(unknown)"


class InsufficientTrainingData(Exception):
    """Too little labelled data to train and evaluate a model; the caller falls back to the
    rule score. ``reason`` says which split and counts, and which var to change."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------------------
# calibration


def labels_of(table: pa.Table, split: str) -> np.ndarray:
    """0/1 float labels from is_converted; raises ValueError on a missing column or NULLs."""
    if LABEL not in table.column_names:
        raise ValueError(f"{split} lacks the label column {LABEL}; pass training_snapshots rows")
    col = table.column(LABEL)
    if col.null_count:
        raise ValueError(
            f"{split} has {col.null_count} rows with NULL {LABEL}; pass only labelled "
            "(matured) snapshots of the train/valid/test splits"
        )
    return pc.cast(col, pa.float64()).to_numpy().astype(np.float64)


def groups_of(table: pa.Table) -> np.ndarray | None:
    """lead_source as strings (NULL → '(unknown)'), or None without the column."""
    if GROUP not in table.column_names:
        return None
    col = pc.cast(table.column(GROUP), pa.string()).fill_null(UNKNOWN_GROUP)
    return np.asarray(col.to_pylist(), dtype=object)


def _times_of(table: pa.Table, split: str) -> np.ndarray:
    if TIME not in table.column_names:
        raise ValueError(f"{split} lacks column {TIME}, needed for the time-ordered folds")
    col = pc.cast(table.column(TIME), pa.timestamp("us"))
    return col.to_numpy().astype("datetime64[us]").astype(np.int64)


def check_enough_data(ys: Mapping[str, np.ndarray], min_training_conversions: int) -> None:
    """Raise InsufficientTrainingData when train has too few positives or any split has
    fewer than two classes (zero rows included)."""
    for split, y in ys.items():
        n, pos = int(y.size), int(y.sum())
        if n == 0:
            raise InsufficientTrainingData(
                f"the {split} split has no labelled rows; training needs train, valid and test "
                "splits with conversions in each, and the purged splits put an embargo of "
                "conversion_window_days before valid and before test, so they need more than "
                "three conversion windows of matured history (more history, a shorter var "
                "conversion_window_days, or a larger valid_fraction / smaller train_fraction)"
            )
        if pos == 0 or pos == n:
            raise InsufficientTrainingData(
                f"the {split} split has {pos} conversions among {n} labelled rows (a single "
                "class); calibration and evaluation need both classes — more history is needed"
            )
    pos_train = int(ys["train"].sum())
    if pos_train < min_training_conversions:
        raise InsufficientTrainingData(
            f"the train split has {pos_train} conversions among {ys['train'].size} rows, fewer "
            f"than var min_training_conversions = {min_training_conversions}; scoring falls "
            "back to the rule score until more conversions mature (or lower the var)"
        )


def training_weights(table: pa.Table, scheme: str) -> np.ndarray:
    """Row weights of a fit, mean 1: ``lead`` gives every lead the same total weight (1 / its
    rows), so a lead open for 13 weekly snapshots does not count 13 times its first score;
    ``row`` weighs every snapshot alike (DECISIONS.md "Lead-balanced training")."""
    n = table.num_rows
    if scheme == "row" or "lead_id" not in table.column_names or n == 0:
        return np.ones(n)
    ids = np.asarray(pc.cast(table.column("lead_id"), pa.string()).to_pylist(), dtype=object)
    _, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
    w = 1.0 / counts[inverse]
    return w * (n / w.sum())


def firsts_of(table: pa.Table, times: np.ndarray) -> np.ndarray:
    """Each row's lead's first snapshot time (µs): column lead_first_snapshot_at when present,
    else the earliest snapshot_at of the lead_id among these rows (a row alone without it)."""
    if FIRST in table.column_names:
        col = pc.cast(table.column(FIRST), pa.timestamp("us"))
        return col.to_numpy(zero_copy_only=False).astype("datetime64[us]").astype(np.int64)
    if "lead_id" not in table.column_names:
        return times.copy()
    ids = np.asarray(pc.cast(table.column("lead_id"), pa.string()).to_pylist(), dtype=object)
    _, inverse = np.unique(ids, return_inverse=True)
    first = np.full(inverse.max() + 1 if inverse.size else 0, np.iinfo(np.int64).max)
    np.minimum.at(first, inverse, times)
    return first[inverse]


# --------------------------------------------------------------------------------------
# model fitting


def _fixed_order(table: pa.Table) -> np.ndarray:
    """Row indices sorting by (snapshot_at, lead_id) where the columns exist (stable)."""
    keys = [(c, "ascending") for c in (TIME, "lead_id") if c in table.column_names]
    if not keys:
        return np.arange(table.num_rows)
    return pc.sort_indices(table, sort_keys=keys).to_numpy()
