"""Generator scenario ``b2c_shift``: a B2C export with a regime shift (``--scenario b2c_shift``).

On real CRM exports like this a plain notebook beat leadscore, so the demo generator can make
such data (``benchmarks/notebook_baseline.py`` measures the comparison). Compared with the B2B
demo (:mod:`leadscore.demo.generate`):

- **No firmographics.** ``leads`` has lead_id, created_at, lead_source, country and three custom
  attributes, and no company_size, industry, job_title or email column. The custom attributes
  (dbt vars ``lead_numeric_attributes: [basket_value, time_on_site_seconds]``,
  ``lead_categorical_attributes: [device]``):

  - ``basket_value``: value of the basket at sign-up. Its level **trends with calendar time**:
    the median grows exponentially, ``BASKET_TREND`` (2.5) times from the first day of the
    period to the last, log-sd ``BASKET_LOG_SD`` around it. The conversion logit rises by
    ``BASKET_LOGIT`` per log unit of basket value, so the trend raises conversion over time and
    a model trained on older leads meets values beyond its training range.
  - ``time_on_site_seconds``: first-session duration; its log rises with the latent interest
    (``TIME_ON_SITE_INTEREST``), ``TIME_ON_SITE_NULL`` of the values are NULL (not tracked).
  - ``device``: mobile / desktop / tablet, each with its own logit effect.

- **A base-rate jump.** Leads created on or after ``shift_after`` (default: the first day of the
  last ``SHIFT_MONTHS`` (4) months of the period) have their propensity *odds* multiplied by
  ``SHIFT_ODDS_RATIO`` (3): logit + ln 3. At the historical ~10 % rate that is ~2.5 times the
  conversion *rate*; the truth holds the shifted propensities.

- **Weak activities, no sales funnel.** Engagement is drawn by the B2B engagement model, but from
  an interest that correlates only ``ENGAGEMENT_SIGNAL`` (0.5) with the latent interest that
  drives conversion; no sales touches. A converting lead buys ``CONVERSION_DAYS`` (gamma) after
  sign-up: one opportunity (the purchase, use var ``conversion_event: opportunity``), closed a
  day or so later, won unless the payment fails, amount about the basket value.
  ``lead_status_changes`` is written empty (the file exists, no rows). No faults, no drift.

The true propensity is ``sigmoid(clip(B2C_INTERCEPT + fit_score + B2C_INTEREST *
latent_interest + shift))``, with ``fit_score`` the part the static columns explain (source,
country, device, basket value) and shift = ln ``SHIFT_ODDS_RATIO`` from ``shift_after`` on.
``../truth/scenario.json`` records the parameters and counts (:func:`scenario_report`).

Each chunk draws from its own stream ``SeedSequence(seed, spawn_key=(k, SCENARIO_STREAM))``, so
the output depends only on the arguments; the b2b output is not touched by any of this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.demo.generate.activities import _activities_table, _engagement, _observed
from leadscore.demo.generate.config import GeneratorConfig, _epoch_us, _shift_months
from leadscore.demo.generate.contract import FAULT_KINDS, SCHEMAS, TS
from leadscore.demo.generate.drift import DRIFT_COUNTS
from leadscore.demo.generate.lifecycle import Chunk
from leadscore.demo.generate.numeric import (
    _column,
    _draw,
    _ids,
    _lead_ids,
    _rng,
    _take,
    _timestamps,
)
from leadscore.demo.generate.opportunities import _truth_table
from leadscore.demo.generate.parameters import COUNTRIES, US_PER_DAY, US_PER_SECOND
from leadscore.demo.generate.population import _created_at, _propensity

SCENARIO = "b2c_shift"
SCENARIO_STREAM = 3  # spawn key of the scenario streams (faults use 1, drift 2)

#: leads of the scenario: no company_size, industry, job_title, email; three custom attributes
LEADS_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("created_at", TS),
        ("lead_source", pa.string()),
        ("country", pa.string()),
        ("basket_value", pa.float64()),
        ("time_on_site_seconds", pa.int64()),
        ("device", pa.string()),
    ]
)
ABSENT_COLUMNS = ("company_size", "industry", "job_title", "email")
NUMERIC_ATTRIBUTES = ("basket_value", "time_on_site_seconds")
CATEGORICAL_ATTRIBUTES = ("device",)

#: lead_source: share, logit effect, interest shift
SOURCES = (
    ("organic", 0.22, 0.20, 0.10),
    ("paid_search", 0.22, 0.10, 0.05),
    ("paid_social", 0.28, -0.35, -0.15),
    ("email_newsletter", 0.10, 0.30, 0.25),
    ("affiliate", 0.10, -0.10, 0.0),
    ("referral", 0.08, 0.45, 0.20),
)
#: device: share, logit effect
DEVICES = (("mobile", 0.55, -0.30), ("desktop", 0.35, 0.35), ("tablet", 0.10, 0.0))
DEVICE_NULL = 0.02

BASKET_LOG_MEDIAN = np.log(40.0)  # median basket value on the first day of the period
BASKET_LOG_SD = 0.6
BASKET_TREND = 2.5  # median basket value on the last day / on the first day
BASKET_LOGIT = 0.9  # conversion logit per log unit of basket value (over the first-day median)
TIME_ON_SITE_LOG_MEDIAN = np.log(150.0)
TIME_ON_SITE_INTEREST = 0.45
TIME_ON_SITE_LOG_SD = 0.6
TIME_ON_SITE_NULL = 0.03

B2C_INTERCEPT = -2.7
B2C_INTEREST = 0.9
SHIFT_MONTHS = 4  # default shift_after: the first day of the last SHIFT_MONTHS months
SHIFT_ODDS_RATIO = 3.0
ENGAGEMENT_SIGNAL = 0.5  # correlation of the interest that drives engagement with the latent one
CONVERSION_DAYS = (1.5, 20.0)  # gamma shape, scale: sign-up to purchase (mean 30 days)
CLOSE_DAYS = 1.0  # mean days from the purchase (opportunity) to its close
PAYMENT_FAILED = 0.08  # purchases that close lost
AMOUNT_SD = 0.3  # log-sd of the amount around the basket value

#: per-chunk counts; scenario.json reports them
COUNTS = ("leads", "leads_from_shift", "converted_leads", "converted_leads_from_shift")


def default_shift_after(end_date: date) -> date:
    """The first day of the last SHIFT_MONTHS months of a period ending with end_date."""
    return _shift_months(end_date + timedelta(days=1), -SHIFT_MONTHS)


@dataclass
class _Engagers:
    """What the B2B engagement model reads of a group of leads."""

    interest: np.ndarray
    engagement: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.interest)


@dataclass
class _Leads:
    """Per-lead arrays of one chunk (local index 0..n-1)."""

    lead_id: pa.Array
    created: np.ndarray  # epoch microseconds (float, whole seconds)
    source: np.ndarray
    country: np.ndarray
    device: np.ndarray  # index into DEVICES, -1 = NULL
    basket: np.ndarray
    time_on_site: np.ndarray  # seconds (float), NaN = NULL
    fit: np.ndarray
    interest: np.ndarray
    propensity: np.ndarray
    after_shift: np.ndarray

    @property
    def n(self) -> int:
        return len(self.created)


def _leads(rng: np.random.Generator, cfg: GeneratorConfig, first: int, n: int) -> _Leads:
    created = _created_at(rng, cfg, first, n)
    source = _draw(rng, SOURCES, n)
    country = _draw(rng, COUNTRIES, n)
    device = _draw(rng, DEVICES, n)
    device_effect = _column(DEVICES, 2)[device]
    device = np.where(rng.random(n) < DEVICE_NULL, -1, device)
    interest = rng.normal(_column(SOURCES, 3)[source], 1.0)

    # the basket level trends with calendar time; the logit follows the basket value
    age_of_period = (created - cfg.start_us) / (cfg.end_us - cfg.start_us)
    log_basket = rng.normal(BASKET_LOG_MEDIAN + np.log(BASKET_TREND) * age_of_period, BASKET_LOG_SD)
    basket = np.round(np.exp(log_basket), 2)
    log_tos = rng.normal(
        TIME_ON_SITE_LOG_MEDIAN + TIME_ON_SITE_INTEREST * interest, TIME_ON_SITE_LOG_SD
    )
    time_on_site = np.round(np.exp(log_tos))
    time_on_site[rng.random(n) < TIME_ON_SITE_NULL] = np.nan

    fit = (
        _column(SOURCES, 2)[source]
        + _column(COUNTRIES, 2)[country]
        + device_effect
        + BASKET_LOGIT * (np.log(basket) - BASKET_LOG_MEDIAN)
    )
    after_shift = created >= _epoch_us(cfg.shift_date)
    logit = B2C_INTERCEPT + fit + B2C_INTEREST * interest
    logit = logit + np.where(after_shift, np.log(SHIFT_ODDS_RATIO), 0.0)
    return _Leads(
        lead_id=_lead_ids(np.arange(first + 1, first + n + 1)),
        created=created,
        source=source,
        country=country,
        device=device,
        basket=basket,
        time_on_site=time_on_site,
        fit=fit,
        interest=interest,
        propensity=_propensity(logit),
        after_shift=after_shift,
    )


def _leads_table(leads: _Leads) -> pa.Table:
    tos = leads.time_on_site
    return pa.table(
        {
            "lead_id": leads.lead_id,
            "created_at": _timestamps(leads.created),
            "lead_source": _take([s[0] for s in SOURCES], leads.source),
            "country": _take([c[0] for c in COUNTRIES], leads.country),
            "basket_value": pa.array(leads.basket, pa.float64()),
            "time_on_site_seconds": pa.array(
                np.nan_to_num(tos).astype(np.int64), pa.int64(), mask=np.isnan(tos)
            ),
            "device": pc.if_else(
                pa.array(leads.device < 0),
                pa.scalar(None, pa.string()),
                _take([d[0] for d in DEVICES], np.maximum(leads.device, 0)),
            ),
        },
        schema=LEADS_SCHEMA,
    )


@dataclass
class _Purchases:
    """Per-lead purchase draws, epoch microseconds (float; inf = never)."""

    created: np.ndarray
    closed: np.ndarray
    won: np.ndarray
    amount: np.ndarray


def _purchases(rng: np.random.Generator, leads: _Leads) -> _Purchases:
    n = leads.n
    converts = rng.random(n) < leads.propensity
    offset = rng.gamma(*CONVERSION_DAYS, size=n) * US_PER_DAY
    created = np.where(converts, leads.created + offset, np.inf)
    closed = created + rng.exponential(CLOSE_DAYS, n) * US_PER_DAY
    won = rng.random(n) >= PAYMENT_FAILED
    amount = np.round(leads.basket * rng.lognormal(0.0, AMOUNT_SD, n), 2)
    return _Purchases(created, closed, won, amount)


def _opportunities_table(
    leads: _Leads, purchases: _Purchases, end_us: int, first_id: int
) -> pa.Table:
    t = np.floor(purchases.created / US_PER_SECOND) * US_PER_SECOND
    lead = np.flatnonzero(t < end_us)
    lead = lead[np.lexsort((lead, t[lead]))]
    closed = np.floor(purchases.closed[lead] / US_PER_SECOND) * US_PER_SECOND
    open_ = closed >= end_us
    return pa.table(
        {
            "opportunity_id": _ids("O", np.arange(first_id, first_id + lead.size), 8),
            "lead_id": pc.take(leads.lead_id, pa.array(lead, pa.int64())),
            "created_at": _timestamps(t[lead]),
            "closed_at": _timestamps(np.where(open_, np.nan, closed)),
            "is_won": pa.array(purchases.won[lead], pa.bool_(), mask=open_),
            "amount": pa.array(purchases.amount[lead], pa.float64()),
        },
        schema=SCHEMAS["opportunities"],
    )


def chunk(
    cfg: GeneratorConfig, index: int, first: int, n: int, activity_id: int, opportunity_id: int
) -> Chunk:
    """The tables of chunk ``index`` (leads first..first+n-1) of a b2c_shift run."""
    rng = _rng(cfg.seed, index, SCENARIO_STREAM)
    leads = _leads(rng, cfg, first, n)
    # engagement follows an interest only partly tied to the one that drives conversion
    noise = rng.normal(0.0, 1.0, n)
    engaging = ENGAGEMENT_SIGNAL * leads.interest + np.sqrt(1 - ENGAGEMENT_SIGNAL**2) * noise
    events = _engagement(rng, _Engagers(engaging))  # type: ignore[arg-type]
    purchases = _purchases(rng, leads)
    rows = (
        events.lead,
        leads.created[events.lead] + events.offset_days * US_PER_DAY,
        events.kind,
    )
    activities = _observed(rows, cfg.end_us)
    opportunities = _opportunities_table(leads, purchases, cfg.end_us, opportunity_id)
    converted = np.isin(
        leads.lead_id.to_numpy(zero_copy_only=False),
        opportunities.column("lead_id").to_numpy(),
    )
    counts = {
        "leads": n,
        "leads_from_shift": int(leads.after_shift.sum()),
        "converted_leads": int(converted.sum()),
        "converted_leads_from_shift": int((converted & leads.after_shift).sum()),
    }
    tables = {
        "leads": _leads_table(leads),
        "activities": _activities_table(leads.lead_id, activities, activity_id),
        "opportunities": opportunities,
        "lead_status_changes": SCHEMAS["lead_status_changes"].empty_table(),
        "lead_truth": _truth_table(leads),  # type: ignore[arg-type]  (the same fields)
    }
    return Chunk(
        tables,
        dict.fromkeys(FAULT_KINDS, 0),
        dict.fromkeys(DRIFT_COUNTS, 0),
        counts,
    )


def scenario_report(cfg: GeneratorConfig, counts: Mapping[str, int]) -> dict[str, object]:
    """What scenario.json says: what was injected, its parameters and the counts affected."""
    return {
        "scenario": SCENARIO,
        "absent_lead_columns": list(ABSENT_COLUMNS),
        "custom_attributes": {
            "lead_numeric_attributes": list(NUMERIC_ATTRIBUTES),
            "lead_categorical_attributes": list(CATEGORICAL_ATTRIBUTES),
        },
        "dbt_vars": (
            "{lead_numeric_attributes: [" + ", ".join(NUMERIC_ATTRIBUTES) + "], "
            "lead_categorical_attributes: [" + ", ".join(CATEGORICAL_ATTRIBUTES) + "], "
            "conversion_event: opportunity}"
        ),
        "attribute_trend": {
            "column": "basket_value",
            "median_first_day": round(float(np.exp(BASKET_LOG_MEDIAN)), 2),
            "median_ratio_last_day_to_first": BASKET_TREND,
            "log_sd": BASKET_LOG_SD,
            "logit_per_log_unit": BASKET_LOGIT,
        },
        "base_rate_shift": {
            "shift_after": cfg.shift_date.isoformat(),
            "odds_ratio": SHIFT_ODDS_RATIO,
            "logit_shift": round(float(np.log(SHIFT_ODDS_RATIO)), 6),
            "leads_from_shift": counts["leads_from_shift"],
        },
        "activities": {
            "engagement_interest_correlation": ENGAGEMENT_SIGNAL,
            "sales_touches": False,
        },
        "lead_status_changes": "empty",
        "leads": counts["leads"],
        "converted_leads": counts["converted_leads"],
        "converted_leads_from_shift": counts["converted_leads_from_shift"],
    }
