"""The model registry: versions, the champion gate, rollback by pinning, the retrain policy,
and the typed ``RegistryEntry`` with THE rule for which model scores as of T
(``scoring_model_of``).

``build_registry`` is what the dbt Python model ``model_registry`` calls. It returns only the
rows that change in this run (new versions and versions whose status changed); the model is
incremental on ``model_version`` with ``full_refresh = false``, so no version is ever lost
(DECISIONS.md "Append-only registry and history").

- Retrain when there is no champion, the champion's data is ``retrain_every_days`` old (data
  time), ``force_retrain``, or the previous run's retrain recommendation; never while
  ``pinned_model_version`` is set (DECISIONS.md "A pin is a rollback").
- The gate: the new model becomes champion only if its ``gate_metric`` is at least the
  champion's on the same test rows the champion never saw, minus ``champion_tolerance``;
  otherwise it is kept as ``rejected`` with the reason (DECISIONS.md "The gate compares on rows
  the champion never saw"). The replaced champion becomes ``retired``.
- Too little data: a row with status ``insufficient_data`` and the reason (no artifact); the
  champion, if any, stays; scoring falls back to the rule score when there is none.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore import metrics as m
from leadscore import populations as pops
from leadscore import settings, sql
from leadscore.config import TrainingConfig
from leadscore.dbt_inputs import resolved_as_of
from leadscore.settings import check_fields, setting_field
from leadscore.training import InsufficientTrainingData, ModelArtifact, train_candidates

STATUSES: tuple[str, ...] = ("champion", "challenger", "rejected", "retired", "insufficient_data")
GATE_METRICS: tuple[str, ...] = settings.setting("champion_gate_metric").choices

TS = pa.timestamp("us")
REGISTRY_SCHEMA = pa.schema(
    [
        ("model_version", pa.string()),
        ("model_type", pa.string()),
        ("candidate", pa.string()),
        ("status", pa.string()),
        ("status_reason", pa.string()),
        ("is_champion", pa.bool_()),
        ("trained_at", TS),
        ("status_changed_at", TS),
        ("data_as_of", TS),
        ("train_from", TS),
        ("train_to", TS),
        ("valid_from", TS),
        ("valid_to", TS),
        ("test_from", TS),
        ("test_to", TS),
        ("n_train_rows", pa.int64()),
        ("n_train_positives", pa.int64()),
        ("n_valid_rows", pa.int64()),
        ("n_valid_positives", pa.int64()),
        ("n_test_rows", pa.int64()),
        ("n_test_positives", pa.int64()),
        ("test_roc_auc", pa.float64()),
        ("test_pr_auc", pa.float64()),
        ("test_log_loss", pa.float64()),
        ("test_brier", pa.float64()),
        ("test_ece", pa.float64()),
        ("test_top_decile_lift", pa.float64()),
        ("compared_with_version", pa.string()),
        ("compared_gate_metric", pa.string()),
        ("new_gate_value", pa.float64()),
        ("champion_gate_value", pa.float64()),
        ("training_seconds", pa.float64()),
        ("params_json", pa.string()),
        ("features_json", pa.string()),
        ("top_features_json", pa.string()),
        ("metrics_json", pa.string()),
        ("metrics_by_source_json", pa.string()),
        ("report_json", pa.string()),
        ("artifact_json", pa.string()),
        ("evaluation_artifact_json", pa.string()),
        ("metrics_by_population_json", pa.string()),
        ("evaluation_population", pa.string()),
        ("n_gate_rows", pa.int64()),
    ]
)
# the gate judges the champion on rows it never saw; with fewer conversions than this among
# them it falls back to every test row (and says that this favours the champion)
MIN_GATE_POSITIVES = 20


@dataclass(frozen=True)
class RegistryPolicy:
    """When to retrain and when a new model may replace the champion (all dbt vars; kinds,
    bounds and defaults in ``leadscore.settings``)."""

    retrain_every_days: int = setting_field("retrain_every_days")
    force_retrain: bool = setting_field("force_retrain")
    pinned_model_version: str | None = setting_field("pinned_model_version")
    champion_tolerance: float = setting_field("champion_tolerance")
    gate_metric: str = setting_field("champion_gate_metric")
    retrain_on_recommendation: bool = setting_field("retrain_on_recommendation")
    min_days_between_retrains: int = setting_field("min_days_between_retrains")

    def __post_init__(self) -> None:
        check_fields(self)

    @classmethod
    def from_vars(cls, mapping: Mapping[str, Any]) -> RegistryPolicy:
        return settings.from_vars(cls, mapping)


# ---------------------------------------------------------------------------------------------
# reading the registry


@dataclass(frozen=True)
class RegistryEntry:
    """One model_registry row as read by everything downstream of the registry, typed once at
    the edge (``entries_of``); the parsed artifacts are built on first use. ``row`` keeps the
    whole row for the writer (update_registry), which returns rows of REGISTRY_SCHEMA."""

    model_version: str
    model_type: str | None
    status: str | None
    status_reason: str | None
    is_champion: bool
    trained_at: datetime | None
    status_changed_at: datetime | None
    data_as_of: datetime | None
    train_from: datetime | None
    train_to: datetime | None
    valid_from: datetime | None
    valid_to: datetime | None
    test_from: datetime | None
    test_to: datetime | None
    artifact_json: str | None = field(default=None, repr=False)
    evaluation_artifact_json: str | None = field(default=None, repr=False)
    row: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RegistryEntry:
        names = [f.name for f in fields(cls) if f.name != "row"]
        return cls(**{name: row.get(name) for name in names}, row=dict(row))

    @property
    def has_artifact(self) -> bool:
        return bool(self.artifact_json)

    @cached_property
    def artifact(self) -> ModelArtifact:
        """The deployed model (refitted on every matured row up to data_as_of)."""
        if not self.artifact_json:
            raise ValueError(f"registry version {self.model_version} has no artifact_json")
        return ModelArtifact.from_json(self.artifact_json)

    @cached_property
    def evaluation_artifact(self) -> ModelArtifact:
        """The fit that scores the version's own valid and test windows out of sample: the
        train-only evaluation fit when the row has one, else the deployed artifact (rows
        written before evaluation_artifact_json existed, when that was the train-only fit)."""
        if self.evaluation_artifact_json:
            return ModelArtifact.from_json(self.evaluation_artifact_json)
        return self.artifact


def entries_of(registry: pa.Table | Sequence[Mapping[str, Any]]) -> list[RegistryEntry]:
    """The registry table (or its rows) as typed entries."""
    rows = registry.to_pylist() if isinstance(registry, pa.Table) else registry
    return [RegistryEntry.from_row(row) for row in rows]


def champion_of(entries: Sequence[RegistryEntry]) -> RegistryEntry | None:
    """The current champion (the latest if, against the rules, there are several)."""
    champions = [e for e in entries if e.is_champion]
    return max(champions, key=lambda e: e.status_changed_at or datetime.min) if champions else None


def scoring_model_of(
    entries: Sequence[RegistryEntry], as_of: datetime
) -> tuple[RegistryEntry | None, str | None]:
    """THE rule for which model scores as of ``as_of``, used by scoring, hold-out predictions
    and drift: the champion, and a note when it is not simply the champion. A model trained on
    data after as_of would score the past with knowledge of the future (a backfill), so then
    the latest former champion (status retired) trained on data up to as_of is used, or none
    (the rule fallback)."""
    champion = champion_of(entries)
    if champion is None:
        return None, None
    if champion.data_as_of <= as_of:
        return champion, None
    earlier = [
        e
        for e in entries
        if e.status == "retired" and e.has_artifact and e.data_as_of and e.data_as_of <= as_of
    ]
    future = (
        f"champion {champion.model_version} was trained on data up to "
        f"{champion.data_as_of:%Y-%m-%d}, after as_of {as_of:%Y-%m-%d}"
    )
    if not earlier:
        return None, f"{future}; no earlier model, scored with the rule score"
    chosen = max(earlier, key=lambda e: (e.data_as_of, e.model_version))
    return chosen, f"{future}; scored with the earlier model {chosen.model_version}"


def retrain_reasons(
    rows: Sequence[Mapping[str, Any]],
    as_of: datetime,
    policy: RegistryPolicy,
    recommendation: Mapping[str, Any] | None = None,
) -> list[str]:
    """Why this run should train a new model; empty means reuse the champion.

    recommendation: the latest row of retrain_recommendation from an earlier run (as_of,
    champion_version, should_retrain, reasons). It counts when it is about the current
    champion, was made at or after the champion's data date, and the newest version of any
    status (a rejected challenger too) is at least min_days_between_retrains old: drift that
    a retrain cannot remove (the newest weeks are never labelled yet) must not train a new
    challenger every day."""
    if policy.pinned_model_version:
        return []
    reasons = []
    if policy.force_retrain:
        reasons.append("force_retrain is true")
    champion = champion_of(entries_of(rows))
    if champion is None:
        reasons.append("no champion yet")
    elif as_of - champion.data_as_of >= timedelta(days=policy.retrain_every_days):
        age = (as_of - champion.data_as_of).days
        reasons.append(
            f"champion {champion.model_version} is {age} days old "
            f"(retrain_every_days = {policy.retrain_every_days})"
        )
    elif (
        policy.retrain_on_recommendation
        and recommendation is not None
        and recommendation["should_retrain"]
        and recommendation["champion_version"] == champion.model_version
        and recommendation["as_of"] >= champion.data_as_of
        and as_of - max(r["data_as_of"] for r in rows)
        >= timedelta(days=policy.min_days_between_retrains)
    ):
        reasons.append(
            f"retrain_recommendation of {recommendation['as_of']:%Y-%m-%d}: "
            f"{recommendation['reasons']}"
        )
    return reasons


def previous_recommendation(con: Any, schema: str, as_of: datetime) -> Mapping[str, Any] | None:
    """The latest row of retrain_recommendation made by an earlier run for an as_of at or
    before ``as_of``, or None (no such table yet, or no row).

    Read from the warehouse directly rather than by ``ref``: retrain_recommendation is built
    from the scores that this registry's champion produces, so a ref would be a cycle. This is
    the one feedback edge that dbt's lineage does not show (DECISIONS.md)."""
    found = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = ? and table_name = 'retrain_recommendation'",
        [schema],
    ).fetchall()
    if not found[0][0]:
        return None
    quoted = sql.identifier(schema, "the registry's schema")
    cursor = con.execute(
        f"select * from {quoted}.retrain_recommendation where as_of <= ? "
        "order by as_of desc, recommended_at desc limit 1",
        [as_of],
    )
    latest = cursor.fetchall()
    if not latest:
        return None
    columns = [d[0] for d in cursor.description]
    return dict(zip(columns, latest[0], strict=True))


