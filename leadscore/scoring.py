"""Scoring open leads: probability, per-lead reasons and notes, with the registry model
that scores as of the run (``registry.scoring_model_of``) or, without one, the rule score.

``predict_leads`` is what the dbt Python model ``lead_predictions`` calls, ``predict_holdout``
what ``holdout_predictions`` calls. Tiers, the 1-100 score and the recommended action are SQL
(``models/marts/lead_scores.sql``): business rules an analyst edits, not model logic.

- Reasons are per *input column* (one-hot values, rare / missing / unknown buckets and the
  missing indicator summed; contributions stay additive on the logit scale): TreeSHAP for
  XGBoost, coefficient x standardised value for logistic regression. A reason names the
  lead's own value, never a model-internal column. Up to ``n_reasons`` ups and downs above
  ``REASON_MIN_LOGIT``; ``reason_details`` keeps feature, value and contribution as JSON.
- Exact TreeSHAP only for the ``exact_reasons_max_leads`` leads with the highest logit, Saabas
  approximations for the rest (DECISIONS.md "Exact reasons for the leads sales will call").
- A categorical value never seen in train is scored as "unknown"; the note names it.
- Rule fallback: a Platt calibration of the rule score on the labelled splits, NULL with fewer
  than ``MIN_FALLBACK_CLASS_ROWS`` conversions or non-conversions (the note says so).
- Hold-out rows: the scoring model's own valid and test windows with its train-only evaluation
  fit (DECISIONS.md "Refit after choosing"); the rule fallback's calibrated on train only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore import settings, sql
from leadscore.dbt_inputs import resolved_as_of
from leadscore.reasons import ReasonLabels, rule_reason
from leadscore.registry import RegistryEntry, entries_of, scoring_model_of
from leadscore.training import Calibrator, ModelArtifact, fit_platt

REASON_MIN_LOGIT = 1e-3
MIN_FALLBACK_CLASS_ROWS = 10
BATCH_ROWS = 50_000
RULES_MODEL = "rules"

PREDICTION_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("as_of", pa.timestamp("us")),
        ("model_version", pa.string()),
        ("model_type", pa.string()),
        ("conversion_probability", pa.float64()),
        ("logit", pa.float64()),
        ("top_reasons", pa.list_(pa.string())),
        ("top_reasons_text", pa.string()),
        ("reason_details", pa.string()),
        ("scoring_notes", pa.string()),
    ]
)


def group_contributions(
    contributions: np.ndarray, sources: Sequence[str]
) -> tuple[np.ndarray, list[str]]:
    """Sum the contribution columns (bias excluded, ``contributions`` has it last) per input
    column. ``sources`` names the input column of each model column; a column's model columns
    are contiguous. Returns [n, n_groups] and the group names."""
    if len(sources) != contributions.shape[1] - 1:
        raise ValueError(
            f"{len(sources)} source names for {contributions.shape[1] - 1} contribution columns"
        )
    groups: list[str] = []
    starts: list[int] = []
    for j, src in enumerate(sources):
        if not groups or groups[-1] != src:
            if src in groups:
                raise ValueError(f"model columns of {src} are not contiguous")
            groups.append(src)
            starts.append(j)
    if not groups:
        return np.zeros((contributions.shape[0], 0)), []
    return np.add.reduceat(contributions[:, :-1], starts, axis=1), groups


def top_indices(grouped: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row the indices of the n largest contributions and of the n most negative ones
    ([rows, n] each; -1 where fewer than n pass ``REASON_MIN_LOGIT``). Ties: lower index."""
    rows, cols = grouped.shape
    if cols == 0 or n == 0:
        empty = np.full((rows, n), -1)
        return empty, empty.copy()
    k = min(n, cols)
    order = np.argsort(-grouped, axis=1, kind="stable")
    up = order[:, :k]
    up_ok = np.take_along_axis(grouped, up, axis=1) > REASON_MIN_LOGIT
    down = np.argsort(grouped, axis=1, kind="stable")[:, :k]
    down_ok = np.take_along_axis(grouped, down, axis=1) < -REASON_MIN_LOGIT
    pad = np.full((rows, n - k), -1)
    return (
        np.hstack([np.where(up_ok, up, -1), pad]),
        np.hstack([np.where(down_ok, down, -1), pad]),
    )


