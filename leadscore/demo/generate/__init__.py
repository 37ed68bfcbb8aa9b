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
described in :mod:`leadscore.demo.generate.b2c` and ``../truth/scenario.json`` records it (a b2b run
removes a stale scenario.json).

Generation is vectorised with numpy and pyarrow and runs in chunks of leads; chunk ``k`` draws
from its own random stream (``SeedSequence(seed, spawn_key=(k,))``), so the output depends only
on the arguments. Faults and drift draw from separate streams: faults change no clean value, and
the leads created from the drift date on are drawn a second time (drifted) and replace their
undrifted draw, so without drift not one extra random number is drawn.

Modules: ``contract`` (schemas, kinds), ``parameters`` (reference data, tuned parameters),
``config`` (GeneratorConfig), ``population`` (leads), ``activities`` (engagement, funnel,
sales touches), ``opportunities`` (deals, statuses, truth), ``lifecycle``, ``drift``,
``faults``, ``b2c`` (scenario b2c_shift), ``build`` (the driver and writing), ``cli``.
"""

from leadscore.demo.generate.build import (
    drift_report,
    fault_counts,
    generate,
    generate_to,
    iter_chunks,
    scenario_report,
    schemas,
    truth_dir,
    write,
)
from leadscore.demo.generate.cli import main
from leadscore.demo.generate.config import DEFAULT_CHUNK_SIZE, DEFAULT_END_DATE, GeneratorConfig
from leadscore.demo.generate.contract import (
    ACTIVITY_TYPES,
    DRIFT_KINDS,
    ENGAGEMENT_TYPES,
    FAULT_KINDS,
    FUTURE_YEAR,
    PLACEHOLDER_VALUES,
    RAW_TABLES,
    SALES_TOUCH_TYPES,
    SCENARIOS,
    SCHEMAS,
    TRUTH_TABLE,
    UNKNOWN_ACTIVITY_TYPES,
)

__all__ = [
    "ACTIVITY_TYPES",
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_END_DATE",
    "DRIFT_KINDS",
    "ENGAGEMENT_TYPES",
    "FAULT_KINDS",
    "FUTURE_YEAR",
    "PLACEHOLDER_VALUES",
    "RAW_TABLES",
    "SALES_TOUCH_TYPES",
    "SCENARIOS",
    "SCHEMAS",
    "TRUTH_TABLE",
    "UNKNOWN_ACTIVITY_TYPES",
    "GeneratorConfig",
    "drift_report",
    "fault_counts",
    "generate",
    "generate_to",
    "iter_chunks",
    "main",
    "scenario_report",
    "schemas",
    "truth_dir",
    "write",
]