def training_rows(
    labelled: duckdb.DuckDBPyRelation, max_rows_per_split: int
) -> tuple[pa.Table, np.ndarray]:
    """What model training reads: the rows of int_labelled_snapshots (every split, and the
    purged rows, which only the refit reads) with split_sample_rank <= ``max_rows_per_split``
    (the view's deterministic hash sample of each split); returns the rows (without
    rule_score and the rank) and the rule scores (NULL → 0)."""
    table = labelled.filter(f"split_sample_rank <= {int(max_rows_per_split)}").to_arrow_table()
    scores = pc.fill_null(table.column("rule_score"), 0).to_numpy(zero_copy_only=False)
    return table.drop_columns(["rule_score", "split_sample_rank"]), np.asarray(
        scores, dtype=np.float64
    )


def build_registry(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    existing: duckdb.DuckDBPyRelation | None,
    params: duckdb.DuckDBPyRelation,
    labelled: duckdb.DuckDBPyRelation,
    settings: Mapping[str, Any],
) -> pa.Table:
    """model_registry: update_registry for the run's as_of with the training and registry
    settings of ``settings`` (the model's leadscore_vars), the capped training rows of
    int_labelled_snapshots (read only when a model is trained), and the previous run's
    retrain recommendation from schema ``schema``."""
    config = TrainingConfig.from_vars(settings)
    as_of = resolved_as_of(params)
    return update_registry(
        None if existing is None else existing.to_arrow_table(),
        lambda: training_rows(labelled, config.max_rows_per_split),
        as_of,
        config,
        RegistryPolicy.from_vars(settings),
        now=datetime.now(UTC).replace(tzinfo=None),
        recommendation=previous_recommendation(con, schema, as_of),
    )