def _json_value(value: Any) -> Any:
    """A feature value as JSON: numbers as numbers (NaN/inf → null), anything else as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float | Decimal):
        number = float(value)
        return number if np.isfinite(number) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _reason_entries(
    idx: np.ndarray,
    row_contrib: np.ndarray,
    groups: list[str],
    values: dict[str, list[Any]],
    row: int,
    labels: ReasonLabels,
) -> list[dict[str, Any]]:
    entries = []
    for g in idx:
        if g < 0:
            continue
        feature = groups[g]
        value = values[feature][row]
        entries.append(
            {
                "feature": feature,
                "value": _json_value(value),
                "contribution": round(float(row_contrib[g]), 6),
                "text": labels.render(feature, value),
            }
        )
    return entries


def _reasons_columns(ups: list[list[dict]], downs: list[list[dict]]) -> dict[str, list[Any]]:
    top, text, details = [], [], []
    for up, down in zip(ups, downs, strict=True):
        items = [f"+ {e['text']}" for e in up] + [f"- {e['text']}" for e in down]
        top.append(items)
        text.append("; ".join(items) if items else None)
        details.append(json.dumps(up + down, allow_nan=False))
    return {"top_reasons": top, "top_reasons_text": text, "reason_details": details}


def _unknown_notes(
    unknown: dict[str, np.ndarray], values: dict[str, list[Any]], n: int, note: str | None
) -> list[str | None]:
    notes: list[list[str]] = [[note] if note else [] for _ in range(n)]
    for col, mask in unknown.items():
        for i in np.flatnonzero(mask):
            notes[i].append(
                f"{col} value {values[col][i]!r} was not seen in training (scored as unknown)"
            )
    return ["; ".join(n_) if n_ else None for n_ in notes]


def parse_exact_reasons_max_leads(value: Any) -> int | None:
    """Var exact_reasons_max_leads as dbt renders it: a whole number >= 0, or null (every
    lead gets exact reasons); checked by the settings table."""
    return settings.validate("exact_reasons_max_leads", value)


def score_with_model(
    features: pa.Table,
    artifact: ModelArtifact,
    model_version: str,
    labels: ReasonLabels,
    n_reasons: int = 3,
    note: str | None = None,
    exact_reasons_max_leads: int | None = None,
    py_rows: Sequence[Mapping[str, Any]] | None = None,
) -> pa.Table:
    """Score every row of ``features`` (lead_features: lead_id, as_of and the feature columns)
    with ``artifact``: calibrated probability, logit, reasons and notes (PREDICTION_SCHEMA);
    ``note`` (why this model) is added to every lead's notes. ``exact_reasons_max_leads``:
    exact TreeSHAP reasons for at most this many rows (the highest logits), approximate ones
    for the rest (XGBoost only; None = exact for all). Rows keep their input order.
    ``py_rows``: the same rows as Python dicts when the caller has them (leadscore serve
    builds them): a small table is then not converted back to Python."""
    n = features.num_rows
    approximate = np.zeros(n, dtype=bool)
    if exact_reasons_max_leads is not None and artifact.uses_trees and n > exact_reasons_max_leads:
        margin = artifact.raw_margin(features)
        # stable: equal logits keep input order, so the cut is deterministic
        ranked = np.argsort(-margin, kind="stable")
        approximate[ranked[exact_reasons_max_leads:]] = True
    approx_note = (
        f"reasons approximated (Saabas): only the {exact_reasons_max_leads or 0:,} leads with "
        "the highest score get exact TreeSHAP reasons (var exact_reasons_max_leads)"
    )
    parts, order = [], []
    for flag in (False, True):
        rows = np.flatnonzero(approximate == flag)
        if rows.size == 0:
            continue
        subset = features.take(pa.array(rows))
        batch_note = "; ".join(x for x in (note, approx_note if flag else None) if x) or None
        for start in range(0, rows.size, BATCH_ROWS):
            parts.append(
                _score_batch(
                    subset.slice(start, BATCH_ROWS),
                    artifact,
                    model_version,
                    labels,
                    n_reasons,
                    batch_note,
                    approximate=flag,
                    py_rows=py_rows if rows.size == n <= BATCH_ROWS else None,
                )
            )
        order.append(rows)
    if not parts:
        return PREDICTION_SCHEMA.empty_table()
    out = pa.concat_tables(parts)
    if len(order) == 1:
        return out
    # back to the input order
    inverse = np.empty(n, dtype=np.int64)
    inverse[np.concatenate(order)] = np.arange(n)
    return out.take(pa.array(inverse))


def _score_batch(
    batch: pa.Table,
    artifact: ModelArtifact,
    model_version: str,
    labels: ReasonLabels,
    n_reasons: int,
    note: str | None,
    approximate: bool = False,
    py_rows: Sequence[Mapping[str, Any]] | None = None,
) -> pa.Table:
    converted = None if py_rows is None else {"rows": list(py_rows)}
    explained = artifact.explain(batch, approximate, converted)
    grouped, groups = group_contributions(explained.contributions, explained.sources)
    up_idx, down_idx = top_indices(grouped, n_reasons)
    needed = set(groups) | set(explained.unknown)
    if py_rows is None:
        values = {col: batch.column(col).to_pylist() for col in needed}
    else:
        values = {col: [row[col] for row in py_rows] for col in needed}
    ups = [
        _reason_entries(up_idx[i], grouped[i], groups, values, i, labels)
        for i in range(batch.num_rows)
    ]
    downs = [
        _reason_entries(down_idx[i], grouped[i], groups, values, i, labels)
        for i in range(batch.num_rows)
    ]
    n = batch.num_rows
    columns = {
        "lead_id": pc.cast(batch.column("lead_id"), pa.string()),
        "as_of": pc.cast(batch.column("as_of"), pa.timestamp("us")),
        "model_version": [model_version] * n,
        "model_type": [artifact.model_type] * n,
        "conversion_probability": explained.prediction.probability,
        "logit": explained.prediction.margin,
        **_reasons_columns(ups, downs),
        "scoring_notes": _unknown_notes(explained.unknown, values, n, note),
    }
    return pa.table(columns, schema=PREDICTION_SCHEMA)


def fit_rule_calibration(rule_score: np.ndarray, converted: np.ndarray) -> Calibrator | None:
    """Platt calibration of the rule score on labelled snapshots, or None when there are
    fewer than MIN_FALLBACK_CLASS_ROWS conversions or non-conversions."""
    y = np.asarray(converted, dtype=np.float64)
    positives = int(y.sum())
    if positives < MIN_FALLBACK_CLASS_ROWS or y.size - positives < MIN_FALLBACK_CLASS_ROWS:
        return None
    return fit_platt(np.asarray(rule_score, dtype=np.float64), y)


LABELLED_SPLITS: tuple[str, ...] = ("train", "valid", "test")


def labelled_rows(labelled: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """The rows of int_labelled_snapshots in a split that is fitted, tuned or judged on
    (train, valid, test; not purged), with their rule_score, as a lazy DuckDB relation."""
    return labelled.filter(f"split in {sql.literal_list(LABELLED_SPLITS)}")


def rule_calibration(labelled: duckdb.DuckDBPyRelation, splits: Sequence[str]) -> Calibrator | None:
    """fit_rule_calibration on the ``splits`` rows of labelled_rows (a missing
    rule score counts as 0)."""
    rows = (
        labelled.filter(f"split in {sql.literal_list(tuple(splits))}")
        .select("coalesce(rule_score, 0) as rule_score, is_converted::int as y")
        .to_arrow_table()
    )
    return fit_rule_calibration(
        rows.column("rule_score").to_numpy(zero_copy_only=False),
        rows.column("y").to_numpy(zero_copy_only=False),
    )


def score_with_rules(
    rule_scores: pa.Table,
    per_lead: pa.Table,
    calibrator: Calibrator | None,
    why: str,
    n_reasons: int = 3,
) -> pa.Table:
    """The fallback: every lead of ``rule_scores`` (lead_id, as_of, rule_score) with the
    calibrated rule score as probability (NULL without a calibrator), the rules that added
    and took the most points (``per_lead``: lead_rule_reasons, lead_id, ups, downs) as
    reasons, and ``why`` (no champion, …) in the notes."""
    reasons = {
        lead: (ups or [], downs or [])
        for lead, ups, downs in zip(
            per_lead.column("lead_id").to_pylist(),
            per_lead.column("ups").to_pylist(),
            per_lead.column("downs").to_pylist(),
            strict=True,
        )
    }
    leads = [str(v) for v in rule_scores.column("lead_id").to_pylist()]
    score = pc.cast(rule_scores.column("rule_score"), pa.float64()).to_numpy(zero_copy_only=False)
    note = why
    if calibrator is None:
        probability = pa.nulls(len(leads), pa.float64())
        note += (
            "; no calibrated probability: fewer than "
            f"{MIN_FALLBACK_CLASS_ROWS} labelled conversions and non-conversions"
        )
    else:
        probability = pa.array(calibrator.apply(score))

    def entries(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "feature": "rule",
                "value": e["description"],
                "contribution": float(e["points"]),
                "text": rule_reason(e["description"], float(e["points"])),
            }
            for e in items[:n_reasons]
        ]

    ups = [entries(reasons.get(lead, ([], []))[0]) for lead in leads]
    downs = [entries(reasons.get(lead, ([], []))[1]) for lead in leads]
    n = len(leads)
    columns = {
        "lead_id": leads,
        "as_of": pc.cast(rule_scores.column("as_of"), pa.timestamp("us")),
        "model_version": [RULES_MODEL] * n,
        "model_type": [RULES_MODEL] * n,
        "conversion_probability": probability,
        "logit": pa.nulls(n, pa.float64()),
        **_reasons_columns(ups, downs),
        "scoring_notes": [note] * n,
    }
    return pa.table(columns, schema=PREDICTION_SCHEMA)


HOLDOUT_SPLITS: tuple[str, ...] = ("valid", "test")
EVALUATION_FIT = (
    "its evaluation fit (evaluation_artifact_json: trained on train, calibrated on valid)"
)
DEPLOYED_FIT = (
    "its deployed artifact (artifact_json: the registry row has no evaluation_artifact_json)"
)

HOLDOUT_PREDICTION_SCHEMA = pa.schema(
    [
        ("model_version", pa.string()),
        ("lead_id", pa.string()),
        ("snapshot_at", pa.timestamp("us")),
        ("is_converted", pa.bool_()),
        ("conversion_probability", pa.float64()),
        ("rule_score", pa.float64()),
        ("evaluated_on", pa.string()),
        ("evaluated_split", pa.string()),
    ]
)


def evaluation_artifact_of(entry: RegistryEntry) -> tuple[ModelArtifact, str]:
    """The artifact that scores a registry model's own valid and test windows
    (``RegistryEntry.evaluation_artifact``) and the words for ``evaluated_on`` that say which
    fit it is: the train-only evaluation fit, or the deployed artifact_json of registries
    written before evaluation_artifact_json existed (which was then the train-only fit); the
    deployed fit of newer rows is refitted on valid and test too (DECISIONS.md)."""
    fit = EVALUATION_FIT if entry.evaluation_artifact_json else DEPLOYED_FIT
    return entry.evaluation_artifact, fit


def _model_windows(
    labelled: duckdb.DuckDBPyRelation, entry: RegistryEntry
) -> dict[str, tuple[duckdb.DuckDBPyRelation, str]]:
    """The snapshots of the registry row's own valid and test windows ({split}_from ..
    {split}_to, of leads whose first snapshot is in the window) with their description; the
    current valid and test splits, both, when either window has no snapshot left in
    training_snapshots (a changed grid), so the two never overlap."""
    current = {
        split: (
            labelled.filter(f"split = {sql.literal(split)}"),
            f"the current {split} split (the model's windows have no snapshots left)",
        )
        for split in HOLDOUT_SPLITS
    }
    windows = {}
    for split in HOLDOUT_SPLITS:
        start, end = getattr(entry, f"{split}_from"), getattr(entry, f"{split}_to")
        if start is None or end is None:
            return current
        window = labelled.filter(f"snapshot_at between {sql.literal(start)} and {sql.literal(end)}")
        if "lead_first_snapshot_at" in labelled.columns:
            # lead-disjoint like the splits: a lead first seen before the window was one of
            # the model's training leads (or purged), whatever today's split calls it
            window = window.filter(f"lead_first_snapshot_at >= {sql.literal(start)}")
        if not window.limit(1).to_arrow_table().num_rows:
            return current
        windows[split] = (window, f"the model's {split} window")
    return windows


def holdout_predictions(
    labelled: duckdb.DuckDBPyRelation,
    registry: Sequence[RegistryEntry],
    as_of: datetime,
    max_rows: int,
) -> pa.Table:
    """The rows behind score_thresholds: the probabilities of the model that scores leads as
    of ``as_of`` (scoring_model_of) on labelled hold-out snapshots (labelled_rows),
    ``evaluated_split`` 'valid' (where the operating threshold is chosen) and 'test' (where
    it is reported), at most ``max_rows`` of each (hash sample). A registry model is scored
    on its own valid and test windows with evaluation_artifact_of(row); the rule fallback on
    the current valid and test splits, the rule score calibrated on train only."""
    entry, _ = scoring_model_of(registry, as_of)
    if entry is None:
        calibrator = rule_calibration(labelled, ("train",))
        fit = "the rule score calibrated on train"
        version, artifact = RULES_MODEL, None
        windows = {
            s: (labelled.filter(f"split = {sql.literal(s)}"), f"the current {s} split")
            for s in HOLDOUT_SPLITS
        }
    else:
        artifact, fit = evaluation_artifact_of(entry)
        version, calibrator = entry.model_version, None
        windows = _model_windows(labelled, entry)
    parts = [
        holdout_probabilities(
            window.order("hash(lead_id, snapshot_at)").limit(max_rows).to_arrow_table(),
            version,
            f"{where} with {fit}",
            artifact=artifact,
            calibrator=calibrator,
            evaluated_split=split,
        )
        for split, (window, where) in windows.items()
    ]
    return pa.concat_tables(parts)


def holdout_probabilities(
    rows: pa.Table,
    model_version: str,
    evaluated_on: str,
    artifact: ModelArtifact | None = None,
    calibrator: Calibrator | None = None,
    evaluated_split: str = "test",
) -> pa.Table:
    """Probabilities of labelled hold-out snapshots (training_snapshots rows plus rule_score):
    from ``artifact`` when given, else the rule score through ``calibrator`` (NULL when there
    is none) (HOLDOUT_PREDICTION_SCHEMA)."""
    rule = pc.cast(rows.column("rule_score"), pa.float64())
    if artifact is not None and rows.num_rows:
        probability = pa.array(artifact.predict_proba(rows), pa.float64())
    elif calibrator is not None:
        probability = pa.array(
            calibrator.apply(rule.fill_null(0).to_numpy(zero_copy_only=False)), pa.float64()
        )
    else:
        probability = pa.nulls(rows.num_rows, pa.float64())
    n = rows.num_rows
    return pa.table(
        {
            "model_version": [model_version] * n,
            "lead_id": pc.cast(rows.column("lead_id"), pa.string()),
            "snapshot_at": pc.cast(rows.column("snapshot_at"), pa.timestamp("us")),
            "is_converted": pc.cast(rows.column("is_converted"), pa.bool_()),
            "conversion_probability": probability,
            "rule_score": rule,
            "evaluated_on": [evaluated_on] * n,
            "evaluated_split": [evaluated_split] * n,
        },
        schema=HOLDOUT_PREDICTION_SCHEMA,
    )


# ---------------------------------------------------------------------------------------------
# what the dbt Python models call


def no_model_note(entries: Sequence[RegistryEntry]) -> str:
    """Why leads are scored with the rule score when the registry has no champion: the
    latest version's reason (too little data, rejected ...) when there is one."""
    note = "no champion model in model_registry, scored with the rule score"
    latest = max(entries, key=lambda e: e.trained_at or datetime.min, default=None)
    if latest and latest.status_reason:
        note += f" (latest version {latest.model_version}: {latest.status_reason})"
    return note


