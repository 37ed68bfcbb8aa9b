"""The demo generator's contract: the raw table schemas, activity types, fault and drift kinds."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import pyarrow as pa

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