def next_version(rows: Sequence[Mapping[str, Any]], as_of: datetime) -> str:
    """m<NNNN>-<as_of date>: a running number (sortable) plus the data date it saw."""
    return f"m{len(rows) + 1:04d}-{as_of:%Y%m%d}"


# ---------------------------------------------------------------------------------------------
# updating it


def update_registry(
    existing: pa.Table | None,
    load_labelled: Callable[[], tuple[pa.Table, np.ndarray | None]],
    as_of: datetime,
    config: TrainingConfig,
    policy: RegistryPolicy,
    now: datetime,
    log: Any = print,
    recommendation: Mapping[str, Any] | None = None,
) -> pa.Table:
    """Apply the pin, the retrain policy and (when training) the champion gate; return the
    changed rows in REGISTRY_SCHEMA.

    load_labelled: called only when a model is trained; returns the labelled rows of
    training_snapshots (split train/valid/test) and the rule score of each of those rows
    (aligned; None to skip the 'rules' baseline)."""
    rows = [] if existing is None else existing.to_pylist()
    if policy.pinned_model_version:
        return _table(apply_pin(rows, policy.pinned_model_version, now, log))
    reasons = retrain_reasons(rows, as_of, policy, recommendation)
    if not reasons:
        champion = champion_of(entries_of(rows))
        log(f"model_registry: reusing champion {champion.model_version}; no retrain needed")
        return _table([])
    log("model_registry: training because " + "; ".join(reasons))
    version = next_version(rows, as_of)
    labelled, rule_scores = load_labelled()
    splits = {s: _split(labelled, s) for s in ("train", "valid", "test", "purged")}
    baseline = None
    if rule_scores is not None:
        scores = {s: _split_scores(labelled, rule_scores, s) for s in ("valid", "test")}
        baseline = {"rules": (scores["valid"], scores["test"])}
    try:
        report = train_candidates(
            splits["train"], splits["valid"], splits["test"], config, baseline, splits["purged"]
        )
    except InsufficientTrainingData as exc:
        log(f"model_registry: no model trained: {exc.reason}")
        return _table([_insufficient_row(version, exc.reason, as_of, now)])
    log(report.summary())
    new = _trained_row(version, report, as_of, now, "; ".join(reasons))
    champion = champion_of(entries_of(rows))
    if champion is None or not champion.has_artifact:
        _promote(new, "first model" if champion is None else "previous champion had no model", now)
        return _table([new])
    retired = _gate(new, champion, report, splits["test"], config, policy, now, log)
    return _table([new] if retired is None else [new, retired])