def predict_leads(
    params: duckdb.DuckDBPyRelation,
    features: duckdb.DuckDBPyRelation,
    registry: duckdb.DuckDBPyRelation,
    feature_labels: duckdb.DuckDBPyRelation,
    rule_reasons: duckdb.DuckDBPyRelation,
    labelled: duckdb.DuckDBPyRelation,
    model_vars: Mapping[str, Any],
) -> pa.Table:
    """lead_predictions: every lead of lead_features scored by the registry model that
    scores as of the run's as_of (scoring_model_of), or, without one, by the rule score
    (lead_rule_reasons: rule scores and reasons) calibrated on the labelled splits, with
    the note that says why (PREDICTION_SCHEMA).
    model_vars: the model's leadscore_vars (n_reasons, exact_reasons_max_leads)."""
    n_reasons = settings.validate("n_reasons", model_vars["n_reasons"])
    entries = entries_of(registry.to_arrow_table())
    chosen, note = scoring_model_of(entries, resolved_as_of(params))
    if chosen is not None:
        return score_with_model(
            features.to_arrow_table(),
            chosen.artifact,
            chosen.model_version,
            ReasonLabels.from_rows(feature_labels.to_arrow_table().to_pylist()),
            n_reasons,
            note,
            exact_reasons_max_leads=parse_exact_reasons_max_leads(
                model_vars["exact_reasons_max_leads"]
            ),
        )
    return score_with_rules(
        rule_reasons.select("lead_id, as_of, rule_score").to_arrow_table(),
        rule_reasons.select("lead_id, ups, downs").to_arrow_table(),
        rule_calibration(labelled_rows(labelled), LABELLED_SPLITS),
        why=note or no_model_note(entries),
        n_reasons=n_reasons,
    )


def predict_holdout(
    params: duckdb.DuckDBPyRelation,
    registry: duckdb.DuckDBPyRelation,
    labelled: duckdb.DuckDBPyRelation,
    max_rows_per_split: Any,
) -> pa.Table:
    """holdout_predictions for the run's as_of, from int_labelled_snapshots."""
    return holdout_predictions(
        labelled_rows(labelled),
        entries_of(registry.to_arrow_table()),
        resolved_as_of(params),
        settings.validate("max_rows_per_split", max_rows_per_split),
    )
