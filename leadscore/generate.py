"""Synthetic B2B lead funnel for the leadscore demo.

Writes four raw CRM tables as Parquet (leads, activities, opportunities, lead_status_changes)
and, next to the output folder, the ground truth (``../truth/lead_truth.parquet``), the count
of injected faults per kind (``../truth/faults.json``) and the injected drift
(``../truth/drift.json``).

The story behind the numbers
----------------------------
Every lead has a *fit* (lead source, company size, seniority and function of the job title,
industry, country, corporate vs free-mail address) and a *latent interest* (unobserved). Both
make up the lead's true propensity, the probability with which it converts (an opportunity is
created). Interest drives engagement: a burst of activity after sign-up, a decaying tail and
occasional re-engagement bursts; demo requests and pricing page views are strongly tied to
interest. A converting lead converts shortly after one of its (preferably high-intent)
activities. Statuses follow: 'mql' when the engagement score crosses a threshold, 'sql' shortly
before the opportunity (and for some leads that never convert), 'disqualified' for a share of
the leads that do not convert. Sales touches (calls, e-mails, meetings) start once a lead is
mql or sql, and many happen *after* the opportunity was created, because it was: a trap for
pipelines that do not cut features at the prediction time.

Time: the period is ``months`` calendar months ending with ``end_date`` (inclusive); every
event is before ``end_date + 1 day`` 00:00, except the injected future timestamps. Events that
would happen later are not observed (open opportunities have no ``closed_at`` / ``is_won``).

Drift (``drift_after``, ``drift_kinds``): from a date on, the process changes, so a model
trained before the date meets data it has not seen. ``new_source``: a quarter of the leads
created from the date on come from a new lead_source, 'tiktok_ads', with little intent and poor
fit but a lot of cheap engagement (2.5 times the volume its interest gives, the extra all
low-intent: page views, e-mail opens). ``engagement_shift``: a tracking change from the date on
logs every e-mail open twice and only half of the pricing page views, for every lead; behaviour,
statuses, conversions and the truth stay as they were (only the logging changes).
``conversion_shift``: leads created from the date on convert less (propensity logit - 0.6, a
market change). The truth holds the drifted propensities; ``../truth/drift.json`` records what
was injected. Leads created before the date are unchanged (same rows as without drift; with
``engagement_shift`` their activities from the date on are logged the new way).

Scenarios (``scenario``): ``b2b`` (the default) is everything above. ``b2c_shift`` is a B2C
export with a regime shift: no firmographic columns, custom attributes of which one trends with
calendar time, a jump of the conversion base rate in the last months and weak activities; it is
described in :mod:`leadscore.generate_b2c` and ``../truth/scenario.json`` records it (a b2b run
removes a stale scenario.json).

Generation is vectorised with numpy and pyarrow and runs in chunks of leads; chunk ``k`` draws
from its own random stream (``SeedSequence(seed, spawn_key=(k,))``), so the output depends only
on the arguments. Faults and drift draw from separate streams: faults change no clean value, and
the leads created from the drift date on are drawn a second time (drifted) and replace their
undrifted draw, so without drift not one extra random number is drawn.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# --------------------------------------------------------------------------------------------
# Contract
# --------------------------------------------------------------------------------------------

TS = pa.timestamp("us")

SCHEMAS: Mapping[str, pa.Schema] = MappingProxyType(
    {
        "leads": pa.schema(
            [
                ("lead_id", pa.string()),
                ("created_at", TS),
                ("lead_source", pa.string()),
                ("company_size", pa.int64()),
                ("industry", pa.string()),
                ("country", pa.string()),
                ("job_title", pa.string()),
                ("email", pa.string()),
            ]
        ),
        "activities": pa.schema(
            [
                ("activity_id", pa.string()),
                ("lead_id", pa.string()),
                ("occurred_at", TS),
                ("activity_type", pa.string()),
            ]
        ),
        "opportunities": pa.schema(
            [
                ("opportunity_id", pa.string()),
                ("lead_id", pa.string()),
                ("created_at", TS),
                ("closed_at", TS),
                ("is_won", pa.bool_()),
                ("amount", pa.float64()),
            ]
        ),
        "lead_status_changes": pa.schema(
            [("lead_id", pa.string()), ("status", pa.string()), ("changed_at", TS)]
        ),
        "lead_truth": pa.schema(
            [
                ("lead_id", pa.string()),
                ("true_propensity", pa.float64()),
                ("latent_interest", pa.float64()),
                ("fit_score", pa.float64()),
            ]
        ),
    }
)
RAW_TABLES = ("leads", "activities", "opportunities", "lead_status_changes")
TRUTH_TABLE = "lead_truth"
FAULTS_METADATA_KEY = b"leadscore.faults"
DRIFT_METADATA_KEY = b"leadscore.drift"

ACTIVITY_TYPES = (
    "page_view",
    "pricing_page_view",
    "email_open",
    "email_click",
    "form_submit",
    "content_download",
    "webinar_attended",
    "demo_request",
    "sales_call",
    "sales_email",
    "meeting",
)
ENGAGEMENT_TYPES = ACTIVITY_TYPES[:8]
SALES_TOUCH_TYPES = ACTIVITY_TYPES[8:]
(
    PAGE_VIEW,
    PRICING_PAGE_VIEW,
    EMAIL_OPEN,
    EMAIL_CLICK,
    FORM_SUBMIT,
    CONTENT_DOWNLOAD,
    WEBINAR_ATTENDED,
    DEMO_REQUEST,
    SALES_CALL,
    SALES_EMAIL,
    MEETING,
) = range(len(ACTIVITY_TYPES))
STATUSES = ("mql", "sql", "disqualified")

#: Kinds of injected data-quality faults; ``faults.json`` counts each (rows affected/added).
FAULT_KINDS = (
    "duplicate_lead",  # exact duplicate row in leads
    "duplicate_activity",  # exact duplicate row in activities
    "null_lead_attribute",  # NULL industry, country, job_title or email
    "null_activity_lead_id",  # NULL key
    "null_activity_occurred_at",  # NULL timestamp
    "unknown_activity_type",  # e.g. 'chat_message', 'Webinar_Registered'
    "activity_type_variant",  # case / whitespace variants, e.g. ' Page_View ', 'EMAIL_OPEN'
    "orphan_activity",  # lead_id not in leads
    "future_activity_timestamp",  # occurred_at in 2031
    "future_opportunity_timestamp",  # created_at (and closed_at) in 2031
    "malformed_email",  # no '@'
    "placeholder_value",  # 'Select', 'unknown', 'N/A', '-' in industry / job_title / country
    "negative_company_size",
    "negative_opportunity_amount",
)
#: Kinds of drift (``drift.json`` records each injected one with the counts it affected).
DRIFT_KINDS = (
    "new_source",  # leads created from the date on: a share from a new, poorly converting source
    "engagement_shift",  # activities from the date on: e-mail opens x2, pricing page views x0.5
    "conversion_shift",  # leads created from the date on convert less (a market change)
)
LEAD_DRIFT_KINDS = ("new_source", "conversion_shift")  # these redraw the leads from the date on
#: data scenarios (the module docstring); b2b is the demo, the others live in their own module
SCENARIOS = ("b2b", "b2c_shift")
SCENARIO_METADATA_KEY = b"leadscore.scenario"
UNKNOWN_ACTIVITY_TYPES = ("chat_message", "Webinar_Registered", "call_attempt", "linkedin_click")
PLACEHOLDER_VALUES = ("Select", "unknown", "N/A", "-")
FUTURE_YEAR = 2031

# --------------------------------------------------------------------------------------------
# Reference data: (value, share, effect on the propensity logit, ...)
# --------------------------------------------------------------------------------------------

#: lead_source: share of volume, fit effect, interest shift, free-mail shift, log-size shift
SOURCES = (
    ("organic", 0.18, 0.15, 0.10, 0.0, 0.0),
    ("paid_search", 0.16, 0.0, 0.0, 0.2, 0.0),
    ("paid_social", 0.20, -0.65, -0.20, 0.7, -0.5),
    ("referral", 0.05, 0.95, 0.30, -0.6, 0.3),
    ("webinar", 0.08, 0.35, 0.30, 0.0, 0.2),
    ("events", 0.07, 0.30, 0.10, -0.3, 0.6),
    ("partner", 0.05, 0.85, 0.20, -0.6, 0.5),
    ("outbound_list", 0.21, -0.85, -0.40, 0.6, 0.4),
)
#: drift kind new_source: the source that appears on the drift date (columns as SOURCES; its
#: share is of the leads created from the date on): poor fit, little intent, small companies,
#: free-mail addresses, and NEW_SOURCE_ENGAGEMENT times the engagement volume, the extra all
#: low-intent (page views, e-mail opens and clicks, downloads: cheap clicks)
NEW_SOURCE = ("tiktok_ads", 0.25, -1.0, -0.6, 1.2, -0.8)
NEW_SOURCE_ENGAGEMENT = 2.5
ALL_SOURCES = (*SOURCES, NEW_SOURCE)  # lead_source values by index; draws use SOURCES only
NEW_SOURCE_INDEX = len(SOURCES)
INDUSTRIES = (
    ("Software", 0.16, 0.40),
    ("Financial Services", 0.10, 0.30),
    ("Healthcare", 0.09, 0.0),
    ("Manufacturing", 0.10, 0.0),
    ("Retail", 0.09, -0.10),
    ("Education", 0.07, -0.40),
    ("Government", 0.04, -0.50),
    ("Media", 0.06, 0.10),
    ("Telecommunications", 0.05, 0.20),
    ("Professional Services", 0.11, 0.20),
    ("Logistics", 0.07, -0.10),
    ("Non-profit", 0.06, -0.50),
)
#: country: share, fit effect, top-level domain of local companies
COUNTRIES = (
    ("United States", 0.30, 0.10, "com"),
    ("Canada", 0.05, 0.05, "ca"),
    ("United Kingdom", 0.10, 0.10, "co.uk"),
    ("Germany", 0.08, 0.05, "de"),
    ("France", 0.05, 0.0, "fr"),
    ("Netherlands", 0.04, 0.05, "nl"),
    ("Spain", 0.03, -0.10, "es"),
    ("Sweden", 0.03, 0.05, "se"),
    ("India", 0.10, -0.20, "in"),
    ("Singapore", 0.03, 0.05, "sg"),
    ("Australia", 0.05, 0.05, "com.au"),
    ("Japan", 0.03, -0.10, "co.jp"),
    ("Brazil", 0.05, -0.15, "com.br"),
    ("Mexico", 0.03, -0.15, "com.mx"),
    ("South Africa", 0.03, -0.10, "co.za"),
)
#: seniority tier: share of leads, fit effect
SENIORITY = MappingProxyType(
    {
        "c_level": (0.05, 0.50),
        "founder": (0.04, 0.30),
        "vp": (0.05, 0.60),
        "head": (0.05, 0.50),
        "director": (0.10, 0.45),
        "manager": (0.20, 0.20),
        "senior_ic": (0.12, 0.0),
        "ic": (0.27, -0.15),
        "junior": (0.07, -0.50),
        "intern": (0.05, -1.00),
    }
)
FUNCTION_FIT = MappingProxyType(
    {
        "executive": 0.20,
        "marketing": 0.40,
        "sales": 0.30,
        "revops": 0.45,
        "it": 0.10,
        "engineering": -0.10,
        "data": 0.10,
        "product": 0.05,
        "operations": 0.0,
        "finance": -0.15,
        "hr": -0.30,
        "other": -0.20,
    }
)
#: job title, seniority tier, function
JOB_TITLES = (
    ("CEO", "c_level", "executive"),
    ("CFO", "c_level", "finance"),
    ("CTO", "c_level", "engineering"),
    ("CMO", "c_level", "marketing"),
    ("COO", "c_level", "operations"),
    ("CIO", "c_level", "it"),
    ("Chief Revenue Officer", "c_level", "revops"),
    ("Chief Data Officer", "c_level", "data"),
    ("Founder", "founder", "executive"),
    ("Co-Founder & CEO", "founder", "executive"),
    ("Owner", "founder", "executive"),
    ("VP of Marketing", "vp", "marketing"),
    ("VP Sales", "vp", "sales"),
    ("VP of Engineering", "vp", "engineering"),
    ("Vice President, Finance", "vp", "finance"),
    ("VP Operations", "vp", "operations"),
    ("VP of Revenue Operations", "vp", "revops"),
    ("VP, Demand Generation", "vp", "marketing"),
    ("SVP Sales", "vp", "sales"),
    ("Head of Sales", "head", "sales"),
    ("Head of Marketing", "head", "marketing"),
    ("Head of Growth", "head", "marketing"),
    ("Head of Data", "head", "data"),
    ("Head of IT", "head", "it"),
    ("Head of People", "head", "hr"),
    ("Head of Product", "head", "product"),
    ("Director of Marketing", "director", "marketing"),
    ("Director, IT", "director", "it"),
    ("Sales Director", "director", "sales"),
    ("Director of Demand Generation", "director", "marketing"),
    ("Director of Engineering", "director", "engineering"),
    ("Director, Finance", "director", "finance"),
    ("Director of Operations", "director", "operations"),
    ("Director, Revenue Operations", "director", "revops"),
    ("Marketing Manager", "manager", "marketing"),
    ("Sales Manager", "manager", "sales"),
    ("IT Manager", "manager", "it"),
    ("Engineering Manager", "manager", "engineering"),
    ("Product Manager", "manager", "product"),
    ("HR Manager", "manager", "hr"),
    ("Operations Manager", "manager", "operations"),
    ("Finance Manager", "manager", "finance"),
    ("Senior Marketing Manager", "manager", "marketing"),
    ("Demand Generation Manager", "manager", "marketing"),
    ("Marketing Operations Manager", "manager", "revops"),
    ("Account Manager", "manager", "sales"),
    ("Senior Software Engineer", "senior_ic", "engineering"),
    ("Senior Data Analyst", "senior_ic", "data"),
    ("Senior Account Executive", "senior_ic", "sales"),
    ("Senior Marketing Specialist", "senior_ic", "marketing"),
    ("Lead Developer", "senior_ic", "engineering"),
    ("Principal Engineer", "senior_ic", "engineering"),
    ("Software Engineer", "ic", "engineering"),
    ("Data Analyst", "ic", "data"),
    ("Account Executive", "ic", "sales"),
    ("Sales Development Representative", "ic", "sales"),
    ("Marketing Specialist", "ic", "marketing"),
    ("Content Marketer", "ic", "marketing"),
    ("Growth Marketer", "ic", "marketing"),
    ("IT Administrator", "ic", "it"),
    ("Systems Administrator", "ic", "it"),
    ("Accountant", "ic", "finance"),
    ("HR Generalist", "ic", "hr"),
    ("Recruiter", "ic", "hr"),
    ("Business Analyst", "ic", "operations"),
    ("Operations Analyst", "ic", "operations"),
    ("Data Scientist", "ic", "data"),
    ("Consultant", "ic", "other"),
    ("Junior Developer", "junior", "engineering"),
    ("Marketing Coordinator", "junior", "marketing"),
    ("Sales Assistant", "junior", "sales"),
    ("Administrative Assistant", "junior", "other"),
    ("Marketing Intern", "intern", "marketing"),
    ("Sales Intern", "intern", "sales"),
    ("Software Engineering Intern", "intern", "engineering"),
    ("Student", "intern", "other"),
)
FIRST_NAMES = (
    "james", "mary", "john", "patricia", "robert", "jennifer", "michael", "linda", "william",
    "elizabeth", "david", "barbara", "richard", "susan", "joseph", "jessica", "thomas", "sarah",
    "charles", "karen", "daniel", "nancy", "matthew", "lisa", "anthony", "mark", "sandra",
    "priya", "rahul", "wei", "mei", "hiroshi", "yuki", "lukas", "anna", "sophie", "lars", "emma",
    "noah", "olivia", "liam", "ava", "lucas", "mia", "mateo", "sofia", "carlos", "ana", "juan",
    "fatima", "omar", "aisha", "thabo", "zanele", "pieter", "sanne", "pierre", "camille", "jan",
)  # fmt: skip
LAST_NAMES = (
    "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez",
    "martinez", "hernandez", "lopez", "wilson", "anderson", "taylor", "thomas", "moore",
    "jackson", "martin", "lee", "thompson", "white", "harris", "clark", "lewis", "walker",
    "hall", "young", "king", "wright", "patel", "sharma", "singh", "kumar", "chen", "wang", "li",
    "zhang", "tanaka", "sato", "suzuki", "mueller", "schmidt", "schneider", "fischer", "weber",
    "dubois", "bernard", "moreau", "jansen", "devries", "bakker", "andersson", "johansson",
    "nilsson", "silva", "santos", "oliveira", "nkosi", "dlamini",
)  # fmt: skip
COMPANY_PREFIXES = (
    "acme", "bright", "blue", "nova", "quant", "apex", "vertex", "summit", "pioneer", "silver",
    "north", "red", "green", "cloud", "data", "swift", "iron", "lumen", "terra", "atlas", "zen",
    "omni", "core", "peak", "cedar", "harbor", "stellar", "crimson", "golden", "rapid", "clear",
    "true", "ever", "next", "hyper", "meta", "pixel", "orbit", "echo", "prime",
)  # fmt: skip
COMPANY_SUFFIXES = (
    "labs", "works", "systems", "soft", "logic", "ware", "tech", "data", "grid", "scale",
    "flow", "point", "base", "hub", "line", "stack",
)  # fmt: skip
FREE_MAIL = (("gmail.com", 0.55), ("yahoo.com", 0.15), ("hotmail.com", 0.15), ("outlook.com", 0.15))

# --------------------------------------------------------------------------------------------
# Model parameters (tuned: 90-day conversion ~14 %, oracle AUC ~0.82, ~20 activities per lead)
# --------------------------------------------------------------------------------------------

US_PER_SECOND = 1_000_000
US_PER_HOUR = 3_600 * US_PER_SECOND
US_PER_DAY = 24 * US_PER_HOUR
LEAD_GROWTH = np.log(1.6)  # daily lead volume at the end / at the start of the period
WEEKEND_MOVE = 0.6  # share of weekend sign-ups moved to the Friday before
COMPANY_SIZE_LOG_MEDIAN = np.log(60.0)
COMPANY_SIZE_LOG_SD = 2.0
COMPANY_SIZE_NULL = 0.05
FREE_MAIL_INTERCEPT = -1.2
FREE_MAIL_SIZE = 0.6
EMAIL_FIT = 0.35  # + for corporate e-mail, - for free-mail

PROPENSITY_INTERCEPT = -2.5
PROPENSITY_INTEREST = 1.1
PROPENSITY_LOGIT_RANGE = (-5.5, 2.0)

ACTIVITY_BASE = 19.5  # expected engagement events for interest 0 (before truncation)
ACTIVITY_INTEREST = 0.55
ACTIVITY_SHAPE = 1.1  # gamma heterogeneity of engagement volume
DORMANT_SHARE = 0.06  # leads that never engage
COMPONENT_SHARES = (0.30, 0.50, 0.20)  # initial burst, decaying tail, re-engagement bursts
BURST_DAYS = 1.0
DECAY_DAYS = 30.0
REENGAGE_BURSTS = 0.6  # expected extra bursts per lead (every lead has at least one)
REENGAGE_WINDOW_DAYS = (14.0, 600.0)
REENGAGE_BURST_DAYS = 1.5
LOW_INTENT = ((PAGE_VIEW, 0.58), (EMAIL_OPEN, 0.27), (EMAIL_CLICK, 0.07), (CONTENT_DOWNLOAD, 0.08))
HIGH_INTENT = ((PRICING_PAGE_VIEW, 0.50), (FORM_SUBMIT, 0.25), (WEBINAR_ATTENDED, 0.25))
HIGH_INTENT_LOGIT = (-2.3, 0.8, 0.5)  # intercept, interest, burst bonus
DEMO_LOGIT = (-5.8, 1.5)  # intercept, interest

#: conversion anchor preference per engagement type (demo requests convert)
ANCHOR_WEIGHT = (1.0, 6.0, 0.5, 2.0, 6.0, 2.0, 4.0, 40.0)
ANCHOR_DECAY_DAYS = 150.0
ANCHOR_LAG_DAYS = 5.0
NO_ENGAGEMENT_OPP_DAYS = (2.0, 15.0)  # gamma shape, scale

#: MQL score per engagement type and threshold
MQL_POINTS = (2, 12, 1, 4, 16, 8, 16, 60)
MQL_THRESHOLD = 60
MQL_DELAY_HOURS = 2.0
SQL_LAG_DAYS = 2.0
SQL_SKIP = 0.08  # converting leads with an earlier mql that skip 'sql'
SQL_WITHOUT_OPP = 0.15  # share of non-converting mqls that sales accepts anyway
DISQUALIFY = (0.25, 0.35, 0.60)  # non-converting leads: new, mql, sql
DISQUALIFY_DAYS = (5.0, 2.0, 20.0)  # min days, gamma shape, scale

SALES_BEFORE_OPP = 1.5
SALES_NON_CONVERTING = (1.0, 3.0)  # mql only, sql
SALES_NON_CONVERTING_DAYS = 10.0
SALES_AFTER_OPP = ((MEETING, 2.5), (SALES_EMAIL, 4.0), (SALES_CALL, 1.5))
SALES_BEFORE_TYPES = ((SALES_EMAIL, 0.5), (SALES_CALL, 0.35), (MEETING, 0.15))

OPP_CYCLE_DAYS = (20.0, 120.0)
WIN_LOGIT = (-1.3, 0.9, -1.0)  # intercept, slope, centre on the propensity logit
AMOUNT_BASE = 12_000.0
AMOUNT_SIZE_ELASTICITY = 0.35
AMOUNT_SD = 0.6
SECOND_OPP = 0.06  # won leads that open a second (expansion) opportunity later
SECOND_OPP_DAYS = (30.0, 240.0)
SECOND_OPP_WIN = 0.45

#: drift kind engagement_shift: logged rows per real engagement event from the drift date on
#: (2.0: every e-mail open is logged twice, the copy REOPEN_HOURS later on average; 0.5: every
#: pricing page view is logged with probability 0.5)
ENGAGEMENT_SHIFT = ((EMAIL_OPEN, 2.0), (PRICING_PAGE_VIEW, 0.5))
REOPEN_HOURS = 6.0
#: drift kind conversion_shift: added to the propensity logit of leads created from the date on
CONVERSION_SHIFT_LOGIT = -0.6


# --------------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------------

DEFAULT_END_DATE = date(2026, 9, 30)
DEFAULT_CHUNK_SIZE = 200_000


@dataclass(frozen=True)
class GeneratorConfig:
    """Arguments of one generation run; the output depends on nothing else."""

    n_leads: int
    seed: int
    end_date: date = DEFAULT_END_DATE
    months: int = 18
    fault_rate: float = 0.0
    chunk_size: int = DEFAULT_CHUNK_SIZE
    drift_after: date | None = None  # first day of the drift (None: no drift)
    drift_kinds: tuple[str, ...] = DRIFT_KINDS  # used only with drift_after
    scenario: str = "b2b"
    shift_after: date | None = None  # b2c_shift: first day of the base-rate jump (None: default)

    def __post_init__(self) -> None:
        if self.n_leads < 1 or self.n_leads > 99_999_999:
            raise ValueError(f"n_leads must be in 1..99,999,999, got {self.n_leads}")
        if self.months < 1:
            raise ValueError(f"months must be >= 1, got {self.months}")
        if not 0.0 <= self.fault_rate <= 0.05:
            raise ValueError(f"fault_rate must be in [0, 0.05], got {self.fault_rate}")
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {self.chunk_size}")
        self._check_drift()
        self._check_scenario()

    def _check_scenario(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ValueError(
                f"unknown scenario {self.scenario!r}; choose from {', '.join(SCENARIOS)}"
            )
        if self.scenario == "b2b":
            if self.shift_after is not None:
                raise ValueError(
                    "shift_after applies to scenario b2c_shift only; for b2b data use "
                    "drift_after (--drift-after) or leave it unset"
                )
            return
        if self.fault_rate > 0 or self.drift_after is not None:
            raise ValueError(
                f"scenario {self.scenario} injects no faults and no drift; leave fault_rate "
                "(--faults) at 0 and drift_after (--drift-after) unset, or use scenario b2b"
            )
        if not self.start_date < self.shift_date <= self.end_date:
            raise ValueError(
                f"shift_after {self.shift_date.isoformat()} is outside the data period "
                f"{self.start_date.isoformat()}..{self.end_date.isoformat()}; choose a date "
                f"after {self.start_date.isoformat()} and on or before "
                f"{self.end_date.isoformat()} (default: four months before the end)"
            )

    @property
    def shift_date(self) -> date:
        """b2c_shift: first day of the base-rate jump (default: the last four months)."""
        if self.shift_after is not None:
            return self.shift_after
        from leadscore import generate_b2c

        return generate_b2c.default_shift_after(self.end_date)

    def _check_drift(self) -> None:
        unknown = [k for k in self.drift_kinds if k not in DRIFT_KINDS]
        if unknown:
            raise ValueError(
                f"unknown drift kind {', '.join(map(repr, unknown))}; "
                f"choose from {', '.join(DRIFT_KINDS)} (comma-separated)"
            )
        # canonical order without repeats, so equal choices give equal configs and output
        object.__setattr__(
            self, "drift_kinds", tuple(k for k in DRIFT_KINDS if k in self.drift_kinds)
        )
        if self.drift_after is None:
            return
        if not self.drift_kinds:
            raise ValueError(
                f"drift_kinds is empty; name at least one of {', '.join(DRIFT_KINDS)}, "
                "or leave drift_after unset for data without drift"
            )
        first = self.start_date
        if not first < self.drift_after <= self.end_date:
            raise ValueError(
                f"drift_after {self.drift_after.isoformat()} is outside the data period "
                f"{first.isoformat()}..{self.end_date.isoformat()}; choose a date after "
                f"{first.isoformat()} and on or before {self.end_date.isoformat()} "
                "(e.g. three months before the end)"
            )

    @property
    def start_date(self) -> date:
        """First day of the period."""
        return _shift_months(self.end_date + timedelta(days=1), -self.months)

    @property
    def drift_from_us(self) -> int | None:
        """Start of the drift (drift_after 00:00) in epoch microseconds; None without drift."""
        return None if self.drift_after is None else _epoch_us(self.drift_after)

    def drifts(self, kind: str) -> bool:
        """Whether drift of this kind is injected."""
        return self.drift_after is not None and kind in self.drift_kinds

    @property
    def end_us(self) -> int:
        """Exclusive end of the period: midnight after end_date, in epoch microseconds."""
        return _epoch_us(self.end_date + timedelta(days=1))

    @property
    def start_us(self) -> int:
        """Start of the period: ``months`` calendar months before end_us."""
        return _epoch_us(self.start_date)

    @property
    def start_weekday(self) -> int:
        return self.start_date.weekday()

    def chunks(self) -> list[tuple[int, int]]:
        """(first lead index, number of leads) per chunk."""
        return [
            (first, min(self.chunk_size, self.n_leads - first))
            for first in range(0, self.n_leads, self.chunk_size)
        ]


def _epoch_us(d: date) -> int:
    return (datetime(d.year, d.month, d.day) - datetime(1970, 1, 1)) // timedelta(microseconds=1)


def _shift_months(d: date, months: int) -> date:
    years, month0 = divmod(d.month - 1 + months, 12)
    year = d.year + years
    next_month = date(year + (month0 + 1) // 12, (month0 + 1) % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return date(year, month0 + 1, min(d.day, last_day))


# --------------------------------------------------------------------------------------------
# Small numeric helpers
# --------------------------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _column(table: Sequence[tuple], i: int) -> np.ndarray:
    return np.asarray([row[i] for row in table], dtype=float)


def _draw(
    rng: np.random.Generator, table: Sequence[tuple], n: int, share_col: int = 1
) -> np.ndarray:
    """Indices into a reference table, drawn by its share column."""
    p = _column(table, share_col)
    return rng.choice(len(table), size=n, p=p / p.sum())


def _group_starts(counts: np.ndarray) -> np.ndarray:
    return np.cumsum(counts) - counts


def _first_in_group(group: np.ndarray, mask: np.ndarray, n_groups: int) -> np.ndarray:
    """Position of the first True of ``mask`` per group (-1 if none); group must be sorted."""
    pos = np.flatnonzero(mask)
    first = np.full(n_groups, -1, dtype=np.int64)
    uniq, at = np.unique(group[pos], return_index=True)
    first[uniq] = pos[at]
    return first


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _take(values: Sequence[str], idx: np.ndarray) -> pa.Array:
    return pc.take(pa.array(values, pa.string()), pa.array(idx, pa.int64()))


def _timestamps(us: np.ndarray) -> pa.Array:
    """Float epoch microseconds to timestamp[us], floored to the second; non-finite -> NULL."""
    finite = np.isfinite(us)
    secs = np.floor(np.where(finite, us, 0.0) / US_PER_SECOND).astype(np.int64)
    return pa.array(secs * US_PER_SECOND, TS, mask=~finite)


# --------------------------------------------------------------------------------------------
# Leads
# --------------------------------------------------------------------------------------------


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
        lead_id=_ids("L", np.arange(first + 1, first + n + 1), 8),
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


# --------------------------------------------------------------------------------------------
# Engagement
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Funnel: statuses, sales touches, opportunities
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Lifecycle of a group of leads; drift
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------


def _fault_count(n_rows: int, rate: float) -> int:
    """About ``rate`` of the rows, at least one per chunk when faults are on."""
    if rate <= 0.0 or n_rows == 0:
        return 0
    return max(1, round(n_rows * rate))


def _disjoint_rows(rng: np.random.Generator, n_rows: int, k: int, parts: int) -> list[np.ndarray]:
    picked = rng.choice(n_rows, size=min(n_rows, k * parts), replace=False)
    return [np.sort(p) for p in np.array_split(picked, parts)]


def _mask(n: int, rows: np.ndarray) -> pa.Array:
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    return pa.array(mask)


def _set_null(col: pa.Array, rows: np.ndarray) -> pa.Array:
    return pc.if_else(_mask(len(col), rows), pa.scalar(None, col.type), col)


def _replace(col: pa.Array, rows: np.ndarray, values: pa.Array) -> pa.Array:
    """Values at sorted ``rows`` replaced by ``values`` (same order)."""
    return pc.replace_with_mask(col, _mask(len(col), rows), values.cast(col.type))


def _future_us(rng: np.random.Generator, n: int) -> np.ndarray:
    start = _epoch_us(date(FUTURE_YEAR, 1, 1))
    return start + np.floor(rng.uniform(0, 365, n) * 86_400) * US_PER_SECOND


def _duplicate_rows(rng: np.random.Generator, table: pa.Table, k: int) -> tuple[pa.Table, int]:
    """Exact copies of k rows, each right after its original."""
    if k == 0:
        return table, 0
    n = table.num_rows
    dup = rng.choice(n, size=min(k, n), replace=False)
    return table.take(np.sort(np.concatenate([np.arange(n), dup]))), dup.size


def _lead_faults(
    rng: np.random.Generator, table: pa.Table, rate: float, counts: dict[str, int]
) -> pa.Table:
    n = table.num_rows
    k = _fault_count(n, rate)
    if k == 0:
        return table
    cols = {name: table.column(name).combine_chunks() for name in table.column_names}
    null_rows, email_rows, placeholder_rows, size_rows = _disjoint_rows(rng, n, k, 4)

    nullable = ("industry", "country", "job_title", "email")
    which = rng.integers(len(nullable), size=null_rows.size)
    for i, name in enumerate(nullable):
        cols[name] = _set_null(cols[name], null_rows[which == i])
    counts["null_lead_attribute"] += null_rows.size

    emails = pc.take(cols["email"], email_rows)
    variants = [pc.replace_substring(emails, "@", r) for r in ("", " at ", "(at)")]
    pick = pa.array(rng.integers(len(variants), size=email_rows.size), pa.int8())
    cols["email"] = _replace(cols["email"], email_rows, pc.choose(pick, *variants))
    counts["malformed_email"] += email_rows.size

    targets = ("industry", "job_title", "country")
    which = rng.integers(len(targets), size=placeholder_rows.size)
    for i, name in enumerate(targets):
        rows = placeholder_rows[which == i]
        values = _take(PLACEHOLDER_VALUES, rng.integers(len(PLACEHOLDER_VALUES), size=rows.size))
        cols[name] = _replace(cols[name], rows, values)
    counts["placeholder_value"] += placeholder_rows.size

    sizes = pc.take(cols["company_size"], size_rows).to_numpy(zero_copy_only=False)
    negative = -np.nan_to_num(sizes.astype(float), nan=1.0).astype(np.int64)
    cols["company_size"] = _replace(cols["company_size"], size_rows, pa.array(negative))
    counts["negative_company_size"] += size_rows.size

    table, added = _duplicate_rows(rng, pa.table(cols, schema=table.schema), k)
    counts["duplicate_lead"] += added
    return table


def _activity_faults(
    rng: np.random.Generator, table: pa.Table, rate: float, n_leads: int, counts: dict[str, int]
) -> pa.Table:
    n = table.num_rows
    k = _fault_count(n, rate)
    if k == 0:
        return table
    cols = {name: table.column(name).combine_chunks() for name in table.column_names}
    null_lead, null_time, unknown, variant, orphan, future = _disjoint_rows(rng, n, k, 6)

    cols["lead_id"] = _set_null(cols["lead_id"], null_lead)
    cols["occurred_at"] = _set_null(cols["occurred_at"], null_time)
    values = _take(
        UNKNOWN_ACTIVITY_TYPES, rng.integers(len(UNKNOWN_ACTIVITY_TYPES), size=unknown.size)
    )
    cols["activity_type"] = _replace(cols["activity_type"], unknown, values)

    original = pc.take(cols["activity_type"], variant)
    title = pc.utf8_title(original)
    variants = [
        pc.utf8_upper(original),
        pc.binary_join_element_wise(" ", title, " ", ""),
        pc.binary_join_element_wise(title, "  ", ""),
    ]
    pick = pa.array(rng.integers(len(variants), size=variant.size), pa.int8())
    cols["activity_type"] = _replace(cols["activity_type"], variant, pc.choose(pick, *variants))

    ghost = n_leads + 1 + rng.integers(n_leads, size=orphan.size)
    cols["lead_id"] = _replace(cols["lead_id"], orphan, _ids("L", ghost, 8))
    cols["occurred_at"] = _replace(
        cols["occurred_at"], future, pa.array(_future_us(rng, future.size).astype(np.int64), TS)
    )
    for kind, rows in (
        ("null_activity_lead_id", null_lead),
        ("null_activity_occurred_at", null_time),
        ("unknown_activity_type", unknown),
        ("activity_type_variant", variant),
        ("orphan_activity", orphan),
        ("future_activity_timestamp", future),
    ):
        counts[kind] += rows.size

    table, added = _duplicate_rows(rng, pa.table(cols, schema=table.schema), k)
    counts["duplicate_activity"] += added
    return table


def _opportunity_faults(
    rng: np.random.Generator, table: pa.Table, rate: float, counts: dict[str, int]
) -> pa.Table:
    n = table.num_rows
    k = _fault_count(n, rate)
    if k == 0:
        return table
    cols = {name: table.column(name).combine_chunks() for name in table.column_names}
    future, negative = _disjoint_rows(rng, n, k, 2)

    created = _future_us(rng, future.size)
    closed = pc.take(cols["closed_at"], future).is_valid().to_numpy(zero_copy_only=False)
    closed_us = np.where(closed, created + 30 * US_PER_DAY, np.nan)
    cols["created_at"] = _replace(cols["created_at"], future, _timestamps(created))
    cols["closed_at"] = _replace(cols["closed_at"], future, _timestamps(closed_us))
    counts["future_opportunity_timestamp"] += future.size

    amounts = pc.take(cols["amount"], negative)
    cols["amount"] = _replace(cols["amount"], negative, pc.negate(amounts))
    counts["negative_opportunity_amount"] += negative.size
    return pa.table(cols, schema=table.schema)


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------


@dataclass
class Chunk:
    """The tables of one chunk of leads, the faults injected into them, the drift counts and
    the scenario counts (none for b2b)."""

    tables: dict[str, pa.Table]
    faults: dict[str, int]
    drift: dict[str, int]
    scenario: dict[str, int] = field(default_factory=dict)


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def _chunk(
    cfg: GeneratorConfig, index: int, first: int, n: int, activity_id: int, opportunity_id: int
) -> Chunk:
    if cfg.scenario == "b2c_shift":
        from leadscore import generate_b2c

        return generate_b2c.chunk(cfg, index, first, n, activity_id, opportunity_id)
    rng = _rng(cfg.seed, index)
    leads = _leads(rng, cfg, first, n)
    drift = dict.fromkeys(DRIFT_COUNTS, 0)
    late = _redrawn_leads(cfg, leads, drift)
    if late.size == 0:
        life = _simulate(rng, leads)
    else:  # a chunk whose leads are all drawn again (drifted) needs no undrifted draw
        undrifted = _simulate(rng, leads) if late.size < n else None
        life = _drift_leads(cfg, index, leads, undrifted, late, drift)
    activities = _observed(life.activities, cfg.end_us)
    if cfg.drifts("engagement_shift"):
        activities = _shift_engagement(
            _rng(cfg.seed, index, DRIFT_STREAM, 1), activities, cfg.drift_from_us, cfg.end_us, drift
        )
    leads, funnel = life.leads, life.funnel
    tables = {
        "leads": _leads_table(leads, life.emails),
        "activities": _activities_table(leads.lead_id, activities, activity_id),
        "opportunities": _opportunities_table(
            leads.lead_id, funnel, life.deals, cfg.end_us, opportunity_id
        ),
        "lead_status_changes": _status_table(leads, funnel, cfg.end_us),
        "lead_truth": _truth_table(leads),
    }
    faults = dict.fromkeys(FAULT_KINDS, 0)
    if cfg.fault_rate > 0:
        f_rng = _rng(cfg.seed, index, 1)
        rate = cfg.fault_rate
        tables["leads"] = _lead_faults(f_rng, tables["leads"], rate, faults)
        tables["activities"] = _activity_faults(
            f_rng, tables["activities"], rate, cfg.n_leads, faults
        )
        tables["opportunities"] = _opportunity_faults(f_rng, tables["opportunities"], rate, faults)
    return Chunk(tables, faults, drift)


def iter_chunks(cfg: GeneratorConfig) -> Iterator[Chunk]:
    """The chunks of a run in order; ids continue across chunks."""
    activity_id = opportunity_id = 1
    for index, (first, n) in enumerate(cfg.chunks()):
        chunk = _chunk(cfg, index, first, n, activity_id, opportunity_id)
        # ids are numbered before duplicates are injected: count the distinct ones
        activity_id += _clean_rows(chunk, "activities", "duplicate_activity")
        opportunity_id += chunk.tables["opportunities"].num_rows
        yield chunk


def _clean_rows(chunk: Chunk, table: str, duplicate_kind: str) -> int:
    return chunk.tables[table].num_rows - chunk.faults[duplicate_kind]


def _sum_counts(chunks: Sequence[Mapping[str, int]], keys: Sequence[str]) -> dict[str, int]:
    return {key: sum(c[key] for c in chunks) for key in keys}


def generate(
    n_leads: int,
    seed: int,
    end_date: date = DEFAULT_END_DATE,
    months: int = 18,
    fault_rate: float = 0.0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    drift_after: date | None = None,
    drift_kinds: Sequence[str] = DRIFT_KINDS,
    scenario: str = "b2b",
    shift_after: date | None = None,
) -> dict[str, pa.Table]:
    """All tables in memory: the four raw tables and lead_truth.

    The fault counts, the drift report and (other than b2b) the scenario report ride along as
    JSON in the schema metadata of lead_truth (read them with :func:`fault_counts`,
    :func:`drift_report` and :func:`scenario_report`).
    """
    cfg = GeneratorConfig(
        n_leads,
        seed,
        end_date,
        months,
        fault_rate,
        chunk_size,
        drift_after,
        tuple(drift_kinds),
        scenario,
        shift_after,
    )
    chunks = list(iter_chunks(cfg))
    tables = {name: pa.concat_tables([c.tables[name] for c in chunks]) for name in SCHEMAS}
    faults = _sum_counts([c.faults for c in chunks], FAULT_KINDS)
    drift = _drift_report(cfg, _sum_counts([c.drift for c in chunks], DRIFT_COUNTS))
    metadata = {FAULTS_METADATA_KEY: json.dumps(faults), DRIFT_METADATA_KEY: json.dumps(drift)}
    if cfg.scenario != "b2b":
        report = _scenario_report(cfg, [c.scenario for c in chunks])
        metadata[SCENARIO_METADATA_KEY] = json.dumps(report)
    tables[TRUTH_TABLE] = tables[TRUTH_TABLE].replace_schema_metadata(metadata)
    return tables


def _scenario_report(cfg: GeneratorConfig, chunks: Sequence[Mapping[str, int]]) -> dict:
    from leadscore import generate_b2c

    return generate_b2c.scenario_report(cfg, _sum_counts(chunks, generate_b2c.COUNTS))


def schemas(cfg: GeneratorConfig) -> dict[str, pa.Schema]:
    """The schema of every table a run writes (the leads columns depend on the scenario)."""
    if cfg.scenario == "b2c_shift":
        from leadscore import generate_b2c

        return {**SCHEMAS, "leads": generate_b2c.LEADS_SCHEMA}
    return dict(SCHEMAS)


def fault_counts(tables: dict[str, pa.Table]) -> dict[str, int]:
    """Injected faults per kind of tables returned by :func:`generate`."""
    metadata = tables[TRUTH_TABLE].schema.metadata or {}
    if FAULTS_METADATA_KEY not in metadata:
        return dict.fromkeys(FAULT_KINDS, 0)
    return json.loads(metadata[FAULTS_METADATA_KEY])


def drift_report(tables: dict[str, pa.Table]) -> dict[str, object]:
    """The drift injected into tables returned by :func:`generate` (what drift.json holds)."""
    metadata = tables[TRUTH_TABLE].schema.metadata or {}
    if DRIFT_METADATA_KEY not in metadata:
        return _no_drift_report()
    return json.loads(metadata[DRIFT_METADATA_KEY])


def scenario_report(tables: dict[str, pa.Table]) -> dict[str, object]:
    """The scenario of tables returned by :func:`generate` (what scenario.json holds; b2b has
    no scenario.json)."""
    metadata = tables[TRUTH_TABLE].schema.metadata or {}
    if SCENARIO_METADATA_KEY not in metadata:
        return {"scenario": "b2b"}
    return json.loads(metadata[SCENARIO_METADATA_KEY])


def _write_scenario_json(out_dir: str | os.PathLike[str], report: Mapping) -> Path | None:
    """scenario.json beside the truth; a b2b run removes a stale one (and writes none, so b2b
    output stays what it was before scenarios existed)."""
    path = truth_dir(out_dir) / "scenario.json"
    if report.get("scenario", "b2b") == "b2b":
        path.unlink(missing_ok=True)
        return None
    return _write_json(out_dir, "scenario.json", report)


def truth_dir(out_dir: str | os.PathLike[str]) -> Path:
    """Where the ground truth goes: ``<out_dir>/../truth`` (never inside out_dir)."""
    return Path(os.path.abspath(out_dir)).parent / "truth"


def _paths(out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    paths = {name: Path(out_dir) / f"{name}.parquet" for name in RAW_TABLES}
    paths[TRUTH_TABLE] = truth_dir(out_dir) / f"{TRUTH_TABLE}.parquet"
    return paths


def _write_json(out_dir: str | os.PathLike[str], name: str, content: Mapping) -> Path:
    path = truth_dir(out_dir) / name
    path.write_text(json.dumps(content, indent=2) + "\n")
    return path


def write(tables: dict[str, pa.Table], out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Writes the raw tables to out_dir; lead_truth, faults.json and drift.json (always, so no
    stale report stays behind) to out_dir/../truth."""
    paths = _paths(out_dir)
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    for name, path in paths.items():
        table = tables[name].replace_schema_metadata(None)
        pq.write_table(table, path, compression="zstd")
    paths["faults"] = _write_json(out_dir, "faults.json", fault_counts(tables))
    paths["drift"] = _write_json(out_dir, "drift.json", drift_report(tables))
    scenario = _write_scenario_json(out_dir, scenario_report(tables))
    if scenario is not None:
        paths["scenario"] = scenario
    return paths


