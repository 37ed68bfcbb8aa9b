"""Deals of converting leads; the opportunities, lead_status_changes and truth tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.demo.generate.activities import Funnel
from leadscore.demo.generate.contract import SCHEMAS, STATUSES
from leadscore.demo.generate.numeric import _ids, _sigmoid, _take, _timestamps
from leadscore.demo.generate.parameters import (
    AMOUNT_BASE,
    AMOUNT_SD,
    AMOUNT_SIZE_ELASTICITY,
    OPP_CYCLE_DAYS,
    SECOND_OPP,
    SECOND_OPP_DAYS,
    SECOND_OPP_WIN,
    US_PER_DAY,
    US_PER_SECOND,
    WIN_LOGIT,
)
from leadscore.demo.generate.population import LeadFrame


@dataclass
class Deals:
    """Per-lead draws for the opportunities: the first one (times in Funnel) and an expansion."""

    amount: np.ndarray
    won: np.ndarray
    opp2: np.ndarray  # epoch us, inf = no expansion opportunity
    closed2: np.ndarray
    won2: np.ndarray
    amount2: np.ndarray


def _deals(rng: np.random.Generator, leads: LeadFrame, funnel: Funnel) -> Deals:
    n = leads.n
    size = np.where(np.isnan(leads.size), 60.0, leads.size)
    amount = AMOUNT_BASE * (size / 100.0) ** AMOUNT_SIZE_ELASTICITY
    amount *= rng.lognormal(0.0, AMOUNT_SD, n)
    amount = np.maximum(np.round(amount / 50.0) * 50.0, 500.0)
    w_a, w_b, w_c = WIN_LOGIT
    won = rng.random(n) < _sigmoid(w_a + w_b * (leads.logit - w_c))

    # a few won customers come back for an expansion deal
    second = won & (rng.random(n) < SECOND_OPP)
    opp2 = funnel.closed + rng.uniform(*SECOND_OPP_DAYS, n) * US_PER_DAY
    opp2 = np.where(second, opp2, np.inf)
    closed2 = opp2 + rng.uniform(*OPP_CYCLE_DAYS, n) * US_PER_DAY
    won2 = rng.random(n) < SECOND_OPP_WIN
    amount2 = np.maximum(np.round(amount * rng.lognormal(-0.5, 0.4, n) / 50.0) * 50.0, 500.0)
    return Deals(amount, won, opp2, closed2, won2, amount2)


def _opportunities_table(
    lead_id: pa.Array, funnel: Funnel, deals: Deals, end_us: int, first_id: int
) -> pa.Table:
    n = len(lead_id)
    lead = np.concatenate([np.arange(n), np.arange(n)])
    created = np.concatenate([funnel.opp, deals.opp2])
    closed = np.concatenate([funnel.closed, deals.closed2])
    is_won = np.concatenate([deals.won, deals.won2])
    amounts = np.concatenate([deals.amount, deals.amount2])
    keep = created < end_us
    lead, created, closed, is_won, amounts = (
        a[keep] for a in (lead, created, closed, is_won, amounts)
    )
    open_ = closed >= end_us
    order = np.lexsort((lead, created))
    lead, created, closed, is_won, amounts, open_ = (
        a[order] for a in (lead, created, closed, is_won, amounts, open_)
    )
    return pa.table(
        {
            "opportunity_id": _ids("O", np.arange(first_id, first_id + lead.size), 8),
            "lead_id": pc.take(lead_id, pa.array(lead, pa.int64())),
            "created_at": _timestamps(created),
            "closed_at": _timestamps(np.where(open_, np.nan, closed)),
            "is_won": pa.array(is_won, pa.bool_(), mask=open_),
            "amount": pa.array(amounts, pa.float64()),
        },
        schema=SCHEMAS["opportunities"],
    )


def _status_table(leads: LeadFrame, funnel: Funnel, end_us: int) -> pa.Table:
    times = [funnel.mql, funnel.sql, funnel.disqualified]
    lead = np.concatenate([np.arange(leads.n)] * len(times))
    status = np.repeat(np.arange(len(times)), leads.n)
    t = np.floor(np.concatenate(times) / US_PER_SECOND) * US_PER_SECOND
    keep = t < end_us
    lead, status, t = lead[keep], status[keep], t[keep]
    order = np.lexsort((status, lead, t))
    lead, status, t = lead[order], status[order], t[order]
    return pa.table(
        {
            "lead_id": pc.take(leads.lead_id, pa.array(lead, pa.int64())),
            "status": _take(STATUSES, status),
            "changed_at": _timestamps(t),
        },
        schema=SCHEMAS["lead_status_changes"],
    )


def _truth_table(leads: LeadFrame) -> pa.Table:
    return pa.table(
        {
            "lead_id": leads.lead_id,
            "true_propensity": leads.propensity,
            "latent_interest": leads.interest,
            "fit_score": leads.fit,
        },
        schema=SCHEMAS["lead_truth"],
    )
