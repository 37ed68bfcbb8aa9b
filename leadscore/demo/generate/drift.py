"""Injected drift: redrawn (drifted) leads from the drift date on, shifted engagement logging."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from leadscore.demo.generate.activities import ActivityRows
from leadscore.demo.generate.config import GeneratorConfig
from leadscore.demo.generate.contract import ACTIVITY_TYPES, LEAD_DRIFT_KINDS
from leadscore.demo.generate.lifecycle import Lifecycle, _replace_leads, _simulate, _take_rows
from leadscore.demo.generate.numeric import _group_starts, _rng
from leadscore.demo.generate.parameters import (
    CONVERSION_SHIFT_LOGIT,
    ENGAGEMENT_SHIFT,
    NEW_SOURCE,
    NEW_SOURCE_ENGAGEMENT,
    NEW_SOURCE_INDEX,
    REOPEN_HOURS,
    US_PER_HOUR,
    US_PER_SECOND,
)
from leadscore.demo.generate.population import (
    LeadFrame,
    _company_size,
    _fit,
    _free_mail_probability,
    _propensity,
    _propensity_logit,
)

DRIFT_STREAM = 2  # spawn key of the drift streams (faults use 1)
#: per-chunk drift counts; drift.json reports them by kind
DRIFT_COUNTS = (
    "leads_from_date",
    "new_source_leads",
    "conversion_shift_leads",
    *(f"rows_added:{ACTIVITY_TYPES[k]}" for k, _ in ENGAGEMENT_SHIFT),
    *(f"rows_removed:{ACTIVITY_TYPES[k]}" for k, _ in ENGAGEMENT_SHIFT),
)


def _drifted_leads(
    cfg: GeneratorConfig, index: int, leads: LeadFrame, counts: dict[str, int]
) -> LeadFrame:
    """The leads created from the drift date on, as the drifted process makes them: a share
    moved to the new source (its own firmographics, e-mail, interest and engagement volume)
    and/or a lower propensity."""
    source, size, free_mail = leads.source.copy(), leads.size.copy(), leads.free_mail.copy()
    interest, fit, engagement = leads.interest.copy(), leads.fit, leads.engagement
    if cfg.drifts("new_source"):
        rng = _rng(cfg.seed, index, DRIFT_STREAM, 0)
        new = np.flatnonzero(rng.random(leads.n) < NEW_SOURCE[1])
        new_source = np.full(new.size, NEW_SOURCE_INDEX)
        new_size = _company_size(rng, new_source)
        source[new] = NEW_SOURCE_INDEX
        size[new] = new_size
        free_mail[new] = rng.random(new.size) < _free_mail_probability(new_source, new_size)
        interest[new] = rng.normal(NEW_SOURCE[3], 1.0, new.size)
        fit = _fit(source, size, leads.industry, leads.country, leads.title, free_mail)
        engagement = np.ones(leads.n)
        engagement[new] = NEW_SOURCE_ENGAGEMENT
        counts["new_source_leads"] += new.size
    logit = _propensity_logit(fit, interest)
    if cfg.drifts("conversion_shift"):
        logit = logit + CONVERSION_SHIFT_LOGIT
        counts["conversion_shift_leads"] += leads.n
    return replace(
        leads,
        source=source,
        size=size,
        free_mail=free_mail,
        interest=interest,
        fit=fit,
        propensity=_propensity(logit),
        engagement=engagement,
    )


def _redrawn_leads(cfg: GeneratorConfig, leads: LeadFrame, counts: dict[str, int]) -> np.ndarray:
    """Local indices of the leads that lead-level drift draws again: those created from the
    drift date on (none without drift or without a lead-level kind)."""
    if cfg.drift_after is None:
        return np.zeros(0, dtype=np.int64)
    late = np.flatnonzero(leads.created >= cfg.drift_from_us)
    counts["leads_from_date"] += late.size
    if not any(cfg.drifts(kind) for kind in LEAD_DRIFT_KINDS):
        return np.zeros(0, dtype=np.int64)
    return late


def _drift_leads(
    cfg: GeneratorConfig,
    index: int,
    leads: LeadFrame,
    life: Lifecycle | None,
    late: np.ndarray,
    counts: dict[str, int],
) -> Lifecycle:
    """Lead-level drift: the ``late`` leads are drawn again, drifted, from a stream of their
    own, so the other leads keep every value they have without drift. ``life`` is the
    undrifted draw of all leads; None when all are late (nothing of it would be kept)."""
    part = _drifted_leads(cfg, index, _take_rows(leads, late), counts)
    redraw = _simulate(_rng(cfg.seed, index, DRIFT_STREAM, 2), part)
    return redraw if life is None else _replace_leads(life, late, redraw)


def _shift_engagement(
    rng: np.random.Generator, rows: ActivityRows, from_us: int, end_us: int, counts: dict[str, int]
) -> ActivityRows:
    """The tracking change: from ``from_us`` on, each observed event of a type in
    ENGAGEMENT_SHIFT is logged ``factor`` times on average (int(factor) rows, plus one with
    probability of the fraction); copies after the first follow it by ~REOPEN_HOURS and are
    dropped if they fall after the end of the period."""
    lead, t, kind = rows
    copies = np.ones(lead.size, dtype=np.int64)
    for k, factor in ENGAGEMENT_SHIFT:
        affected = np.flatnonzero((kind == k) & (t >= from_us))
        whole = int(factor)
        copies[affected] = whole + (rng.random(affected.size) < factor - whole)
    src = np.repeat(np.arange(lead.size), copies)
    extra = np.flatnonzero(np.arange(src.size) - np.repeat(_group_starts(copies), copies) > 0)
    t_out = t[src]
    delay_s = rng.exponential(REOPEN_HOURS * US_PER_HOUR / US_PER_SECOND, extra.size)
    t_out[extra] += np.floor(delay_s) * US_PER_SECOND
    keep = t_out < end_us
    for k, _ in ENGAGEMENT_SHIFT:
        name = ACTIVITY_TYPES[k]
        added = keep[extra] & (kind[src[extra]] == k)
        counts[f"rows_added:{name}"] += int(np.count_nonzero(added))
        counts[f"rows_removed:{name}"] += int(np.count_nonzero((copies == 0) & (kind == k)))
    return lead[src][keep], t_out[keep], kind[src][keep]


def _no_drift_report() -> dict[str, object]:
    return {"drift_after": None, "kinds": []}


def _drift_report(cfg: GeneratorConfig, counts: Mapping[str, int]) -> dict[str, object]:
    """What drift.json says: the date, the kinds, their parameters and the counts affected."""
    if cfg.drift_after is None:
        return _no_drift_report()
    report: dict[str, object] = {
        "drift_after": cfg.drift_after.isoformat(),
        "kinds": list(cfg.drift_kinds),
        "leads_from_date": counts["leads_from_date"],
    }
    if cfg.drifts("new_source"):
        report["new_source"] = {
            "lead_source": NEW_SOURCE[0],
            "share_of_leads_from_date": NEW_SOURCE[1],
            "fit_effect": NEW_SOURCE[2],
            "interest_shift": NEW_SOURCE[3],
            "engagement_factor": NEW_SOURCE_ENGAGEMENT,
            "leads": counts["new_source_leads"],
        }
    if cfg.drifts("engagement_shift"):
        names = [ACTIVITY_TYPES[k] for k, _ in ENGAGEMENT_SHIFT]
        report["engagement_shift"] = {
            "logged_per_event": {ACTIVITY_TYPES[k]: f for k, f in ENGAGEMENT_SHIFT},
            "rows_added": {name: counts[f"rows_added:{name}"] for name in names},
            "rows_removed": {name: counts[f"rows_removed:{name}"] for name in names},
        }
    if cfg.drifts("conversion_shift"):
        report["conversion_shift"] = {
            "logit_shift": CONVERSION_SHIFT_LOGIT,
            "leads": counts["conversion_shift_leads"],
        }
    return report
