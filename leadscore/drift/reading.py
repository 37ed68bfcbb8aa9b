"""Reading the compared populations from the warehouse (DuckDB relations of dbt model
``feature_drift``), each a deterministic hash sample of at most ``drift_reference_rows`` rows
taken in DuckDB.

- Reference: the grid snapshots of ``training_snapshots`` in the model's train window
  (``snapshot_at`` between ``train_from`` and ``train_to``: that window was its train split,
  whatever split a later run gives those rows). Without a model, or when that window is gone
  from ``training_snapshots`` (older than ``snapshot_history_days``, with a note), the grid
  snapshots of the current train split.
- Current: the open leads of ``lead_features`` no older than the oldest reference snapshot;
  the others are counted (``n_current_beyond_reference_age``) and named in a note: the model
  scores them by extrapolation, a property of the snapshot design, not drift.
- Time-matched reference of the calendar-cumulative features: the grid snapshots (any split)
  of the ``drift_calendar_reference_days`` before as_of minus the reference age, of leads no
  older than that age: the latest snapshots that share no lead with today's compared
  population.

DECISIONS.md: "Drift and performance compare like with like"."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import duckdb
import pyarrow as pa

from leadscore import sql
from leadscore.drift.compare import Populations, TimeMatchedReference
from leadscore.drift.config import DriftConfig
from leadscore.registry import RegistryEntry
from leadscore.scoring import RULES_MODEL

AGE_COLUMN = "lead_age_days"


def _quoted(columns: Sequence[str]) -> str:
    return ", ".join(sql.identifier(c) for c in columns)


def load_populations(
    features: duckdb.DuckDBPyRelation,
    snapshots: duckdb.DuckDBPyRelation,
    model: RegistryEntry | None,
    columns: Sequence[str],
    config: DriftConfig,
    as_of: datetime,
) -> Populations:
    """The reference and current rows (the module docstring says which), each a
    deterministic hash sample of at most ``config.reference_rows`` rows taken in DuckDB, and
    the time-matched reference of the calendar-cumulative features among ``columns``."""
    grid = snapshots.filter("snapshot_kind = 'grid'")
    reference, version, described, notes = _reference_of_model(grid, model)
    bounds = reference.aggregate(
        f"min(snapshot_at) as lo, max(snapshot_at) as hi, max({AGE_COLUMN}) as max_age"
    ).to_arrow_table()
    lo, hi, max_age = (bounds.column(i)[0].as_py() for i in range(3))
    comparable, n_beyond, beyond_note = _within_reference_age(features, max_age)
    calendar = [c for c in columns if c in config.calendar_cumulative_features]
    return Populations(
        reference=_sample(reference, "hash(lead_id, snapshot_at)", columns, config),
        current=_sample(comparable, "hash(lead_id)", columns, config),
        model_version=version,
        reference_population=described,
        reference_from=lo,
        reference_to=hi,
        n_current_beyond_reference_age=n_beyond,
        notes=(*notes, *filter(None, [beyond_note])),
        time_matched=(
            None
            if max_age is None or not calendar
            else load_time_matched(grid, calendar, as_of, max_age, config)
        ),
    )


def _reference_of_model(
    grid: duckdb.DuckDBPyRelation, model: RegistryEntry | None
) -> tuple[duckdb.DuckDBPyRelation, str, str, list[str]]:
    """The reference rows, the model version they belong to, the reference in words and the
    notes: the model's train window, else (no model, or its window is gone from
    training_snapshots) the current train split."""
    current_train = grid.filter("split = 'train'")
    if model is None:
        described = "grid snapshots of the current train split (no model: rule fallback)"
        return current_train, RULES_MODEL, described, []
    version = model.model_version
    window = f"{sql.literal(model.train_from)} and {sql.literal(model.train_to)}"
    reference = grid.filter(f"snapshot_at between {window}")
    if reference.limit(1).to_arrow_table().num_rows:
        return reference, version, f"grid snapshots of {version}'s train window", []
    note = (
        f"{version}'s train window is no longer in training_snapshots "
        "(snapshot_history_days): compared with the current train split"
    )
    return current_train, version, "grid snapshots of the current train split", [note]


def _within_reference_age(
    features: duckdb.DuckDBPyRelation, max_age: float | None
) -> tuple[duckdb.DuckDBPyRelation, int, str | None]:
    """The open leads no older than ``max_age`` (the oldest reference snapshot; None: all of
    them), how many are left out, and the note that says so."""
    if max_age is None:
        return features, 0, None
    counted = features.aggregate(
        f"count(*) filter (where {AGE_COLUMN} > {sql.literal(float(max_age))}) as n"
    )
    n_beyond = int(counted.to_arrow_table().column("n")[0].as_py())
    note = (
        f"{n_beyond} open leads older than the oldest reference snapshot "
        f"({max_age:.0f} days) are not compared (see n_current_beyond_reference_age)"
        if n_beyond
        else None
    )
    return features.filter(f"{AGE_COLUMN} <= {sql.literal(float(max_age))}"), n_beyond, note


def _sample(
    relation: duckdb.DuckDBPyRelation, order: str, columns: Sequence[str], config: DriftConfig
) -> pa.Table:
    """At most ``config.reference_rows`` rows of ``columns``, the first by ``order`` (a hash:
    a deterministic sample)."""
    return (
        relation.order(order).limit(config.reference_rows).select(_quoted(columns)).to_arrow_table()
    )


def load_time_matched(
    grid: duckdb.DuckDBPyRelation,
    columns: Sequence[str],
    as_of: datetime,
    max_age: float,
    config: DriftConfig,
) -> TimeMatchedReference:
    """The time-matched reference: the grid snapshots (any split) of the
    ``calendar_reference_days`` before ``as_of - max_age`` — the latest ones of leads that
    cannot be in today's compared population, which was created after ``as_of - max_age`` —
    of leads no older than ``max_age``, hash-sampled like the others."""
    hi = as_of - timedelta(days=max_age)
    lo = hi - timedelta(days=config.calendar_reference_days)
    window = grid.filter(
        f"snapshot_at >= {sql.literal(lo)} and snapshot_at < {sql.literal(hi)} "
        f"and {AGE_COLUMN} <= {sql.literal(float(max_age))}"
    )
    rows = window.order("hash(lead_id, snapshot_at)").limit(config.reference_rows)
    bounds = window.aggregate("min(snapshot_at) as lo, max(snapshot_at) as hi").to_arrow_table()
    return TimeMatchedReference(
        rows=rows.select(_quoted(columns)).to_arrow_table(),
        population=(
            f"time-matched: grid snapshots of the {config.calendar_reference_days} days "
            f"before {hi:%Y-%m-%d} (as_of minus the reference age, {max_age:.0f} days)"
        ),
        reference_from=bounds.column("lo")[0].as_py(),
        reference_to=bounds.column("hi")[0].as_py(),
    )