def _gate(
    new: dict[str, Any],
    champion: RegistryEntry,
    report: Any,
    test: pa.Table,
    config: TrainingConfig,
    policy: RegistryPolicy,
    now: datetime,
    log: Any,
) -> dict[str, Any] | None:
    """The champion gate: promote ``new`` (and return the retired champion's row) when its
    gate metric on the test rows the champion never saw is at least the champion's minus
    ``champion_tolerance``; else mark it rejected with the reason and return None."""
    gate_rows, rows_note = gate_rows_for(test, champion, config)
    new_value, old_value = _gate_values(
        report.gate_artifact or report.artifact, champion, gate_rows, policy.gate_metric, log
    )
    new.update(
        compared_with_version=champion.model_version,
        compared_gate_metric=policy.gate_metric,
        new_gate_value=new_value,
        champion_gate_value=old_value,
        n_gate_rows=gate_rows.num_rows,
    )

    def compared(relation: str) -> str:
        return (
            f"test {policy.gate_metric} {_fmt(new_value)} {relation} champion "
            f"{champion.model_version} {_fmt(old_value)} on the same {rows_note} "
            f"- tolerance {policy.champion_tolerance}"
        )

    if old_value is None or (
        new_value is not None and new_value >= old_value - policy.champion_tolerance
    ):
        _promote(new, compared(">="), now)
        return _retire(champion.row, f"replaced by {new['model_version']}", now)
    new.update(status="rejected", status_reason=f"{compared('<')}; {new['status_reason']}")
    return None