def generate_to(cfg: GeneratorConfig, out_dir: str | os.PathLike[str]) -> dict[str, int]:
    """Generates and writes chunk by chunk (bounded memory); returns rows per table."""
    paths = _paths(out_dir)
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    table_schemas = schemas(cfg)
    writers = {
        name: pq.ParquetWriter(path, table_schemas[name], compression="zstd")
        for name, path in paths.items()
    }
    rows = dict.fromkeys(paths, 0)
    faults: list[dict[str, int]] = []
    drift: list[dict[str, int]] = []
    scenario: list[dict[str, int]] = []
    try:
        for chunk in iter_chunks(cfg):
            for name, writer in writers.items():
                writer.write_table(chunk.tables[name])
                rows[name] += chunk.tables[name].num_rows
            faults.append(chunk.faults)
            drift.append(chunk.drift)
            scenario.append(chunk.scenario)
    finally:
        for writer in writers.values():
            writer.close()
    _write_json(out_dir, "faults.json", _sum_counts(faults, FAULT_KINDS))
    _write_json(out_dir, "drift.json", _drift_report(cfg, _sum_counts(drift, DRIFT_COUNTS)))
    report = {"scenario": "b2b"} if cfg.scenario == "b2b" else _scenario_report(cfg, scenario)
    _write_scenario_json(out_dir, report)
    return rows


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m leadscore.generate",
        description="Generate a synthetic lead funnel (raw CRM tables as Parquet): the B2B demo "
        "or another --scenario.",
    )
    parser.add_argument("--leads", type=int, required=True, help="number of leads")
    parser.add_argument("--seed", type=int, required=True, help="random seed")
    parser.add_argument("--out", required=True, help="folder for the raw tables")
    parser.add_argument(
        "--faults", type=float, default=0.0, help="share of rows per fault kind (e.g. 0.002)"
    )
    parser.add_argument(
        "--end-date",
        type=date.fromisoformat,
        default=DEFAULT_END_DATE,
        help="last day of the period (YYYY-MM-DD)",
    )
    parser.add_argument("--months", type=int, default=18, help="length of the period")
    parser.add_argument(
        "--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, help="leads per chunk"
    )
    parser.add_argument(
        "--drift-after",
        type=_iso_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="inject drift from this day on (default: no drift)",
    )
    parser.add_argument(
        "--drift-kinds",
        default=None,
        metavar="KIND[,KIND...]",
        help=f"comma-separated drift kinds (default: all of {','.join(DRIFT_KINDS)})",
    )
    parser.add_argument(
        "--scenario",
        default="b2b",
        help=f"data scenario, one of {', '.join(SCENARIOS)} (default b2b: the B2B demo; "
        "b2c_shift: B2C, no firmographics, a trending attribute and a base-rate jump)",
    )
    parser.add_argument(
        "--shift-after",
        type=_iso_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="b2c_shift: first day of the base-rate jump (default: four months before the end)",
    )
    return parser.parse_args(argv)


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-07-01"
        ) from None


