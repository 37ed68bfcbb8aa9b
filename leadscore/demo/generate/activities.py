"""Engagement, the status funnel and sales touches of a chunk's leads; the activities table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.demo.generate.contract import ACTIVITY_TYPES, DEMO_REQUEST, SCHEMAS
from leadscore.demo.generate.numeric import (
    _draw,
    _first_in_group,
    _group_starts,
    _ids,
    _sigmoid,
    _take,
    _timestamps,
)
from leadscore.demo.generate.parameters import (
    ACTIVITY_BASE,
    ACTIVITY_INTEREST,
    ACTIVITY_SHAPE,
    ANCHOR_DECAY_DAYS,
    ANCHOR_LAG_DAYS,
    ANCHOR_WEIGHT,
    BURST_DAYS,
    COMPONENT_SHARES,
    DECAY_DAYS,
    DEMO_LOGIT,
    DISQUALIFY,
    DISQUALIFY_DAYS,
    DORMANT_SHARE,
    HIGH_INTENT,
    HIGH_INTENT_LOGIT,
    LOW_INTENT,
    MQL_DELAY_HOURS,
    MQL_POINTS,
    MQL_THRESHOLD,
    NO_ENGAGEMENT_OPP_DAYS,
    OPP_CYCLE_DAYS,
    REENGAGE_BURST_DAYS,
    REENGAGE_BURSTS,
    REENGAGE_WINDOW_DAYS,
    SALES_AFTER_OPP,
    SALES_BEFORE_OPP,
    SALES_BEFORE_TYPES,
    SALES_NON_CONVERTING,
    SALES_NON_CONVERTING_DAYS,
    SQL_LAG_DAYS,
    SQL_SKIP,
    SQL_WITHOUT_OPP,
    US_PER_DAY,
    US_PER_SECOND,
)
from leadscore.demo.generate.population import LeadFrame


@dataclass
class Events:
    """Events sorted by lead (local index) and time offset (days since the lead's creation)."""

    lead: np.ndarray
    offset_days: np.ndarray
    kind: np.ndarray
    counts: np.ndarray  # events per lead

    def starts(self) -> np.ndarray:
        return _group_starts(self.counts)


def _engagement(rng: np.random.Generator, leads: LeadFrame) -> Events:
    """Potential engagement over the lead's life (not yet cut at the end of the period)."""
    n, interest = leads.n, leads.interest
    volume = ACTIVITY_BASE * np.exp(ACTIVITY_INTEREST * interest)
    volume *= rng.gamma(ACTIVITY_SHAPE, 1.0 / ACTIVITY_SHAPE, n)
    volume[rng.random(n) < DORMANT_SHARE] = 0.0
    if leads.engagement is not None:
        volume *= leads.engagement
    counts = rng.poisson(volume)
    lead = np.repeat(np.arange(n), counts)
    m = lead.size

    component = rng.choice(3, size=m, p=COMPONENT_SHARES)
    bursts = 1 + rng.poisson(REENGAGE_BURSTS, n)
    centres = rng.uniform(*REENGAGE_WINDOW_DAYS, size=int(bursts.sum()))
    pick = _group_starts(bursts)[lead] + (rng.random(m) * bursts[lead]).astype(np.int64)
    decay = DECAY_DAYS * np.exp(0.25 * interest)[lead]
    offset = np.select(
        [component == 0, component == 1],
        [rng.exponential(BURST_DAYS, m), rng.exponential(1.0, m) * decay],
        centres[pick] + rng.exponential(REENGAGE_BURST_DAYS, m),
    )

    z = interest[lead]
    p_demo = _sigmoid(DEMO_LOGIT[0] + DEMO_LOGIT[1] * z)
    hi_a, hi_b, hi_burst = HIGH_INTENT_LOGIT
    p_high = _sigmoid(hi_a + hi_b * z + hi_burst * (component != 1))
    if leads.engagement is not None:  # the extra volume is cheap: low-intent events only
        cheap = leads.engagement[lead]
        p_demo, p_high = p_demo / cheap, p_high / cheap
    low = np.asarray([k for k, _ in LOW_INTENT])[_draw(rng, LOW_INTENT, m)]
    high = np.asarray([k for k, _ in HIGH_INTENT])[_draw(rng, HIGH_INTENT, m)]
    u = rng.random(m)
    kind = np.where(u < p_demo, DEMO_REQUEST, np.where(u < p_demo + p_high, high, low))

    order = np.lexsort((offset, lead))
    return Events(lead[order], offset[order], kind[order].astype(np.int8), counts)


def _conversion_offsets(rng: np.random.Generator, leads: LeadFrame, ev: Events) -> np.ndarray:
    """Days from creation to the opportunity for converting leads; inf for the others."""
    n = leads.n
    converts = rng.random(n) < leads.propensity
    # Gumbel-max trick: one anchor event per lead, drawn by weight, all leads at once
    key = np.log(np.asarray(ANCHOR_WEIGHT)[ev.kind]) - ev.offset_days / ANCHOR_DECAY_DAYS
    key += rng.gumbel(size=ev.lead.size)
    has = ev.counts > 0
    best = np.full(n, -np.inf)
    if has.any():
        best[has] = np.maximum.reduceat(key, ev.starts()[has])
    anchor = _first_in_group(ev.lead, key == np.repeat(best, ev.counts), n)
    lag = rng.exponential(ANCHOR_LAG_DAYS, n) + 1.0 / 24.0
    no_events = rng.gamma(*NO_ENGAGEMENT_OPP_DAYS, size=n)
    offset = np.where(anchor >= 0, ev.offset_days[np.maximum(anchor, 0)] + lag, no_events)
    return np.where(converts, offset, np.inf)


def _mql_offsets(rng: np.random.Generator, ev: Events, n: int) -> np.ndarray:
    """Days to the engagement event whose score crosses the MQL threshold (inf if none)."""
    points = np.asarray(MQL_POINTS, dtype=np.int64)[ev.kind]
    cum = np.cumsum(points)
    before = np.zeros(n, dtype=np.int64)
    has = ev.counts > 0
    before[has] = (cum - points)[ev.starts()[has]]
    crossed = cum - np.repeat(before, ev.counts) >= MQL_THRESHOLD
    first = _first_in_group(ev.lead, crossed, n)
    delay = rng.uniform(0.0, MQL_DELAY_HOURS / 24.0, n)
    return np.where(first >= 0, ev.offset_days[np.maximum(first, 0)] + delay, np.inf)


@dataclass
class Funnel:
    """Per-lead event times in epoch microseconds (float; inf = never)."""

    opp: np.ndarray
    closed: np.ndarray  # potential close time of the first opportunity
    mql: np.ndarray
    sql: np.ndarray
    disqualified: np.ndarray


def _funnel(rng: np.random.Generator, leads: LeadFrame, ev: Events) -> Funnel:
    n, created = leads.n, leads.created
    opp = created + _conversion_offsets(rng, leads, ev) * US_PER_DAY
    mql = created + _mql_offsets(rng, ev, n) * US_PER_DAY
    converts = np.isfinite(opp)

    # converting leads: sales accepts shortly before the opportunity
    sql_candidate = np.maximum(opp - rng.exponential(SQL_LAG_DAYS, n) * US_PER_DAY, created)
    mql = np.where(converts & (mql > sql_candidate), np.inf, mql)  # straight to sql
    skip = converts & np.isfinite(mql) & (rng.random(n) < SQL_SKIP)
    sql = np.where(converts & ~skip, sql_candidate, np.inf)

    # non-converting leads: some mqls are accepted anyway, a share is disqualified later
    accepted = ~converts & np.isfinite(mql) & (rng.random(n) < SQL_WITHOUT_OPP)
    accept_at = mql + (0.5 + rng.exponential(7.0, n)) * US_PER_DAY
    sql = np.where(accepted, accept_at, sql)
    stage = np.where(np.isfinite(sql), 2, np.where(np.isfinite(mql), 1, 0))
    disq = ~converts & (rng.random(n) < np.asarray(DISQUALIFY)[stage])
    last = np.maximum(created, np.where(np.isfinite(sql), sql, np.where(stage == 1, mql, 0)))
    min_days, shape, scale = DISQUALIFY_DAYS
    disq_at = last + (min_days + rng.gamma(shape, scale, n)) * US_PER_DAY
    cycle = rng.uniform(*OPP_CYCLE_DAYS, n) * US_PER_DAY
    return Funnel(
        opp=opp,
        closed=opp + cycle,
        mql=mql,
        sql=sql,
        disqualified=np.where(disq, disq_at, np.inf),
    )


def _spread(
    rng: np.random.Generator, owners: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One row per event: the owner repeated and a uniform draw in [0, 1)."""
    lead = np.repeat(owners, counts)
    return lead, rng.random(lead.size)


def _sales_touches(
    rng: np.random.Generator, funnel: Funnel
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lead, time us, kind) of sales touches; none before the lead is mql or sql."""
    start = np.minimum(funnel.mql, funnel.sql)
    converts = np.isfinite(funnel.opp)
    worked = np.isfinite(start)
    leads_out, times_out, kinds_out = [], [], []

    # before the opportunity, between qualification and conversion
    owners = np.flatnonzero(converts & worked)
    lead, u = _spread(rng, owners, rng.poisson(SALES_BEFORE_OPP, owners.size))
    leads_out.append(lead)
    times_out.append(start[lead] + u * (funnel.opp[lead] - start[lead]))
    kinds_out.append(
        np.asarray([k for k, _ in SALES_BEFORE_TYPES])[_draw(rng, SALES_BEFORE_TYPES, lead.size)]
    )

    # after the opportunity: meetings, e-mails, calls until it closes (the leakage trap)
    owners = np.flatnonzero(converts)
    for kind, mean in SALES_AFTER_OPP:
        lead, u = _spread(rng, owners, rng.poisson(mean, owners.size))
        leads_out.append(lead)
        times_out.append(funnel.opp[lead] + u * (funnel.closed[lead] - funnel.opp[lead]))
        kinds_out.append(np.full(lead.size, kind))

    # qualified leads that do not convert: a few touches, none after disqualification
    owners = np.flatnonzero(~converts & worked)
    mql_only, accepted = SALES_NON_CONVERTING
    mean = np.where(np.isfinite(funnel.sql[owners]), accepted, mql_only)
    lead, _ = _spread(rng, owners, rng.poisson(mean))
    t = start[lead] + rng.exponential(SALES_NON_CONVERTING_DAYS, lead.size) * US_PER_DAY
    keep = t < funnel.disqualified[lead]
    leads_out.append(lead[keep])
    times_out.append(t[keep])
    kinds_out.append(
        np.asarray([k for k, _ in SALES_BEFORE_TYPES])[
            _draw(rng, SALES_BEFORE_TYPES, int(keep.sum()))
        ]
    )

    return (
        np.concatenate(leads_out),
        np.concatenate(times_out),
        np.concatenate(kinds_out).astype(np.int8),
    )


#: activity rows of a chunk: lead (local index), time (epoch us, float), kind (int8)
ActivityRows = tuple[np.ndarray, np.ndarray, np.ndarray]


def _activity_rows(
    leads: LeadFrame, ev: Events, sales: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> ActivityRows:
    """Engagement events and sales touches, not yet cut at the end of the period."""
    s_lead, s_time, s_kind = sales
    lead = np.concatenate([ev.lead, s_lead])
    t = np.concatenate([leads.created[ev.lead] + ev.offset_days * US_PER_DAY, s_time])
    kind = np.concatenate([ev.kind, s_kind])
    return lead, t, kind


def _observed(rows: ActivityRows, end_us: int) -> ActivityRows:
    """Rows before the end of the period, times floored to the second."""
    lead, t, kind = rows
    t = np.floor(t / US_PER_SECOND) * US_PER_SECOND
    keep = t < end_us
    return lead[keep], t[keep], kind[keep]


def _activities_table(lead_id: pa.Array, rows: ActivityRows, first_id: int) -> pa.Table:
    lead, t, kind = rows
    order = np.lexsort((kind, lead, t))
    lead, t, kind = lead[order], t[order], kind[order]
    return pa.table(
        {
            "activity_id": _ids("A", np.arange(first_id, first_id + lead.size), 10),
            "lead_id": pc.take(lead_id, pa.array(lead, pa.int64())),
            "occurred_at": _timestamps(t),
            "activity_type": _take(ACTIVITY_TYPES, kind),
        },
        schema=SCHEMAS["activities"],
    )
