"""The leads of one chunk: fit, latent interest, true propensity, e-mail addresses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.demo.generate.config import GeneratorConfig
from leadscore.demo.generate.contract import SCHEMAS
from leadscore.demo.generate.numeric import _column, _draw, _lead_ids, _sigmoid, _take, _timestamps
from leadscore.demo.generate.parameters import (
    ALL_SOURCES,
    COMPANY_PREFIXES,
    COMPANY_SIZE_LOG_MEDIAN,
    COMPANY_SIZE_LOG_SD,
    COMPANY_SIZE_NULL,
    COMPANY_SUFFIXES,
    COUNTRIES,
    EMAIL_FIT,
    FIRST_NAMES,
    FREE_MAIL,
    FREE_MAIL_INTERCEPT,
    FREE_MAIL_SIZE,
    FUNCTION_FIT,
    INDUSTRIES,
    JOB_TITLES,
    LAST_NAMES,
    LEAD_GROWTH,
    PROPENSITY_INTERCEPT,
    PROPENSITY_INTEREST,
    PROPENSITY_LOGIT_RANGE,
    SENIORITY,
    SOURCES,
    US_PER_DAY,
    US_PER_SECOND,
    WEEKEND_MOVE,
)


@dataclass
class LeadFrame:
    """Per-lead arrays of one chunk (local index 0..n-1)."""

    lead_id: pa.Array
    created: np.ndarray  # epoch microseconds (float, whole seconds)
    source: np.ndarray
    size: np.ndarray  # float, NaN = unknown
    industry: np.ndarray
    country: np.ndarray
    title: np.ndarray
    free_mail: np.ndarray
    fit: np.ndarray
    interest: np.ndarray
    propensity: np.ndarray
    engagement: np.ndarray | None = None  # volume factor of low-intent engagement (drift)

    @property
    def n(self) -> int:
        return len(self.created)

    @property
    def logit(self) -> np.ndarray:
        return np.log(self.propensity / (1.0 - self.propensity))


def _created_at(rng: np.random.Generator, cfg: GeneratorConfig, first: int, n: int) -> np.ndarray:
    """Stratified over the global lead index (ids follow time), growing volume, workdays."""
    span_days = (cfg.end_us - cfg.start_us) // US_PER_DAY
    u = (first + np.arange(n) + rng.random(n)) / cfg.n_leads
    t = span_days * np.log1p(u * np.expm1(LEAD_GROWTH)) / LEAD_GROWTH
    day = np.minimum(np.floor(t), span_days - 1)
    weekday = (cfg.start_weekday + day.astype(np.int64)) % 7
    back = np.where(weekday == 5, 1, np.where(weekday == 6, 2, 0))
    move = (back > 0) & (rng.random(n) < WEEKEND_MOVE)
    day = np.where(move, np.maximum(day - back, 0), day)
    hours = np.where(rng.random(n) < 0.85, rng.normal(13.5, 2.8, n), rng.uniform(0, 24, n))
    frac = np.clip(hours, 0.0, 23.99) / 24.0
    us = cfg.start_us + (day + frac) * US_PER_DAY
    return np.floor(us / US_PER_SECOND) * US_PER_SECOND


def _company_size(rng: np.random.Generator, source: np.ndarray) -> np.ndarray:
    shift = _column(ALL_SOURCES, 5)[source]
    log_size = rng.normal(COMPANY_SIZE_LOG_MEDIAN + shift, COMPANY_SIZE_LOG_SD)
    size = np.clip(np.round(np.exp(log_size)), 1, 100_000)
    return np.where(rng.random(len(source)) < COMPANY_SIZE_NULL, np.nan, size)


def _size_effect(size: np.ndarray) -> np.ndarray:
    """Fit by company size: small companies fit worse; unknown size slightly negative."""
    effect = 0.35 * np.clip(np.log10(np.where(np.isnan(size), 1.0, size)) - 1.7, -1.5, 2.0)
    return np.where(np.isnan(size), -0.1, effect)


def _title_weights() -> np.ndarray:
    tiers = [t[1] for t in JOB_TITLES]
    per_tier = {tier: tiers.count(tier) for tier in SENIORITY}
    return np.asarray([SENIORITY[t][0] / per_tier[t] for t in tiers])


def _title_effect(title: np.ndarray) -> np.ndarray:
    effect = [SENIORITY[tier][1] + FUNCTION_FIT[func] for _, tier, func in JOB_TITLES]
    return np.asarray(effect)[title]


def _free_mail_probability(source: np.ndarray, size: np.ndarray) -> np.ndarray:
    log10_size = np.log10(np.where(np.isnan(size), 30.0, size))
    free_logit = (
        FREE_MAIL_INTERCEPT
        + _column(ALL_SOURCES, 4)[source]
        - FREE_MAIL_SIZE * np.clip(log10_size - 1.5, -1.5, 2.5)
    )
    return _sigmoid(free_logit)


def _fit(
    source: np.ndarray,
    size: np.ndarray,
    industry: np.ndarray,
    country: np.ndarray,
    title: np.ndarray,
    free_mail: np.ndarray,
) -> np.ndarray:
    return (
        _column(ALL_SOURCES, 2)[source]
        + _size_effect(size)
        + _column(INDUSTRIES, 2)[industry]
        + _column(COUNTRIES, 2)[country]
        + _title_effect(title)
        + np.where(free_mail, -EMAIL_FIT, EMAIL_FIT)
    )


def _propensity_logit(fit: np.ndarray, interest: np.ndarray) -> np.ndarray:
    """Unclipped; the propensity is ``_propensity`` of it (plus any drift shift)."""
    return PROPENSITY_INTERCEPT + fit + PROPENSITY_INTEREST * interest


def _propensity(logit: np.ndarray) -> np.ndarray:
    return _sigmoid(np.clip(logit, *PROPENSITY_LOGIT_RANGE))


def _leads(rng: np.random.Generator, cfg: GeneratorConfig, first: int, n: int) -> LeadFrame:
    created = _created_at(rng, cfg, first, n)
    source = _draw(rng, SOURCES, n)
    size = _company_size(rng, source)
    industry = _draw(rng, INDUSTRIES, n)
    country = _draw(rng, COUNTRIES, n)
    tw = _title_weights()
    title = rng.choice(len(JOB_TITLES), size=n, p=tw / tw.sum())
    free_mail = rng.random(n) < _free_mail_probability(source, size)
    fit = _fit(source, size, industry, country, title, free_mail)
    interest = rng.normal(_column(ALL_SOURCES, 3)[source], 1.0)
    propensity = _propensity(_propensity_logit(fit, interest))
    return LeadFrame(
        lead_id=_lead_ids(np.arange(first + 1, first + n + 1)),
        created=created,
        source=source,
        size=size,
        industry=industry,
        country=country,
        title=title,
        free_mail=free_mail,
        fit=fit,
        interest=interest,
        propensity=propensity,
    )


def _emails(rng: np.random.Generator, leads: LeadFrame) -> pa.Array:
    n = leads.n
    first = _take(FIRST_NAMES, rng.integers(len(FIRST_NAMES), size=n))
    last = _take(LAST_NAMES, rng.integers(len(LAST_NAMES), size=n))
    initial = pc.utf8_slice_codeunits(first, 0, 1)
    formats = [
        pc.binary_join_element_wise(first, last, "."),
        pc.binary_join_element_wise(initial, last, ""),
        first,
        pc.binary_join_element_wise(first, last, "_"),
        pc.binary_join_element_wise(first, pc.utf8_slice_codeunits(last, 0, 1), ""),
    ]
    fmt = rng.choice(len(formats), size=n, p=[0.5, 0.2, 0.1, 0.1, 0.1])
    corporate_local = pc.choose(pa.array(fmt, pa.int8()), *formats)
    number = pc.cast(pa.array(rng.integers(1, 10_000, size=n)), pa.string())
    free_local = pc.if_else(
        pa.array(rng.random(n) < 0.5),
        pc.binary_join_element_wise(first, last, number, ""),
        pc.binary_join_element_wise(pc.binary_join_element_wise(first, last, "."), number, ""),
    )
    tlds = np.asarray([c[3] for c in COUNTRIES], dtype=object)[leads.country]
    tld = np.where(rng.random(n) < 0.4, "com", tlds).astype(str)
    company = pc.binary_join_element_wise(
        _take(COMPANY_PREFIXES, rng.integers(len(COMPANY_PREFIXES), size=n)),
        _take(COMPANY_SUFFIXES, rng.integers(len(COMPANY_SUFFIXES), size=n)),
        "",
    )
    corporate_domain = pc.binary_join_element_wise(company, pa.array(tld, pa.string()), ".")
    free_domain = _take([d for d, _ in FREE_MAIL], _draw(rng, FREE_MAIL, n, share_col=1))
    free = pa.array(leads.free_mail)
    local = pc.if_else(free, free_local, corporate_local)
    domain = pc.if_else(free, free_domain, corporate_domain)
    return pc.binary_join_element_wise(local, domain, "@")


def _leads_table(leads: LeadFrame, emails: pa.Array) -> pa.Table:
    size = pa.array(np.nan_to_num(leads.size).astype(np.int64), mask=np.isnan(leads.size))
    return pa.table(
        {
            "lead_id": leads.lead_id,
            "created_at": _timestamps(leads.created),
            "lead_source": _take([s[0] for s in ALL_SOURCES], leads.source),
            "company_size": size,
            "industry": _take([i[0] for i in INDUSTRIES], leads.industry),
            "country": _take([c[0] for c in COUNTRIES], leads.country),
            "job_title": _take([t[0] for t in JOB_TITLES], leads.title),
            "email": emails,
        },
        schema=SCHEMAS["leads"],
    )
