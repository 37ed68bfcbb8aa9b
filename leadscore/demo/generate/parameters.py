"""Reference data (value, share, effect on the propensity logit) and the tuned model parameters
of the B2B demo funnel (90-day conversion ~14 %, oracle AUC ~0.82, ~20 activities per lead)."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from leadscore.demo.generate.contract import (
    CONTENT_DOWNLOAD,
    EMAIL_CLICK,
    EMAIL_OPEN,
    FORM_SUBMIT,
    MEETING,
    PAGE_VIEW,
    PRICING_PAGE_VIEW,
    SALES_CALL,
    SALES_EMAIL,
    WEBINAR_ATTENDED,
)

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