def _drift_kinds(text: str | None) -> tuple[str, ...]:
    if text is None:
        return DRIFT_KINDS
    return tuple(k.strip() for k in text.split(",") if k.strip())


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    try:
        if args.drift_kinds is not None and args.drift_after is None:
            raise ValueError(
                "--drift-kinds needs --drift-after YYYY-MM-DD (the first day of the drift)"
            )
        cfg = GeneratorConfig(
            n_leads=args.leads,
            seed=args.seed,
            end_date=args.end_date,
            months=args.months,
            fault_rate=args.faults,
            chunk_size=args.chunk_size,
            drift_after=args.drift_after,
            drift_kinds=_drift_kinds(args.drift_kinds),
            scenario=args.scenario,
            shift_after=args.shift_after,
        )
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    rows = generate_to(cfg, args.out)
    for name, path in _paths(args.out).items():
        print(f"{name}: {rows[name]:,} rows -> {path}")
    if cfg.drift_after is not None:
        path = truth_dir(args.out) / "drift.json"
        print(f"drift from {cfg.drift_after}: {', '.join(cfg.drift_kinds)} -> {path}")
    if cfg.scenario != "b2b":
        path = truth_dir(args.out) / "scenario.json"
        report = json.loads(path.read_text())
        print(f"scenario {cfg.scenario} (base-rate jump from {cfg.shift_date}) -> {path}")
        print(f"dbt vars for its custom attributes: --vars '{report['dbt_vars']}'")
    print(f"generated in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
