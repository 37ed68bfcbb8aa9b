"""The loaded serving bundle (leadscore/serve/export.py writes it): memory-mapped Arrow tables
of the open leads, their activities and their domains' won deals, the scoring model and what
tiers, rules and reasons need, and the events received since the build (``overlay``).

Nothing here reads the DuckDB file. Lookups go through the tables' key-hash columns
(``keys.rows_of``), so the state costs its files' size in memory (mapped pages) plus the
received events; ``make bench`` measures it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from leadscore.reasons import ReasonLabels
from leadscore.serve.config import CURRENT_FILE, FORMAT_VERSION, ONLINE_DIR, OnlineSettings
from leadscore.serve.enrich import LeadEnricher
from leadscore.serve.features import Activities, DomainWins, FeatureBuilder
from leadscore.serve.keys import rows_of
from leadscore.serve.rules import RuleScorer, feature_kind
from leadscore.training import Calibrator, ModelArtifact


class BundleError(RuntimeError):
    """The export folder holds no usable bundle; the message says what to run."""


def _mapped(path: Path) -> pa.Table:
    return pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all()


def _numpy(table: pa.Table, column: str, dtype: str) -> np.ndarray:
    """A zero-copy view of one column (one chunk, no nulls: how export.py writes them)."""
    chunks = table.column(column).chunks
    if not chunks:
        return np.zeros(0, dtype=dtype)
    return chunks[0].to_numpy(zero_copy_only=False).view(dtype)


def current_version(export_dir: Path) -> str:
    path = Path(export_dir) / ONLINE_DIR / CURRENT_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError as err:
        raise BundleError(
            f"no serving bundle in {path.parent} (no {CURRENT_FILE} file): run the build first "
            "(make build, or leadscore build), or point --exports / LEADSCORE_EXPORT_DIR at "
            "the folder it exported to"
        ) from err


@dataclass
class Bundle:
    """One exported bundle, loaded. ``overlay``: lead row → the events received for it since
    (time µs, type code, activity_id), appended by ``POST /events``; the activity_ids of the
    events logged for leads the state does not hold (so a repeat is not logged twice)."""

    version: str
    folder: Path
    meta: Mapping[str, Any]
    online: OnlineSettings
    leads: pa.Table
    lead_hashes: np.ndarray
    activities: pa.Table
    act_times: np.ndarray
    act_codes: np.ndarray
    wins: pa.Table
    win_hashes: np.ndarray
    features: FeatureBuilder
    feature_schema: pa.Schema
    enricher: LeadEnricher
    rules: RuleScorer
    labels: ReasonLabels
    artifact: ModelArtifact | None
    rule_calibrator: Calibrator | None
    deal_values: dict[str, float]
    actions: dict[tuple[str, str], str]
    fallback_tiers: dict[str, str]
    model_features: list[str] = field(default_factory=list)
    overlay: dict[int, list[tuple[int, int, str]]] = field(default_factory=dict)
    unknown_lead_event_ids: set[str] = field(default_factory=set)

    @property
    def as_of(self) -> datetime:
        return datetime.fromisoformat(self.meta["as_of"])

    @property
    def model(self) -> Mapping[str, Any]:
        return self.meta["model"]

    @property
    def attributes(self) -> tuple[str, ...]:
        names = (*self.online.lead_categorical_attributes, *self.online.lead_numeric_attributes)
        return tuple(n.lower() for n in names)

    def lead_row(self, lead_id: str) -> int | None:
        rows = rows_of(self.lead_hashes, self.leads.column("lead_id"), lead_id)
        return rows.start if rows else None

    def lead(self, row: int) -> dict[str, Any]:
        return self.leads.slice(row, 1).to_pylist()[0]

    def leads_of(self, rows: Sequence[int]) -> list[dict[str, Any]]:
        """The leads of ``rows``, in one take (a slice per lead costs 60 µs)."""
        if not rows:
            return []
        return self.leads.take(pa.array(rows, pa.int64())).to_pylist()

    def activities_of(self, row: int) -> tuple[Activities, list[str]]:
        """The lead's activities (state and overlay) and their ids."""
        start, end = (self.leads.column(c)[row].as_py() for c in ("act_start", "act_end"))
        ids = self.activities.column("activity_id").slice(start, end - start).to_pylist()
        extra = self.overlay.get(row, [])
        times = self.act_times[start:end]
        codes = self.act_codes[start:end]
        if extra:
            times = np.concatenate([times, np.array([e[0] for e in extra], np.int64)])
            codes = np.concatenate([codes, np.array([e[1] for e in extra], np.int8)])
            ids = ids + [e[2] for e in extra]
        return Activities(times, codes), ids

    def feature_row(self, row: int, as_of: datetime) -> dict[str, Any]:
        """The lead_features row of state lead ``row`` as of ``as_of``."""
        lead = self.lead(row)
        acts = self.activities_of(row)[0]
        return self.features.row(
            lead, acts, self.wins_of(lead["email_domain"]), as_of, self.attributes
        )

    def wins_of(self, email_domain: str | None) -> DomainWins:
        rows = (
            rows_of(self.win_hashes, self.wins.column("email_domain"), email_domain)
            if email_domain
            else range(0)
        )
        part = self.wins.slice(rows.start, len(rows))
        return DomainWins(
            closed=_numpy(part, "closed_at", "int64") if len(rows) else np.zeros(0, np.int64),
            n_won=part.column("cum_n_won").to_numpy() if len(rows) else np.zeros(0),
            amount=part.column("cum_won_amount").to_numpy() if len(rows) else np.zeros(0),
        )


