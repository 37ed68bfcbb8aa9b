"""Comparing the populations: one row of ``DRIFT_SCHEMA`` per feature, the table of dbt model
``feature_drift``.

A calendar-cumulative feature (var ``calendar_cumulative_features``) is compared with the
time-matched reference (``reading.load_time_matched``); without one (a CRM younger than the
window) with the model's reference, and a note says its growth shows as drift. A side with
no rows makes every feature ``no_data``; fewer than ``MIN_STABLE_ROWS`` on a side adds a
note. DECISIONS.md: "Drift and performance compare like with like"."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.drift.bins import Bins, bin_categorical, bin_numeric
from leadscore.drift.config import DriftConfig
from leadscore.drift.statistics import chi_square, drift_status, ks_test, psi_contributions
from leadscore.preprocess import FeatureSpec

# fewer rows than this on either side: PSI is noisy even without drift (about bins / rows)
MIN_STABLE_ROWS = 500
# bins_json of a categorical feature lists at most this many categories (largest PSI
# contributions first)
MAX_CATEGORY_BINS_JSON = 50

TS = pa.timestamp("us")
DRIFT_SCHEMA = pa.schema(
    [
        ("feature", pa.string()),
        ("feature_kind", pa.string()),
        ("status", pa.string()),
        ("psi", pa.float64()),
        ("importance", pa.float64()),
        ("importance_rank", pa.int64()),
        ("model_version", pa.string()),
        ("as_of", TS),
        ("reference_population", pa.string()),
        ("reference_from", TS),
        ("reference_to", TS),
        ("is_calendar_cumulative", pa.bool_()),
        ("n_reference", pa.int64()),
        ("n_current", pa.int64()),
        ("n_current_beyond_reference_age", pa.int64()),
        ("reference_null_share", pa.float64()),
        ("current_null_share", pa.float64()),
        ("reference_mean", pa.float64()),
        ("current_mean", pa.float64()),
        ("n_bins", pa.int64()),
        ("top_bin", pa.string()),
        ("ks_statistic", pa.float64()),
        ("ks_p_value", pa.float64()),
        ("chi2_statistic", pa.float64()),
        ("chi2_p_value", pa.float64()),
        ("chi2_dof", pa.int64()),
        ("bins_json", pa.string()),
        ("notes", pa.string()),
    ]
)


def _as_float(arr: pa.Array) -> np.ndarray:
    out = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


def _null_share(values: np.ndarray) -> float:
    return float(np.isnan(values).mean())


def _mean(values: np.ndarray) -> float | None:
    known = values[~np.isnan(values)]
    return float(known.mean()) if known.size else None


def _bins_json(bins: Bins, contributions: np.ndarray, ordered: bool) -> str:
    r = bins.reference / bins.reference.sum()
    c = bins.current / bins.current.sum()
    order = range(len(bins.labels)) if ordered else np.argsort(-contributions, kind="stable")
    entries = [
        {
            "bin": bins.labels[i],
            "reference_share": round(float(r[i]), 6),
            "current_share": round(float(c[i]), 6),
            "psi": round(float(contributions[i]), 6),
        }
        for i in order
    ]
    return json.dumps(entries if ordered else entries[:MAX_CATEGORY_BINS_JSON])


def compare_feature(
    name: str,
    kind: str,
    reference: pa.Array,
    current: pa.Array,
    config: DriftConfig,
    n_features: int = 1,
) -> dict[str, Any]:
    """The drift figures of one feature (``kind``: numeric, boolean or categorical) of
    ``n_features`` compared in the run; both arrays must be non-empty."""
    row: dict[str, Any] = {"feature": name, "feature_kind": kind}
    if kind == "categorical":
        row.update(
            reference_null_share=reference.null_count / len(reference),
            current_null_share=current.null_count / len(current),
        )
    else:
        ref_x, cur_x = _as_float(reference), _as_float(current)
        row.update(
            reference_null_share=_null_share(ref_x),
            current_null_share=_null_share(cur_x),
            reference_mean=_mean(ref_x),
            current_mean=_mean(cur_x),
        )
    if kind == "numeric":
        bins = bin_numeric(ref_x, cur_x, config.n_bins)
        ks = ks_test(ref_x, cur_x)
        if ks is not None:
            row.update(ks_statistic=ks[0], ks_p_value=ks[1])
    else:
        bins = bin_categorical(reference, current)
    chi2 = chi_square(bins)
    p_value = None if chi2 is None else chi2[1]
    if chi2 is not None:
        row.update(chi2_statistic=chi2[0], chi2_p_value=p_value, chi2_dof=chi2[2])
    contributions = psi_contributions(bins.reference, bins.current, config.psi_floor)
    value = float(contributions.sum())
    status = drift_status(value, p_value, config, n_features)
    if status == "ok" and value >= config.psi_watch:
        test = (
            "too few rows for a chi-square test"
            if p_value is None
            else f"chi-square p = {p_value:.2g} >= drift_max_p_value {config.max_p_value:g}"
            f" / {n_features} features"
        )
        row["note"] = f"PSI {value:.3f} is within sampling noise ({test})"
    row.update(
        psi=value,
        status=status,
        n_bins=len(bins.labels),
        top_bin=bins.labels[int(np.argmax(contributions))],
        bins_json=_bins_json(bins, contributions, ordered=kind == "numeric"),
    )
    return row


@dataclass(frozen=True)
class TimeMatchedReference:
    """The reference of the calendar-cumulative features (``reading.load_time_matched``): rows
    (at least those feature columns), the reference in words and its snapshot range."""

    rows: pa.Table
    population: str
    reference_from: datetime | None
    reference_to: datetime | None


@dataclass(frozen=True)
class Populations:
    """What ``compare_populations`` compares, and where it came from.

    reference / current: the sampled rows (at least the feature columns); model_version:
    the model whose reference it is, or ``rules``; reference_population: the reference in
    words; n_current_beyond_reference_age: open leads left out of ``current`` because they
    are older than any reference snapshot; notes: population-level remarks for every row;
    time_matched: the reference of the features in ``DriftConfig.calendar_cumulative_features``
    (None: they are compared with ``reference`` like the others, with a note).
    """

    reference: pa.Table
    current: pa.Table
    model_version: str
    reference_population: str
    reference_from: datetime | None
    reference_to: datetime | None
    n_current_beyond_reference_age: int
    notes: tuple[str, ...] = ()
    time_matched: TimeMatchedReference | None = None


def _reference_of(
    col: str, populations: Populations, config: DriftConfig
) -> tuple[pa.Table, str, datetime | None, datetime | None, str | None]:
    """The rows ``col`` is compared with, the reference in words, its range and a note."""
    main = (
        populations.reference,
        populations.reference_population,
        populations.reference_from,
        populations.reference_to,
    )
    if col not in config.calendar_cumulative_features:
        return (*main, None)
    matched = populations.time_matched
    if matched is None or matched.rows.num_rows == 0:
        note = (
            "calendar-cumulative feature (var calendar_cumulative_features) compared with the "
            "model's reference for want of a time-matched one: its growth with the CRM's "
            "history shows as drift"
        )
        return (*main, note)
    return matched.rows, matched.population, matched.reference_from, matched.reference_to, None


def compare_populations(
    populations: Populations,
    spec: FeatureSpec,
    importance: Mapping[str, float] | None,
    as_of: datetime,
    config: DriftConfig,
) -> pa.Table:
    """One row per feature of ``spec`` (schema ``DRIFT_SCHEMA``), most important first (in
    spec order without importance). The calendar-cumulative features of ``config`` are
    compared with ``populations.time_matched``, the others with ``populations.reference``.
    With no rows on either side every feature is ``no_data``."""
    ref, cur = populations.reference, populations.current
    notes = list(populations.notes)
    if min(ref.num_rows, cur.num_rows) == 0:
        empty = "reference" if ref.num_rows == 0 else "current population"
        notes.append(f"the {empty} has no rows: nothing to compare")
    elif min(ref.num_rows, cur.num_rows) < MIN_STABLE_ROWS:
        notes.append(
            f"fewer than {MIN_STABLE_ROWS} rows on one side ({ref.num_rows} reference, "
            f"{cur.num_rows} current): PSI is noisy (about bins / rows even without drift), "
            "only differences the chi-square test confirms count"
        )
    ranks = _ranks(importance) if importance is not None else {}
    rows = []
    for col in spec.columns:
        kind = spec.kind_of(col)
        col_ref, described, ref_from, ref_to, ref_note = _reference_of(col, populations, config)
        if ref.num_rows and col_ref.num_rows and cur.num_rows:
            row = compare_feature(
                col, kind, _array(col_ref, col), _array(cur, col), config, len(spec.columns)
            )
        else:
            row = {"feature": col, "feature_kind": kind, "status": "no_data"}
        row_notes = [*notes, *filter(None, [ref_note, row.pop("note", None)])]
        row.update(
            importance=importance.get(col) if importance is not None else None,
            importance_rank=ranks.get(col),
            model_version=populations.model_version,
            as_of=as_of,
            reference_population=described,
            reference_from=ref_from,
            reference_to=ref_to,
            is_calendar_cumulative=col in config.calendar_cumulative_features,
            n_reference=col_ref.num_rows,
            n_current=cur.num_rows,
            n_current_beyond_reference_age=populations.n_current_beyond_reference_age,
            notes="; ".join(row_notes) or None,
        )
        rows.append(row)
    if importance is not None:
        rows.sort(key=lambda r: r["importance_rank"])
    return pa.Table.from_pylist(rows, schema=DRIFT_SCHEMA)


def _ranks(importance: Mapping[str, float]) -> dict[str, int]:
    ordered = sorted(importance, key=lambda col: (-importance[col], col))
    return {col: i + 1 for i, col in enumerate(ordered)}


def _array(table: pa.Table, name: str) -> pa.Array:
    if name not in table.column_names:
        raise ValueError(
            f"feature {name} of the model is missing from the compared rows; add it to "
            "lead_features and training_snapshots (NULL is fine) or retrain"
        )
    return table.column(name).combine_chunks()
