"""The simulated lifecycle of a group of leads (and the tables of one chunk)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.demo.generate.activities import (
    ActivityRows,
    Funnel,
    _activity_rows,
    _engagement,
    _funnel,
    _sales_touches,
)
from leadscore.demo.generate.opportunities import Deals, _deals
from leadscore.demo.generate.population import LeadFrame, _emails


@dataclass
class Lifecycle:
    """All draws for a group of leads before they become tables: per-lead arrays (local index
    0..n-1) and the activity rows."""

    leads: LeadFrame
    emails: pa.Array
    activities: ActivityRows
    funnel: Funnel
    deals: Deals


def _simulate(rng: np.random.Generator, leads: LeadFrame) -> Lifecycle:
    """Engagement, funnel, e-mail addresses, sales touches and deals, in this order of draws
    (the order fixes the output for a seed)."""
    events = _engagement(rng, leads)
    funnel = _funnel(rng, leads, events)
    emails = _emails(rng, leads)
    sales = _sales_touches(rng, funnel)
    deals = _deals(rng, leads, funnel)
    return Lifecycle(leads, emails, _activity_rows(leads, events, sales), funnel, deals)


_PerLead = TypeVar("_PerLead", LeadFrame, Funnel, Deals)


def _take_rows(frame: _PerLead, idx: np.ndarray) -> _PerLead:
    """The leads ``idx`` of a dataclass of per-lead arrays (copies)."""
    values = {}
    for f in fields(frame):
        value = getattr(frame, f.name)
        if isinstance(value, np.ndarray):
            value = value[idx]
        elif isinstance(value, pa.Array):
            value = pc.take(value, pa.array(idx, pa.int64()))
        values[f.name] = value
    return type(frame)(**values)


def _put_rows(frame: _PerLead, idx: np.ndarray, part: _PerLead) -> _PerLead:
    """``frame`` with the leads ``idx`` replaced by ``part`` (numpy fields; the lead ids, equal
    in both, and optional fields are kept from ``frame``)."""
    values = {}
    for f in fields(frame):
        value = getattr(frame, f.name)
        if isinstance(value, np.ndarray):
            value = value.copy()
            value[idx] = getattr(part, f.name)
        values[f.name] = value
    return type(frame)(**values)


def _replace_leads(life: Lifecycle, idx: np.ndarray, part: Lifecycle) -> Lifecycle:
    """``life`` with the leads ``idx`` (sorted local indices) replaced by ``part``, their redraw
    (``part`` local index i is lead ``idx[i]``)."""
    n = life.leads.n
    replaced = np.zeros(n, dtype=bool)
    replaced[idx] = True
    lead, t, kind = life.activities
    keep = ~replaced[lead]
    p_lead, p_t, p_kind = part.activities
    activities = (
        np.concatenate([lead[keep], idx[p_lead]]),
        np.concatenate([t[keep], p_t]),
        np.concatenate([kind[keep], p_kind]),
    )
    at = np.arange(n)
    at[idx] = n + np.arange(idx.size)
    emails = pc.take(pa.concat_arrays([life.emails, part.emails]), pa.array(at, pa.int64()))
    return Lifecycle(
        leads=_put_rows(life.leads, idx, part.leads),
        emails=emails,
        activities=activities,
        funnel=_put_rows(life.funnel, idx, part.funnel),
        deals=_put_rows(life.deals, idx, part.deals),
    )


@dataclass
class Chunk:
    """The tables of one chunk of leads, the faults injected into them, the drift counts and
    the scenario counts (none for b2b)."""

    tables: dict[str, pa.Table]
    faults: dict[str, int]
    drift: dict[str, int]
    scenario: dict[str, int] = field(default_factory=dict)