def apply_pin(
    rows: Sequence[Mapping[str, Any]], pinned: str, now: datetime, log: Any = print
) -> list[dict[str, Any]]:
    """Make `pinned` the champion (the rollback); the others lose the flag."""
    by_version = {r["model_version"]: r for r in rows}
    usable = [v for v, r in by_version.items() if r.get("artifact_json")]
    if pinned not in by_version or not by_version[pinned].get("artifact_json"):
        raise ValueError(
            f"var pinned_model_version is {pinned!r}, which is not a trained version in "
            f"model_registry; use one of {sorted(usable) or '(none trained yet)'} or unset it"
        )
    changed = []
    for version, row in by_version.items():
        if version == pinned and not row["is_champion"]:
            new = dict(row)
            _promote(new, "pinned by var pinned_model_version (rollback)", now, keep_previous=False)
            changed.append(new)
        elif version != pinned and row["is_champion"]:
            changed.append(_retire(row, f"pinned_model_version is {pinned}", now))
    log(f"model_registry: pinned {pinned}; {len(changed)} status change(s)")
    return changed


def gate_rows_for(
    test: pa.Table, champion: RegistryEntry, config: TrainingConfig
) -> tuple[pa.Table, str]:
    """The test rows the gate compares on, and how to name them.

    The champion was refitted on every row matured by its data_as_of, so part of a newer test
    split may be its own training data. The gate keeps the test leads it cannot have seen
    (first snapshot + window after the champion's data_as_of) in the evaluation population
    (var evaluation_population, when those rows hold enough conversions); with fewer than
    MIN_GATE_POSITIVES conversions it uses every test row and says so."""
    masks = pops.population_masks(test)
    y = test.column("is_converted").to_numpy(zero_copy_only=False).astype(np.float64)
    unseen = np.ones(test.num_rows, dtype=bool)
    if champion.data_as_of is not None:
        times = test.column("snapshot_at")
        if "lead_first_snapshot_at" in test.column_names:
            times = test.column("lead_first_snapshot_at")
        first = pc.cast(times, pa.timestamp("us")).to_numpy(zero_copy_only=False)
        cutoff = np.datetime64(champion.data_as_of, "us") - np.timedelta64(
            config.conversion_window_days, "D"
        )
        unseen = first.astype("datetime64[us]") > cutoff
    population, _ = pops.usable_population(
        config.evaluation_population,
        {k: v[unseen] for k, v in masks.items()},
        y[unseen],
        config.min_population_positives,
    )
    keep = unseen & masks[population]
    if y[keep].sum() >= MIN_GATE_POSITIVES and y[keep].sum() < keep.sum():
        return test.filter(pa.array(keep)), f"{population} test rows the champion never saw"
    return test, "test rows (too few unseen by the champion: the comparison favours it)"


