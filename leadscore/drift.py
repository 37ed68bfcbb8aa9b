"""Feature drift: today's scoring population against the scoring model's training reference.

``feature_drift`` is what the dbt Python model ``feature_drift`` calls; everything below it
is a pure function on numpy arrays and pyarrow tables.

Decisions
- Which model: the one that scores leads at as_of (``registry.scoring_model_of``: the champion; in a
  backfill the earlier model ``lead_predictions`` uses), so the drift read next to the scores
  is the drift of the model that made them. Its input columns (``feature_spec``) are the rows,
  and each row carries the column's share of that model's importance (``importance_shares``).
- The reference: the *grid* snapshots of ``training_snapshots`` in the model's train window
  (``snapshot_at`` between ``train_from`` and ``train_to``; that window was its train split,
  whatever split a later run gives those rows), a hash sample of ``drift_reference_rows``.
- The current population: the open leads of ``lead_features`` *no older than the oldest
  reference snapshot*. The training spine holds each lead's first ``max_snapshots_per_lead``
  grid points (about 13 weeks), while today's open leads include every lead never converted
  or disqualified: on the demo (20,000 leads, seed 42, as_of 2026-10-01) 9,622 of 12,712 open
  leads are older than 91 days. Compared as they are, lead_age_days (PSI 2.4), every recency
  feature and every windowed count alert on every run (20 alert and 11 watch of 67 features,
  among them the first and fifth most important) — an alarm that retraining cannot clear,
  since the next model's training population has the same shape. Restricted to the leads in
  the reference's age range the comparison is like with like, "leads in their first weeks
  then and now", and a change in the intake (a new source, a tracking change) shows first
  and undiluted by the stale backlog. The leads left out are counted
  (``n_current_beyond_reference_age``) and named in ``notes``: the model scores them by
  extrapolation, a property of the snapshot design, not drift.
- Measured and rejected: the champion's test-window snapshots (same shape as train: 17
  alerts); keeping the ``first`` snapshots (one hour after creation, a tenth of the spine:
  lead_age_days alerts at PSI 0.73 because hardly any lead is an hour old at as_of); the
  population scored at the champion's own as_of (``lead_score_history`` keeps scores, not
  features).
- Calendar-cumulative features (var ``calendar_cumulative_features``: n_prior_won_deals_domain
  and prior_won_amount_domain, the won deals of the lead's e-mail domain before T) are running
  totals over the CRM's history, not the lead's: they grow with calendar time even when
  nothing changes. Against the train window, months older, they alerted on undrifted demo
  data (PSI 0.32: the share of leads whose domain already has a won deal is 5 % in the train
  window and 24 % now, because the generated history starts 18 months before as_of). So they
  get a time-matched reference (``load_time_matched``): the grid snapshots of the
  ``drift_calendar_reference_days`` (28) days before as_of minus the reference age (the
  oldest lead age compared, about 91 days), of leads no older than that age. They are the
  latest snapshots that share no lead with today's compared population (created after that
  date): "leads in their first weeks a generation ago and now", about 3.5 months apart
  instead of a year. On the demo without drift they give PSI 0.029 and 0.021 (ok); a change
  of the intake (a campaign to existing customers' colleagues, a broken e-mail capture) still
  shows, against that reference. Measured and rejected: dividing by a time-matched quantity
  (the CRM's won deals before T: PSI 0.55, since the share of zeros is what moves and no
  scaling moves a zero); the model's test window (PSI 0.035 on a new model, but growing with
  the model's age); the snapshots of the last 28 days before as_of (PSI 0.001, but they are
  largely today's leads a few weeks earlier, so a lasting change is absorbed within weeks:
  7 days gave PSI 0.0000 by comparing leads with themselves). The rows say which reference
  they used (``reference_population``, ``is_calendar_cumulative``); without one (a CRM
  younger than the window) the feature is compared with the model's reference and a note
  says its growth shows as drift. A user's own attribute of that kind (an account's orders
  to date) belongs in the var.
- On the demo data without injected drift this gives 67 ok of 67 features (before the
  time-matched reference: 65 ok and 2 alert, the two features above at PSI 0.32). The largest
  PSI among the ten most important features is 0.007. With the generator's injected drift
  (``--drift-after 2026-07-01``: a new source, a tracking change, a conversion shift)
  lead_source alerts (PSI 2.0, top bin tiktok_ads, 17 % of the importance), as do the
  e-mail-open counts and email_click_through_rate.
- No model (rule fallback): the grid snapshots of the current train split against the
  features training would use (``FeatureSpec.from_schema`` minus ``exclude_features``),
  importance NULL, model_version ``rules``: a broken source matters to the rules too. The
  same fallback, with a note, when the model's train window is gone from
  ``training_snapshots`` (older than ``snapshot_history_days``).
- Statistics. PSI = sum over bins of (c - r) ln(c / r), the shares floored at
  ``drift_psi_floor``. Numeric: ``drift_n_bins`` bins on the reference's quantiles (inverted
  CDF, so edges are reference values and ties collapse bins), open-ended at both ends;
  categorical and boolean: a bin per value, values unseen in the reference each their own;
  NULL (and NaN) is a bin of its own. Status: ok below ``drift_psi_watch``, watch
  below ``drift_psi_alert``, alert above; no_data when one side has no rows. The size of the
  drift is PSI's alone: with thousands of rows p-values are tiny for harmless differences
  (demo: lead_age_days KS p = 0.002 at PSI 0.007), so KS (numeric, non-NULL values) is
  reported for reading only. But sampling noise alone gives a PSI of about
  (bins - 1) x (1/n_ref + 1/n_cur): on a 600-lead CRM (87 comparable open leads) PSI alone
  put 3 features in alert and 16 in watch. So a status above ok also needs the chi-square test
  of the same bins (tiny bins pooled) to reject "same distribution", at ``drift_max_p_value``
  (0.01) divided by the number of features (Bonferroni: noise alone flags any feature of a
  run with a chance of at most 1 %); that left 0 alert and 3 watch on that CRM (the two
  cumulative won-deal features above, p = 4e-17, before their time-matched reference, and
  seniority_x_engagement, p = 9e-6). At demo size every PSI above 0.1 passes the test
  easily, so the status is PSI's there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from leadscore import settings
from leadscore.dbt_inputs import resolved_as_of
from leadscore.preprocess import FeatureSpec
from leadscore.registry import RegistryEntry, entries_of, scoring_model_of
from leadscore.scoring import RULES_MODEL
from leadscore.settings import check_fields, setting_field
from leadscore.training import ModelArtifact

AGE_COLUMN = "lead_age_days"
NULL_BIN = "(null)"
# categories whose expected count is below this in either population are pooled into one
# column before the chi-square test (Cochran's rule of thumb)
CHI2_MIN_EXPECTED = 5.0
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


# ---------------------------------------------------------------------------------------------
# configuration


@dataclass(frozen=True)
class DriftConfig:
    """Knobs of the drift comparison; each field is the dbt var named in its
    ``setting_field`` (kinds, bounds and defaults in ``leadscore.settings``).

    Attributes:
        psi_watch: PSI at or above this → status ``watch``.
        psi_alert: PSI at or above this → status ``alert`` (must be above psi_watch).
        n_bins: reference-quantile bins of a numeric feature (fewer when quantiles tie).
        psi_floor: share given to a bin that is empty in one population, so PSI stays
            finite (a bin empty in the reference and holding 1 % of today's rows adds
            about 0.046 with the default 1e-4).
        max_p_value: a PSI above a threshold counts only when the chi-square test on the
            same bins has a p-value below this divided by the number of features compared
            (the chance that noise alone flags any feature of a run); otherwise, or with
            too few rows for the test, the difference is sampling noise and the status ok.
        reference_rows: at most this many rows of each population are compared (a
            deterministic hash sample in DuckDB, so memory stays bounded).
        exclude_features: the training var of the same name; only used without a model,
            when the compared features are those training would use.
        calendar_cumulative_features: features that accumulate with calendar time (running
            totals over the CRM's history, not the lead's own): compared with the
            time-matched reference instead of the model's (see the module docstring).
        calendar_reference_days: days of grid snapshots in the time-matched reference.
    """

    psi_watch: float = setting_field("drift_psi_watch")
    psi_alert: float = setting_field("drift_psi_alert")
    n_bins: int = setting_field("drift_n_bins")
    psi_floor: float = setting_field("drift_psi_floor")
    max_p_value: float = setting_field("drift_max_p_value")
    reference_rows: int = setting_field("drift_reference_rows")
    exclude_features: tuple[str, ...] = setting_field("exclude_features")
    calendar_cumulative_features: tuple[str, ...] = setting_field("calendar_cumulative_features")
    calendar_reference_days: int = setting_field("drift_calendar_reference_days")

    def __post_init__(self) -> None:
        check_fields(self)
        if not 0 < self.psi_watch < self.psi_alert:
            raise ValueError(
                f"vars drift_psi_watch ({self.psi_watch}) and drift_psi_alert "
                f"({self.psi_alert}) must satisfy 0 < drift_psi_watch < drift_psi_alert; "
                "set them in dbt_project.yml vars or with "
                "--vars '{drift_psi_watch: 0.1, drift_psi_alert: 0.25}'"
            )

    @classmethod
    def from_vars(cls, mapping: Mapping[str, Any]) -> DriftConfig:
        """Build from dbt vars (keys are the var names, ``vars_of(DriftConfig)``; other keys
        are ignored, a missing or null value keeps the default). Raises ValueError naming the
        var and the fix."""
        return settings.from_vars(cls, mapping)


# ---------------------------------------------------------------------------------------------
# binning


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


# ---------------------------------------------------------------------------------------------
# statistics


def psi_contributions(
    reference_counts: np.ndarray, current_counts: np.ndarray, floor: float
) -> np.ndarray:
    """Per bin (c - r) · ln(c / r) of the shares r (reference) and c (current), each share
    raised to at least ``floor`` so an empty bin gives a large but finite term."""
    r = np.maximum(reference_counts / reference_counts.sum(), floor)
    c = np.maximum(current_counts / current_counts.sum(), floor)
    return (c - r) * np.log(c / r)


def psi(reference_counts: np.ndarray, current_counts: np.ndarray, floor: float) -> float:
    """Population stability index of two binned samples (0 = identical shares)."""
    return float(psi_contributions(reference_counts, current_counts, floor).sum())


def ks_test(reference: np.ndarray, current: np.ndarray) -> tuple[float, float] | None:
    """Two-sample Kolmogorov-Smirnov statistic and p-value on the non-NaN values; None when
    either side has none."""
    ref = reference[~np.isnan(reference)]
    cur = current[~np.isnan(current)]
    if ref.size == 0 or cur.size == 0:
        return None
    result = stats.ks_2samp(ref, cur)
    return float(result.statistic), float(result.pvalue)


def chi_square(bins: Bins) -> tuple[float, float, int] | None:
    """Chi-square test of the 2 x k contingency table (reference, current) x bins. Bins
    empty on both sides are dropped, those whose expected count is below
    ``CHI2_MIN_EXPECTED`` in either population are pooled into one; None when fewer than two
    bins remain (nothing to test)."""
    table = np.vstack([bins.reference, bins.current]).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    totals = table.sum(axis=0)
    expected_min = totals * table.sum(axis=1).min() / table.sum()
    small = expected_min < CHI2_MIN_EXPECTED
    pooled = table[:, ~small]
    if small.any():
        pooled = np.column_stack([pooled, table[:, small].sum(axis=1)])
    if pooled.shape[1] < 2:
        return None
    result = stats.chi2_contingency(pooled)
    return float(result.statistic), float(result.pvalue), int(result.dof)


def drift_status(
    value: float | None, p_value: float | None, config: DriftConfig, n_features: int = 1
) -> str:
    """ok / watch / alert from the PSI thresholds, but ok when the chi-square test of the
    same bins does not confirm the difference (p-value at least ``max_p_value /
    n_features``, or too few rows for a test: None); no_data without a PSI."""
    if value is None:
        return "no_data"
    if p_value is None or p_value >= config.max_p_value / n_features:
        return "ok"
    if value >= config.psi_alert:
        return "alert"
    return "watch" if value >= config.psi_watch else "ok"


def importance_shares(artifact: ModelArtifact) -> dict[str, float]:
    """The model's importance (|coef| on the standardised scale for LR, total gain for
    XGBoost) summed per input column (a category's one-hot columns and missing indicators
    count as one) and normalised to shares summing to 1 (all 0 when nothing is used)."""
    raw = artifact.feature_importance()
    totals = dict.fromkeys(artifact.feature_spec.columns, 0.0)
    names = artifact.feature_names
    for name, source in zip(names, artifact.source_columns(), strict=True):
        totals[source] += raw.get(name, 0.0)
    total = sum(totals.values())
    return {col: value / total if total > 0 else 0.0 for col, value in totals.items()}


# ---------------------------------------------------------------------------------------------
# one feature, all features


def _as_float(arr: pa.Array) -> np.ndarray:
    out = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


def _as_text(arr: pa.Array) -> pa.Array:
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    return pc.cast(arr, pa.string())


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
    """The reference of the calendar-cumulative features (see the module docstring): rows
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


