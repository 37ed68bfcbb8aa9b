"""The server's state: the bundle being served, the events received since it was exported, and
the swap to a new bundle.

- ``score``: a posted lead (enriched by ``LeadEnricher``) with its posted activities, and, when
  the state knows its lead_id, the state's activities too (one copy per activity_id). Stores
  nothing.
- ``current``: a lead of the state with its activities and received events.
- ``apply_events``: checks every event first (a bad one rejects the request, nothing stored),
  drops the activity_ids already held (idempotent; out-of-order times are fine: features are
  aggregates of the activities before as_of), logs the new ones (events_log, fsynced), adds
  them to the state and re-scores the leads they touch, with an alert for each lead that
  crosses into hot. Events for a lead the state does not hold (created after the build, or
  unknown) are logged for the next build and listed as ``unknown_lead_ids``, not scored.
- ``maybe_reload`` / ``reload``: when CURRENT names another folder, the new bundle is loaded
  completely (and the event log replayed into it) before it replaces the old one in a single
  assignment; requests already running finish on the old one, none fails. A bundle that does
  not load leaves the old one serving and the error in ``last_reload_error`` (GET /health).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from leadscore.serve import events_log
from leadscore.serve.features import epoch_us
from leadscore.serve.service import HOT, LeadInput, activities_from, score_leads, type_code_name
from leadscore.serve.state import Bundle, current_version, load_bundle

WATCH_INTERVAL_SECONDS = 1.0
REPLAY_DAYS_BEFORE_AS_OF = 1


class UnknownLead(LookupError):
    """GET /leads/{lead_id} for a lead the state does not hold."""


@dataclass
class EventsResult:
    accepted: int
    logged: int
    duplicates: int
    unknown_lead_ids: list[str]
    rescored: list[dict[str, Any]]
    alerts: list[dict[str, Any]]


def _add_events(bundle: Bundle, events: Sequence[Mapping[str, Any]]) -> tuple[list, int, list]:
    """Add the events the bundle does not hold yet; returns (new events, duplicates, unknown
    lead ids)."""
    new, duplicates, unknown = [], 0, []
    held: dict[int, set[str]] = {}
    for event in events:
        row = bundle.lead_row(event["lead_id"])
        if row is None:
            unknown.append(event["lead_id"])
            if event["activity_id"] in bundle.unknown_lead_event_ids:
                duplicates += 1
                continue
            bundle.unknown_lead_event_ids.add(event["activity_id"])
            new.append((None, event))
            continue
        if row not in held:
            held[row] = set(bundle.activities_of(row)[1])
        if event["activity_id"] in held[row]:
            duplicates += 1
            continue
        held[row].add(event["activity_id"])
        new.append((row, event))
    return new, duplicates, sorted(set(unknown))


def _overlay(bundle: Bundle, added: Sequence[tuple[int | None, Mapping[str, Any]]]) -> None:
    for row, event in added:
        if row is None:
            continue
        code = bundle.features.code_of(type_code_name(bundle, event["activity_type"]))
        item = (epoch_us(event["occurred_at"]), code, event["activity_id"])
        bundle.overlay.setdefault(row, []).append(item)


class LiveState:
    """What the app serves; one per process."""

    def __init__(self, export_dir: Path) -> None:
        self.export_dir = Path(export_dir)
        self.bundle = self._load(current_version(self.export_dir))
        self.loaded_at = events_log.utc_now()
        self.last_reload_error: str | None = None
        self._checked = time.monotonic()

    def _load(self, version: str) -> Bundle:
        bundle = load_bundle(self.export_dir, version)
        since = (bundle.as_of - timedelta(days=REPLAY_DAYS_BEFORE_AS_OF)).date()
        added, _, _ = _add_events(bundle, list(events_log.read_since(self.export_dir, since)))
        _overlay(bundle, added)
        return bundle

    # -- the bundle -------------------------------------------------------------------------

    def reload(self) -> bool:
        """Swap in the bundle CURRENT names if it is another one; True when swapped."""
        version = current_version(self.export_dir)
        if version == self.bundle.version:
            return False
        try:
            bundle = self._load(version)
        except Exception as err:  # the old bundle keeps serving; /health reports why
            self.last_reload_error = f"{version}: {type(err).__name__}: {err}"
            raise
        self.bundle = bundle
        self.loaded_at = events_log.utc_now()
        self.last_reload_error = None
        return True

    def maybe_reload(self) -> None:
        """The file watch: at most once per WATCH_INTERVAL_SECONDS, reload when CURRENT
        changed. A bundle that fails to load is reported by /health, not by this request."""
        now = time.monotonic()
        if now - self._checked < WATCH_INTERVAL_SECONDS:
            return
        self._checked = now
        try:
            self.reload()
        except Exception:
            return

    # -- scoring ----------------------------------------------------------------------------

    def score(
        self, lead: Mapping[str, Any], activities: Sequence[Mapping[str, Any]], as_of: datetime
    ) -> dict[str, Any]:
        bundle = self.bundle
        enriched = bundle.enricher.enrich(lead)
        if enriched["created_at"] >= as_of:
            raise ValueError(
                f"created_at: the lead is created at or after as_of {as_of.isoformat()}; "
                "a lead is scored only as of a time after its creation"
            )
        row = bundle.lead_row(enriched["lead_id"])
        base, ids = bundle.activities_of(row) if row is not None else (None, [])
        acts, _ = activities_from(bundle, activities, base, ids)
        return score_leads(bundle, [LeadInput(enriched, acts)], as_of)[0]

    def current(self, lead_id: str, as_of: datetime) -> dict[str, Any]:
        bundle = self.bundle
        row = bundle.lead_row(lead_id)
        if row is None:
            raise UnknownLead(lead_id)
        return self._score_rows(bundle, [row], as_of)[0]

    @staticmethod
    def _score_rows(
        bundle: Bundle,
        rows: Sequence[int],
        as_of: datetime,
        reasons: bool = True,
        leads: Sequence[Mapping[str, Any]] | None = None,
    ) -> list[dict]:
        leads = bundle.leads_of(rows) if leads is None else leads
        inputs = [
            LeadInput(lead, bundle.activities_of(r)[0]) for lead, r in zip(leads, rows, strict=True)
        ]
        return score_leads(bundle, inputs, as_of, reasons)

    def apply_events(self, events: Sequence[Mapping[str, Any]], as_of: datetime) -> EventsResult:
        bundle = self.bundle
        rows = sorted({r for e in events if (r := bundle.lead_row(e["lead_id"])) is not None})
        leads = bundle.leads_of(rows)
        before = {
            a["lead_id"]: a
            for a in self._score_rows(bundle, rows, as_of, reasons=False, leads=leads)
        }
        added, duplicates, unknown = _add_events(bundle, events)
        if added:
            events_log.append(self.export_dir, [e for _, e in added], events_log.utc_now())
        _overlay(bundle, added)
        after = self._score_rows(bundle, rows, as_of, leads=leads)
        alerts = [
            {
                "lead_id": a["lead_id"],
                "alert": "became_hot",
                "previous_tier": before[a["lead_id"]]["tier"],
                "previous_score": before[a["lead_id"]]["score"],
                "score": a["score"],
                "score_change": a["score"] - before[a["lead_id"]]["score"],
            }
            for a in after
            if a["tier"] == HOT and before[a["lead_id"]]["tier"] != HOT
        ]
        accepted = sum(1 for row, _ in added if row is not None)
        return EventsResult(accepted, len(added), duplicates, unknown, after, alerts)