def _gate_values(
    new: ModelArtifact,
    champion: RegistryEntry,
    rows: pa.Table,
    metric: str,
    log: Any,
) -> tuple[float | None, float | None]:
    """The gate metric of the new model (refitted before the test window, so out of sample
    on test) and of the champion on the same rows. A champion that cannot score the current
    features counts as None (it is replaced)."""
    y = rows.column("is_converted").to_numpy(zero_copy_only=False).astype(bool)
    score = m.roc_auc if metric == "roc_auc" else m.pr_auc
    new_value = score(y, new.raw_margin(rows))
    try:
        margin = champion.artifact.raw_margin(rows)
    except (KeyError, ValueError) as exc:
        log(f"model_registry: the champion cannot score the current features ({exc})")
        return new_value, None
    return new_value, score(y, margin)


def _promote(row: dict[str, Any], reason: str, now: datetime, keep_previous: bool = True) -> None:
    """Make ``row`` the champion; the new reason goes first and (keep_previous) why it was
    trained stays after it."""
    if keep_previous and row.get("status_reason"):
        reason = f"{reason}; {row['status_reason']}"
    row.update(status="champion", status_reason=reason, is_champion=True, status_changed_at=now)


def _retire(row: Mapping[str, Any], reason: str, now: datetime) -> dict[str, Any]:
    out = dict(row)
    out.update(status="retired", status_reason=reason, is_champion=False, status_changed_at=now)
    return out


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _split(table: pa.Table, split: str) -> pa.Table:
    return table.filter(pc.equal(table.column("split"), split))


def _split_scores(table: pa.Table, scores: np.ndarray, split: str) -> np.ndarray:
    mask = pc.equal(table.column("split"), split).to_numpy(zero_copy_only=False)
    return np.asarray(scores, dtype=np.float64)[mask]


def _empty_row() -> dict[str, Any]:
    return {name: None for name in REGISTRY_SCHEMA.names}


def _insufficient_row(version: str, reason: str, as_of: datetime, now: datetime) -> dict[str, Any]:
    row = _empty_row()
    row.update(
        model_version=version,
        model_type="none",
        status="insufficient_data",
        status_reason=reason + "; scoring uses the champion if there is one, else the rule score",
        is_champion=False,
        trained_at=now,
        status_changed_at=now,
        data_as_of=as_of,
    )
    return row


def _ts(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _trained_row(
    version: str, report: Any, as_of: datetime, now: datetime, reason: str
) -> dict[str, Any]:
    chosen = report.candidate(report.chosen)
    reported = report.reported()
    test = reported["metrics"]
    splits = report.splits
    row = _empty_row()
    row.update(
        model_version=version,
        model_type=chosen["model_type"],
        candidate=report.chosen,
        status="challenger",
        status_reason=f"trained because {reason}",
        is_champion=False,
        trained_at=now,
        status_changed_at=now,
        data_as_of=as_of,
        training_seconds=float(report.total_seconds),
        params_json=json.dumps(chosen["params"], default=str),
        features_json=json.dumps(report.features),
        top_features_json=json.dumps(report.top_features, default=str),
        metrics_json=json.dumps(test, default=str),
        metrics_by_source_json=json.dumps(reported["metrics_by_lead_source"], default=str),
        metrics_by_population_json=json.dumps(reported["metrics_by_population"], default=str),
        evaluation_population=report.population,
        report_json=json.dumps(report.to_dict(), default=str),
        artifact_json=report.artifact.to_json(),
        evaluation_artifact_json=(report.evaluation_artifact or report.artifact).to_json(),
    )
    for split in ("train", "valid", "test"):
        info = splits[split]
        row[f"{split}_from"] = _ts(info.get("min_snapshot_at"))
        row[f"{split}_to"] = _ts(info.get("max_snapshot_at"))
        row[f"n_{split}_rows"] = info["rows"]
        row[f"n_{split}_positives"] = info["positives"]
    for metric in ("roc_auc", "pr_auc", "log_loss", "brier", "ece", "top_decile_lift"):
        row[f"test_{metric}"] = test.get(metric)
    return row


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=REGISTRY_SCHEMA)
