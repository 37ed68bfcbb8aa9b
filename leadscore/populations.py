"""The populations a model is judged on: every snapshot, each lead's first score, lead-age bands.

A lead contributes up to ``max_snapshots_per_lead`` weekly snapshots, most of them old leads
that are easy negatives, so a metric over all snapshots flatters the model on the leads sales
calls. Every candidate is therefore also evaluated on

* ``first_score``: the lead's first snapshot after creation (``snapshot_kind = 'first'``,
  ``first_snapshot_delay_hours`` after sign-up): the score that routes a new lead to sales;
* ``age_0_7``, ``age_8_30``, ``age_31_90``, ``age_over_90``: lead age at the snapshot in whole
  days (``floor(lead_age_days)``), the same bands model_performance uses for matured cohorts.

Var ``evaluation_population`` names the population that model choice and the champion gate
use (default ``first_score``, DECISIONS.md "Which population chooses the model"); with
fewer than ``min_population_positives`` conversions in it, they fall back to ``all`` and say so.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ALL = "all"
FIRST_SCORE = "first_score"
AGE_BANDS: tuple[tuple[str, float, float], ...] = (
    ("age_0_7", 0, 8),
    ("age_8_30", 8, 31),
    ("age_31_90", 31, 91),
    ("age_over_90", 91, float("inf")),
)
POPULATIONS: tuple[str, ...] = (ALL, FIRST_SCORE, *(name for name, _, _ in AGE_BANDS))
AGE_COLUMN = "lead_age_days"
KIND_COLUMN = "snapshot_kind"


def age_band_of(age_days: np.ndarray) -> np.ndarray:
    """The band name of every lead age in days (object array; None for NaN)."""
    age = np.floor(np.asarray(age_days, dtype=np.float64))
    out = np.full(age.shape, None, dtype=object)
    for name, lo, hi in AGE_BANDS:
        out[(age >= lo) & (age < hi)] = name
    return out


def population_masks(table: pa.Table) -> dict[str, np.ndarray]:
    """A boolean row mask per population that the table's columns allow (always ``all``;
    ``first_score`` needs snapshot_kind, the age bands lead_age_days)."""
    n = table.num_rows
    masks = {ALL: np.ones(n, dtype=bool)}
    if KIND_COLUMN in table.column_names:
        kind = pc.fill_null(pc.cast(table.column(KIND_COLUMN), pa.string()), "")
        masks[FIRST_SCORE] = pc.equal(kind, "first").to_numpy(zero_copy_only=False)
    if AGE_COLUMN in table.column_names:
        age = pc.cast(table.column(AGE_COLUMN), pa.float64()).to_numpy(zero_copy_only=False)
        bands = age_band_of(age)
        for name, _, _ in AGE_BANDS:
            masks[name] = bands == name
    return masks


def usable_population(
    name: str, masks: dict[str, np.ndarray], y: np.ndarray, min_positives: int
) -> tuple[str, str | None]:
    """The population to choose on: ``name`` when its rows hold at least ``min_positives``
    conversions and at least one non-conversion, else ``all``; plus a note saying why."""
    mask = masks.get(name)
    if name == ALL:
        return ALL, None
    if mask is None:
        return ALL, f"population {name} needs columns the rows lack; used all snapshots"
    positives = int(y[mask].sum())
    if positives < min_positives or positives == int(mask.sum()):
        return ALL, (
            f"population {name} has {positives} conversions among {int(mask.sum())} rows "
            f"(< min_population_positives = {min_positives}); used all snapshots"
        )
    return name, None