# ---------------------------------------------------------------------------------------------
# reading the populations from the warehouse (the dbt model's entry point)


def _quoted(columns: Sequence[str]) -> str:
    return ", ".join('"' + c.replace('"', '""') + '"' for c in columns)


def load_populations(
    features: duckdb.DuckDBPyRelation,
    snapshots: duckdb.DuckDBPyRelation,
    model: RegistryEntry | None,
    columns: Sequence[str],
    config: DriftConfig,
    as_of: datetime,
) -> Populations:
    """The reference and current rows (see the module docstring for why these), each a
    deterministic hash sample of at most ``config.reference_rows`` rows taken in DuckDB, and
    the time-matched reference of the calendar-cumulative features among ``columns``."""
    grid = snapshots.filter("snapshot_kind = 'grid'")
    current_train = grid.filter("split = 'train'")
    notes: list[str] = []
    if model is None:
        version = RULES_MODEL
        reference = current_train
        described = "grid snapshots of the current train split (no model: rule fallback)"
    else:
        version = model.model_version
        window = f"'{model.train_from}' and '{model.train_to}'"
        reference = grid.filter(f"snapshot_at between {window}")
        described = f"grid snapshots of {version}'s train window"
        if not reference.limit(1).to_arrow_table().num_rows:
            notes.append(
                f"{version}'s train window is no longer in training_snapshots "
                "(snapshot_history_days): compared with the current train split"
            )
            reference = current_train
            described = "grid snapshots of the current train split"
    bounds = reference.aggregate(
        f"min(snapshot_at) as lo, max(snapshot_at) as hi, max({AGE_COLUMN}) as max_age"
    ).to_arrow_table()
    lo, hi, max_age = (bounds.column(i)[0].as_py() for i in range(3))
    comparable = features if max_age is None else features.filter(f"{AGE_COLUMN} <= {max_age}")
    n_beyond = 0
    if max_age is not None:
        counted = features.aggregate(f"count(*) filter (where {AGE_COLUMN} > {max_age}) as n")
        n_beyond = int(counted.to_arrow_table().column("n")[0].as_py())
    if n_beyond:
        notes.append(
            f"{n_beyond} open leads older than the oldest reference snapshot "
            f"({max_age:.0f} days) are not compared (see n_current_beyond_reference_age)"
        )
    keep = _quoted(columns)
    calendar = [c for c in columns if c in config.calendar_cumulative_features]
    return Populations(
        reference=reference.order("hash(lead_id, snapshot_at)")
        .limit(config.reference_rows)
        .select(keep)
        .to_arrow_table(),
        current=comparable.order("hash(lead_id)")
        .limit(config.reference_rows)
        .select(keep)
        .to_arrow_table(),
        model_version=version,
        reference_population=described,
        reference_from=lo,
        reference_to=hi,
        n_current_beyond_reference_age=n_beyond,
        notes=tuple(notes),
        time_matched=(
            None
            if max_age is None or not calendar
            else load_time_matched(grid, calendar, as_of, max_age, config)
        ),
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
        f"snapshot_at >= '{lo}' and snapshot_at < '{hi}' and {AGE_COLUMN} <= {max_age}"
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


def feature_drift(
    features: duckdb.DuckDBPyRelation,
    snapshots: duckdb.DuckDBPyRelation,
    registry: Sequence[RegistryEntry],
    as_of: datetime,
    config: DriftConfig,
) -> pa.Table:
    """Drift of every input feature of the model that scores leads at ``as_of`` (the
    champion; ``leadscore.registry.scoring_model_of``), with its importance; without one, of
    the features training would use, importance NULL."""
    model, _ = scoring_model_of(registry, as_of)
    if model is None:
        schema = features.limit(0).to_arrow_table().schema
        spec = FeatureSpec.from_schema(schema, exclude=config.exclude_features)
        importance = None
    else:
        artifact = model.artifact
        spec = artifact.feature_spec
        importance = importance_shares(artifact)
    populations = load_populations(features, snapshots, model, spec.columns, config, as_of)
    return compare_populations(populations, spec, importance, as_of, config)


def drift_of_run(
    params: duckdb.DuckDBPyRelation,
    registry: duckdb.DuckDBPyRelation,
    features: duckdb.DuckDBPyRelation,
    snapshots: duckdb.DuckDBPyRelation,
    settings: Mapping[str, Any],
) -> pa.Table:
    """feature_drift: feature_drift for the run's as_of with the model's drift_vars."""
    entries = entries_of(registry.to_arrow_table())
    config = DriftConfig.from_vars(settings)
    return feature_drift(features, snapshots, entries, resolved_as_of(params), config)