def load_bundle(export_dir: Path, version: str | None = None) -> Bundle:
    """The bundle CURRENT names (or ``version``) under export_dir/online/."""
    version = version or current_version(export_dir)
    folder = Path(export_dir) / ONLINE_DIR / version
    try:
        meta = json.loads((folder / "bundle.json").read_text())
    except (OSError, ValueError) as err:
        raise BundleError(f"cannot read {folder / 'bundle.json'} ({err}); rebuild") from err
    if meta.get("format_version") != FORMAT_VERSION:
        raise BundleError(
            f"{folder} is bundle format {meta.get('format_version')}, this leadscore reads "
            f"{FORMAT_VERSION}: rebuild with this version (make build)"
        )
    online = OnlineSettings.from_vars(meta["settings"])
    leads = _mapped(folder / "leads.arrow")
    activities = _mapped(folder / "activities.arrow")
    wins = _mapped(folder / "domain_wins.arrow")
    schema = _mapped(folder / "features.arrow").schema
    seeds = meta["seeds"]
    model = meta["model"]
    kinds = {f.name: feature_kind(str(_duck_type(f.type))) for f in schema}
    artifact = ModelArtifact.from_dict(model["artifact"]) if model["artifact"] else None
    if artifact is not None:
        _one_thread(artifact)
    return Bundle(
        version=version,
        folder=folder,
        meta=meta,
        online=online,
        leads=leads,
        lead_hashes=_numpy(leads, "key_hash", "uint64"),
        activities=activities,
        act_times=_numpy(activities, "occurred_at", "int64"),
        act_codes=_numpy(activities, "type_code", "int8"),
        wins=wins,
        win_hashes=_numpy(wins, "key_hash", "uint64"),
        features=FeatureBuilder(online, schema.names),
        feature_schema=schema,
        enricher=LeadEnricher(
            seeds,
            online.lead_categorical_attributes,
            online.lead_numeric_attributes,
            placeholder_values=online.placeholder_values,
            case_insensitive_ids=online.case_insensitive_ids,
        ),
        rules=RuleScorer(
            seeds["scoring_rules"],
            seeds["rule_grades"],
            kinds,
            base_score=online.rule_base_score,
            score_min=online.rule_score_min,
            score_max=online.rule_score_max,
        ),
        labels=ReasonLabels.from_rows(meta["feature_labels"]),
        artifact=artifact,
        model_features=list(dict.fromkeys(artifact.source_columns())) if artifact else [],
        rule_calibrator=(
            Calibrator.from_dict(model["rule_calibration"]) if model["rule_calibration"] else None
        ),
        deal_values={
            r["company_size_band"]: r["value_per_conversion"] for r in meta["deal_values"]
        },
        actions={
            (r["tier"], r["rule_grade"]): r["recommended_action"]
            for r in seeds["recommended_actions"]
        },
        fallback_tiers={r["grade"]: r["fallback_tier"] for r in seeds["rule_grades"]},
    )


def _one_thread(artifact: ModelArtifact) -> None:
    """Score with one thread: a request is a row or a hundred, and OpenMP threads that wait
    by spinning take the cores from the other requests and the clients (predictions do not
    depend on the thread count: each row's trees are summed in the same order)."""
    for part in [artifact, *(p for p, *_ in artifact.components)]:
        part.params["n_jobs"] = 1


_DUCK_TYPES = {
    pa.string(): "VARCHAR",
    pa.large_string(): "VARCHAR",
    pa.bool_(): "BOOLEAN",
    pa.float64(): "DOUBLE",
    pa.float32(): "FLOAT",
    pa.int8(): "TINYINT",
    pa.int16(): "SMALLINT",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
}


def _duck_type(arrow_type: pa.DataType) -> str:
    """The DuckDB type name of a lead_features column as its Arrow type shows it (what the rule
    macros read from the database to decide a feature's kind)."""
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP"
    if pa.types.is_decimal(arrow_type):
        return "DECIMAL"
    return _DUCK_TYPES.get(arrow_type, str(arrow_type).upper())
