"""The one home of leadscore's settings: the table of dbt vars, and the environment.

``SETTINGS`` declares every dbt var of the project once (after scikit-learn's
``utils/_param_validation``): its kind, bounds or choices, default, an example and a one-line
doc, grouped like the ``vars:`` block of ``dbt_project.yml``. ``validate(name, value)`` is the
one function that checks and coerces a value; its errors name the var, the bad value and the
fix. Every config object (``TrainingConfig``, ``RegistryPolicy``, ``DriftConfig``,
``SegmentationConfig``) declares its fields with ``setting_field`` (default from the table)
and builds through ``from_vars``; a few package knobs that are not dbt vars (``seed``,
``n_time_folds`` …, ``dbt_var=False``) are validated by the same table.

Generated from the table (``python -m leadscore.settings`` writes both, ``--check`` tells
whether they are current; ``tests/python/test_settings.py`` fails when they are not):

- ``macros/settings.sql``: the Jinja side, macro ``leadscore_var(name)`` =
  ``var(name, <table default>)`` validated by the same kind, bounds and choices (one compiler
  error that names the var, the value and the fix). SQL, macros and yml data tests read vars
  only through it. It returns typed values: numbers, booleans, identifiers matching
  ``[A-Za-z_][A-Za-z0-9_]*``, choices, and a validated timestamp text; the only free texts
  (``placeholder_values``, ``pinned_model_version``) are returned as data and must be quoted
  by their caller, never pasted into SQL raw.
- ``docs/vars.md``: the user's reference, one table per group.

Decision: ``dbt_project.yml`` keeps its ``vars:`` block as the user-facing list (dbt needs it:
the ``leadscore_vars`` / ``drift_vars`` config blocks in properties yml are rendered where no
macro exists, with plain ``var('x')``, which must find the var there). Its names and values
must equal this table, and every config block must pass exactly the vars its config object
reads as ``"{{ var('<name>') }}"`` (tests/python/test_settings.py checks both), so no var can
be missing or carry a second default. Where the old defaults disagreed, dbt_project.yml won
(it is what users got): ``min_training_conversions`` 100, ``search_budget_seconds`` 60.

``environment()`` is the only place in the package that reads environment variables; every
command line and benchmark asks it for the folders and limits the build uses (the dbt side
reads the same variables with ``env_var`` in ``profiles.yml`` and the source contract, with
the same defaults).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from leadscore.populations import POPULATIONS

# ---------------------------------------------------------------------------------------------
# the environment

ENVIRONMENT_DEFAULTS: dict[str, str] = {
    "LEADSCORE_RAW_DIR": "data/raw",
    "LEADSCORE_DB": "leadscore.duckdb",
    "LEADSCORE_EXPORT_DIR": "exports",
    "LEADSCORE_MEMORY_LIMIT": "6GB",
    "LEADSCORE_TARGET": "dev",
}


@dataclass(frozen=True)
class Environment:
    """Where the build reads and writes, as the environment says (defaults above)."""

    raw_dir: Path
    db: Path
    export_dir: Path
    memory_limit: str
    target: str


def environment(env: Mapping[str, str] | None = None) -> Environment:
    """The LEADSCORE_* variables of ``env`` (default: the process environment)."""
    source = os.environ if env is None else env

    def get(name: str) -> str:
        return source.get(name) or ENVIRONMENT_DEFAULTS[name]

    return Environment(
        raw_dir=Path(get("LEADSCORE_RAW_DIR")),
        db=Path(get("LEADSCORE_DB")),
        export_dir=Path(get("LEADSCORE_EXPORT_DIR")),
        memory_limit=get("LEADSCORE_MEMORY_LIMIT"),
        target=get("LEADSCORE_TARGET"),
    )


# ---------------------------------------------------------------------------------------------
# the table of vars

KINDS: dict[str, str] = {
    "int": "a whole number",
    "number": "a number",
    "bool": "true or false",
    "choice": "one of the choices",
    "name": "a column or schema name",
    "text": "any text",
    "timestamp": "a date or timestamp",
    "names": "a list of column names",
    "choices": "a list of choices",
    "texts": "a list of texts",
    "int_range": "[min, max] whole numbers",
}
LIST_KINDS = ("names", "choices", "texts")
IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
TIMESTAMP = r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?"
NULL_TEXTS = ("", "none", "null")

# the sections of dbt_project.yml vars, in order, and the package knobs (not dbt vars)
GROUPS: dict[str, str] = {
    "source": "Where the raw CRM data comes from",
    "point_in_time": "Point in time",
    "rules": "Rule-based scores (rules in seeds/scoring_rules.csv, grades in "
    "seeds/rule_grades.csv)",
    "training": "Model training and the registry (models/ml, logic in leadscore/)",
    "scoring": "Scoring, tiers and alerts (models/marts, models/scoring)",
    "monitoring": "Monitoring (models/monitoring)",
    "drift": "Feature drift (models/monitoring/feature_drift.py, logic in leadscore/drift.py)",
    "segmentation": "Segmentation (models/segmentation)",
    "package": "Package knobs (not dbt vars: fields of the config objects, set in Python)",
}


@dataclass(frozen=True)
class Setting:
    """One var: what it holds, what is allowed, its default and what it does.

    ``low``/``high`` bound a number (``closed``: which ends are allowed, ``both`` | ``left`` |
    ``right`` | ``neither``; whole numbers are always closed); ``choices`` list the allowed
    values of a ``choice``/``choices`` var; ``noun`` names the value in messages ("a share");
    ``example`` is a good value for the fix (default: the default).
    """

    name: str
    kind: str
    default: Any
    doc: str
    group: str
    low: float | None = None
    high: float | None = None
    closed: str = "both"
    choices: tuple[str, ...] = ()
    nullable: bool = False
    non_empty: bool = False
    distinct: bool = False
    noun: str = ""
    example: str = ""
    dbt_var: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS or self.group not in GROUPS:
            raise ValueError(f"setting {self.name}: unknown kind {self.kind} or group {self.group}")

    @property
    def bound(self) -> str:
        """The bounds in words: ``>= 1``, ``between 2 and 100``, ``in (0, 0.01)``."""
        lo, hi = _plain(self.low), _plain(self.high)
        if self.kind == "int_range":
            return f"with {lo} <= min_k <= max_k <= {hi}"
        if self.low is None and self.high is None:
            return ""
        left = self.closed in ("both", "left") or self.kind == "int"
        right = self.closed in ("both", "right") or self.kind == "int"
        if self.high is None:
            return f"{'>=' if left else '>'} {lo}"
        if self.low is None:
            return f"{'<=' if right else '<'} {hi}"
        if self.kind == "int":
            return f"between {lo} and {hi}"
        return f"in {'[' if left else '('}{lo}, {hi}{']' if right else ')'}"

    @property
    def what(self) -> str:
        """The value's noun without bounds: ``a whole number``, ``one of auto | platt``."""
        if self.noun:
            return self.noun
        if self.kind == "choice":
            return "one of " + " | ".join(self.choices)
        if self.kind == "int_range":
            return "[min_k, max_k]"
        if self.kind in LIST_KINDS:
            items = {"names": "column names", "texts": "texts"}.get(self.kind)
            items = items or "values of " + " | ".join(self.choices)
            return (
                f"a {'non-empty ' if self.non_empty else ''}list of "
                f"{'distinct ' if self.distinct else ''}{items}"
            )
        if self.kind == "timestamp":
            return "a date YYYY-MM-DD or a timestamp 'YYYY-MM-DD HH:MM:SS' (UTC)"
        return KINDS[self.kind]

    @property
    def expected(self) -> str:
        """Everything allowed, in words: ``a number > 0 or null``."""
        text = " ".join(part for part in (self.what, self.bound) if part)
        return text + (" or null" if self.nullable else "")

    @property
    def fix(self) -> str:
        return (
            f"set it in dbt_project.yml vars or with --vars '{{{self.name}: "
            f"{self.example or yaml_value(self.default)}}}'"
        )

    def error(self, value: Any, violated: str | None = None) -> ValueError:
        """``var X must be <violated>, got <value>; X must be <expected>; <fix>``."""
        violated = violated or self.what
        parts = [f"var {self.name} must be {violated}, got {value!r}"]
        if self.expected != violated:
            parts.append(f"{self.name} must be {self.expected}")
        return ValueError("; ".join([*parts, self.fix]))


def _plain(number: float | None) -> str:
    if number is None:
        return ""
    return str(int(number)) if float(number).is_integer() else repr(number)


def _int(
    name: str,
    default: int,
    doc: str,
    group: str,
    low: int | None = 1,
    high: int | None = None,
    **kw: Any,
) -> Setting:
    return Setting(name, "int", default, doc, group, low=low, high=high, **kw)


def _num(
    name: str,
    default: float | None,
    doc: str,
    group: str,
    low: float | None = None,
    high: float | None = None,
    closed: str = "both",
    **kw: Any,
) -> Setting:
    return Setting(name, "number", default, doc, group, low=low, high=high, closed=closed, **kw)


def _bool(name: str, default: bool, doc: str, group: str, **kw: Any) -> Setting:
    return Setting(name, "bool", default, doc, group, **kw)


def _choice(
    name: str, default: str, choices: tuple[str, ...], doc: str, group: str, **kw: Any
) -> Setting:
    return Setting(name, "choice", default, doc, group, choices=choices, **kw)


def _names(name: str, default: tuple[str, ...], doc: str, group: str, **kw: Any) -> Setting:
    return Setting(name, "names", default, doc, group, **kw)


_S, _P, _R, _T, _C, _M, _D, _G, _K = GROUPS  # the group keys, in order
MODEL_TYPES: tuple[str, ...] = ("logistic_regression", "xgboost", "mlp")

# fmt: off
SETTINGS_LIST: tuple[Setting, ...] = (
    # --- where the raw CRM data comes from
    _choice("crm_source_mode", "files", ("files", "tables"),
            "files: read $LEADSCORE_RAW_DIR/<table>.parquet or .csv into views in schema "
            "crm_schema; tables: the four tables already exist in schema crm_schema", _S),
    Setting("crm_schema", "name", "raw_crm", "schema of the raw CRM tables (views in files "
            "mode)", _S),
    Setting("placeholder_values", "texts",
            ("", "select", "unknown", "n/a", "na", "none", "null", "-", "--", "?"),
            "category values that mean \"unknown\" in CRM exports; cleaned to NULL (compared "
            "lowercased)", _S, example="['', unknown, n/a]"),
    _names("engagement_activity_types",
           ("page_view", "pricing_page_view", "email_open", "email_click", "form_submit",
            "content_download", "webinar_attended", "demo_request"),
           "activity types of the source contract that count as engagement; anything else is "
           "kept as 'other'", _S, non_empty=True, distinct=True,
           noun="a non-empty list of distinct names",
           example="[page_view, email_open, demo_request]"),
    _names("sales_touch_activity_types", ("sales_call", "sales_email", "meeting"),
           "activity types that are sales' own touches", _S, distinct=True,
           noun="a list of distinct names",
           example="[sales_call, meeting]"),
    _names("lead_categorical_attributes", (), "the user's own categorical CRM fields on leads "
           "that become model features", _S, distinct=True, example="[plan_tier, region]"),
    _names("lead_numeric_attributes", (), "the user's own numeric CRM fields on leads that "
           "become model features", _S, distinct=True, example="[basket_value]"),
    # --- point in time
    Setting("as_of", "timestamp", None, "scoring date: features use rows strictly before it; "
            "null = the midnight after the latest event in the data", _P, nullable=True,
            example="2026-10-01"),
    _choice("conversion_event", "opportunity", ("opportunity", "won"),
            "the label: an opportunity is created (opportunity) or closed won (won)", _P),
    _int("conversion_window_days", 90, "label: converts in [snapshot_at, + window); also the "
         "embargo between splits and CV folds", _P),
    _int("snapshot_interval_days", 7, "training snapshot grid, counted back from as_of", _P),
    _int("snapshot_history_days", 540, "no training snapshot older than this before as_of", _P),
    _int("max_snapshots_per_lead", 13, "grid snapshots per lead (its first N open ones)", _P),
    _num("first_snapshot_delay_hours", 1, "extra snapshot this long after creation (fast "
         "converters)", _P, low=0),
    _int("max_training_leads", 200_000, "leads in the training spine (hash sample); null = "
         "all", _P, nullable=True),
    _num("train_fraction", 0.7, "share of the matured leads (by first snapshot) in train; "
         "purged, lead-disjoint split", _P, low=0, high=1, closed="neither"),
    _num("valid_fraction", 0.15, "share in valid (test = the rest; an embargo of "
         "conversion_window_days before valid and before test)", _P, low=0, high=1,
         closed="neither"),
    _num("engagement_half_life_days", 14, "half-life of the time-decayed engagement score",
         _P, low=0, closed="neither"),
    _bool("include_sales_touch_features", False, "sales' own actions as features (off: they "
          "follow sales' judgement, not the lead's interest)", _P),
    _names("calendar_cumulative_features", ("n_prior_won_deals_domain",
                                            "prior_won_amount_domain"),
           "features that accumulate with calendar time; feature_drift compares them with a "
           "time-matched reference (list a custom attribute of that kind here)", _P,
           example="[n_prior_won_deals_domain, prior_orders_to_date]"),
    # --- rule-based scores
    _int("rule_base_score", 100, "every lead starts here; matched rules add their points", _R,
         low=None, noun="a whole number of points"),
    _int("rule_score_min", 0, "rule_score is clamped to [rule_score_min, rule_score_max]", _R,
         low=None, noun="a whole number of points"),
    _int("rule_score_max", 200, "upper end of the rule_score clamp (above rule_score_min)", _R,
         low=None, noun="a whole number of points"),
    # --- model training and the registry
    _int("min_training_conversions", 100, "fewer train positives: no model, scoring uses "
         "rules", _T),
    _num("search_budget_seconds", 60, "wall-clock cap of the hyperparameter search (the "
         "default setting of every candidate is always tried)", _T, low=0, closed="neither",
         noun="a number of seconds"),
    _int("max_search_trials", 12, "and at most this many settings per candidate", _T),
    _int("max_rows_per_split", 200_000, "labelled snapshots read per split (hash sample)", _T,
         low=100),
    _choice("calibration", "auto", ("auto", "isotonic", "platt"), "probability calibration "
            "fitted on the valid split (auto: isotonic with enough valid rows, else Platt)", _T),
    _names("exclude_features", (), "feature columns the models must not use", _T,
           example="[country, created_hour]"),
    _int("retrain_every_days", 28, "retrain when the champion's data is this old", _T),
    _bool("force_retrain", False, "train a new version on this run", _T),
    Setting("pinned_model_version", "text", None, "rollback: make this registry version the "
            "champion", _T, nullable=True, noun="a model_version", example="m0003-2026-09-01"),
    _num("champion_tolerance", 0.005, "a new model may be this much worse on test and still "
         "replace the champion", _T, low=0, high=1, closed="left"),
    _choice("champion_gate_metric", "roc_auc", ("roc_auc", "pr_auc"), "the champion gate's "
            "metric, on the same test rows", _T),
    Setting("model_types", "choices", MODEL_TYPES, "candidate families (+ the "
            "LR/XGBoost blend)", _T, choices=MODEL_TYPES, non_empty=True, distinct=True,
            example="[logistic_regression, xgboost]"),
    _choice("evaluation_population", "first_score", POPULATIONS, "rows that choose the model "
            "and that the gate judges (first_score: a lead's first score)", _T),
    _int("min_population_positives", 20, "fewer valid conversions in that population: choose "
         "on all snapshots", _T),
    _choice("training_weights", "row", ("lead", "row"), "row: every snapshot alike; lead: "
            "every lead the same total weight in a fit (1 / its snapshots)", _T),
    # --- scoring, tiers and alerts
    _num("expected_deal_value", None, "value of one conversion; null = learned from won "
         "deals", _C, low=0, nullable=True, example="5000"),
    _int("deal_value_lookback_days", 365, "won/closed opportunities closed this long before "
         "as_of", _C),
    _int("min_won_deals_per_band", 30, "fewer won deals in a company-size band: overall "
         "value", _C),
    _num("contact_cost", 50, "cost of working one lead (SDR time), same currency", _C, low=0),
    _int("weekly_sales_capacity", 100, "leads sales can call this week: at most this many "
         "hot", _C, low=0),
    _int("n_reasons", 3, "reasons up and reasons down per lead", _C, low=0),
    _int("exact_reasons_max_leads", 100_000, "exact TreeSHAP reasons for this many top leads, "
         "the rest approximated (Saabas); null = all exact", _C, low=0, nullable=True),
    _num("min_recall", 0.5, "score_thresholds: best valid precision with valid recall >= "
         "this", _C, low=0, high=1),
    _num("score_change_alert_points", 15, "score_changes: a move of at least this many "
         "points", _C, low=1),
    # --- monitoring
    _int("data_quality_recent_days", 30, "data_quality judges the rows of this many last "
         "days", _M),
    _num("data_quality_alert_penalty", 25, "data_quality_scores: points off per check in "
         "alert (thresholds: seed)", _M, low=0),
    _num("data_quality_watch_penalty", 10, "data_quality_scores: points off per check in "
         "watch", _M, low=0),
    _num("retrain_auc_drop", 0.05, "retrain when matured-cohort ROC-AUC is this much "
         "(relative) below the champion's test ROC-AUC", _M, low=0, high=1),
    _num("retrain_max_ece", 0.05, "retrain when matured-cohort calibration error exceeds it",
         _M, low=0, high=1),
    _num("retrain_min_importance", 0.05, "a drift alert counts for features with at least "
         "this share of the champion's importance", _M, low=0, high=1),
    _bool("retrain_on_recommendation", True, "the registry retrains when the last "
          "recommendation says so", _M),
    _int("min_days_between_retrains", 14, "but not within this many days of data of the last "
         "training", _M, low=0),
    # --- feature drift (drift_psi_watch < drift_psi_alert is checked by DriftConfig)
    _num("drift_psi_watch", 0.1, "feature_drift: PSI at or above this -> status watch", _D),
    _num("drift_psi_alert", 0.25, "and at or above this -> status alert (above "
         "drift_psi_watch)", _D),
    _int("drift_n_bins", 10, "reference-quantile bins per numeric feature (ties merge)", _D,
         low=2, high=100),
    _num("drift_psi_floor", 0.0001, "share given to a bin empty on one side (PSI stays "
         "finite)", _D, low=0, high=0.01, closed="neither", noun="a share"),
    _num("drift_max_p_value", 0.01, "watch/alert only if chi-square on the PSI bins confirms "
         "it: p below this / number of features (noise guard)", _D, low=0, high=1,
         closed="right", noun="a p-value"),
    _int("drift_reference_rows", 100_000, "rows compared per population (deterministic hash "
         "sample)", _D, low=100),
    _int("drift_calendar_reference_days", 28, "calendar_cumulative_features: days of grid "
         "snapshots in the time-matched reference", _D, noun="a whole number of days"),
    # --- segmentation
    Setting("rfm_frequency_column", "name", "n_active_days_all", "lead_rfm frequency: a count "
            "column of lead_features", _G),
    Setting("rfm_monetary_column", "name", "company_size", "lead_rfm monetary proxy (a lead "
            "whose value is NULL gets no monetary score)", _G),
    _names("segment_features",
           ("days_since_last_engagement", "n_active_days_all", "n_engagement_30d",
            "engagement_score_decayed", "n_pricing_page_view_90d", "n_demo_request_all",
            "company_size", "lead_age_days"),
           "K-Means features (numeric columns of lead_features; signed log1p, then "
           "standardized)", _G, non_empty=True, distinct=True,
           noun="a non-empty list of distinct lead_features columns",
           example="[days_since_last_engagement, n_active_days_all, company_size]"),
    Setting("segment_k_range", "int_range", (3, 8), "k tried [min, max]; the best silhouette "
            "wins", _G, low=2, high=50),
    _num("segment_k_tolerance", 0.01, "keep the previous k while its silhouette is this "
         "close", _G, low=0),
    _int("segment_sample_rows", 50_000, "leads the clustering is fitted on (all are "
         "assigned)", _G, low=100),
    _num("segment_match_radius", 0.5, "a centroid keeps an old id within this share of the "
         "way from that old centroid to its nearest old neighbour", _G, low=0,
         closed="neither"),
    _bool("segment_reset_ids", False, "true: ignore earlier runs, cluster ids restart at 1",
          _G),
    _choice("segment_outlier_method", "none", ("none", "dbscan"), "none | dbscan (flags "
            "leads outside every dense region)", _G),
    _num("segment_dbscan_eps", None, "DBSCAN radius in sd; null = automatic (k-distance)",
         _G, low=0, closed="neither", nullable=True, example="1.5"),
    _int("segment_dbscan_min_samples", 10, "DBSCAN neighbours of a core lead", _G, low=2),
    _num("segment_name_z_threshold", 0.5, "sd from the other leads that make a feature part "
         "of a name", _G, low=0, closed="neither"),
    _int("segment_name_max_terms", 2, "adjectives in a generated cluster name", _G, low=0,
         high=10),
    # --- package knobs: fields of the config objects, not dbt vars
    _int("seed", 42, "seed of every random choice (search order, XGBoost subsampling, "
         "K-Means)", _K, low=0, dbt_var=False),
    _int("n_jobs", 1, "threads of XGBoost, BLAS and OpenMP during fits", _K, high=256,
         dbt_var=False),
    _int("min_category_count", 20, "a category seen in fewer train rows is bucketed as rare",
         _K, dbt_var=False),
    _int("max_categories", 50, "most frequent categories per column with their own column",
         _K, dbt_var=False),
    _int("n_time_folds", 3, "expanding-window, time-ordered folds on train for the search",
         _K, high=20, dbt_var=False),
    _int("isotonic_min_rows", 1000, "calibration auto: isotonic from this many valid rows",
         _K, dbt_var=False),
    _int("isotonic_min_positives", 50, "and this many valid positives", _K, dbt_var=False),
    _choice("selection_metric", "pr_auc", ("pr_auc", "log_loss"), "how the ML candidate is "
            "chosen on valid", _K, dbt_var=False),
    _bool("class_weight_variants", True, "also train each family with class weighting", _K,
          dbt_var=False),
    _num("precision_at_k_fraction", 0.1, "k of precision@k as a fraction of the rows", _K,
         low=0, high=1, closed="right", noun="a fraction", dbt_var=False),
    _int("ece_bins", 10, "equal-frequency bins of the expected calibration error", _K,
         high=1000, dbt_var=False),
    _int("early_stopping_rounds", 30, "XGBoost rounds without improvement before stopping",
         _K, dbt_var=False),
    _int("top_n_features", 20, "features listed in the report's top features", _K,
         dbt_var=False),
    _bool("blend", True, "also offer the blend of the best LR and the best XGBoost", _K,
          dbt_var=False),
    _bool("refit", True, "refit the chosen setting on every matured row", _K, dbt_var=False),
    _int("segment_silhouette_rows", 5_000, "sample rows the silhouette is computed on", _K,
         low=100, dbt_var=False),
    _int("segment_n_init", 20, "k-means++ starts per k", _K, high=100, dbt_var=False),
    _int("segment_dbscan_sample_rows", 10_000, "sample rows DBSCAN runs on", _K, low=100,
         dbt_var=False),
    _num("segment_dbscan_auto_eps_quantile", 0.95, "quantile of the min_samples-th neighbour "
         "distance used as eps when segment_dbscan_eps is null", _K, low=0, high=1,
         closed="neither", noun="a fraction", dbt_var=False),
    _int("segment_profile_snapshot_rows", 500_000, "matured training snapshots read for "
         "conversion rates", _K, low=100, dbt_var=False),
)
# fmt: on
SETTINGS: dict[str, Setting] = {s.name: s for s in SETTINGS_LIST}
DBT_VARS: tuple[str, ...] = tuple(s.name for s in SETTINGS_LIST if s.dbt_var)


def setting(name: str) -> Setting:
    try:
        return SETTINGS[name]
    except KeyError:
        raise KeyError(f"{name} is not a leadscore setting (leadscore/settings.py)") from None


def default(name: str) -> Any:
    return setting(name).default


# ---------------------------------------------------------------------------------------------
# validation


def validate(name: str, value: Any) -> Any:
    """``value`` of setting ``name`` checked and coerced (lists → tuples, numeric text →
    numbers, 'true' → True); ``None`` for a nullable setting left unset. Raises ValueError
    naming the var, the bad value and the fix."""
    s = setting(name)
    if _is_null(s, value):
        if s.nullable:
            return None
        raise s.error(value)
    check = _CHECKS[s.kind]
    return check(s, value)


def _is_null(s: Setting, value: Any) -> bool:
    if value is None:
        return True
    # dbt renders a null var in yml ("{{ var('x') }}") as the text None
    if isinstance(value, str) and s.nullable:
        return value.strip().lower() in NULL_TEXTS
    return False


def _number(value: Any) -> float | None:
    """A finite number from a number or numeric text; None for anything else (booleans)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number: float = value
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _in_bounds(s: Setting, number: float) -> bool:
    closed = "both" if s.kind in ("int", "int_range") else s.closed
    too_low = s.low is not None and (
        number < s.low or (number == s.low and closed in ("right", "neither"))
    )
    too_high = s.high is not None and (
        number > s.high or (number == s.high and closed in ("left", "neither"))
    )
    return not (too_low or too_high)


def _check_int(s: Setting, value: Any) -> int:
    number = _number(value)
    if number is None or not float(number).is_integer():
        raise s.error(value)
    whole = int(number)
    if not _in_bounds(s, whole):
        raise s.error(value, s.bound)
    return whole


def _check_number(s: Setting, value: Any) -> float:
    number = _number(value)
    if number is None:
        raise s.error(value)
    if not _in_bounds(s, number):
        raise s.error(value, s.bound)
    return float(number)


def _check_bool(s: Setting, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower() if isinstance(value, str) else None
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise s.error(value)


def _check_choice(s: Setting, value: Any) -> str:
    if not isinstance(value, str) or value not in s.choices:
        raise s.error(value)
    return value


def _check_name(s: Setting, value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(IDENTIFIER, value):
        raise s.error(value)
    return value


def _check_text(s: Setting, value: Any) -> str:
    if isinstance(value, list | tuple | dict | bool):
        raise s.error(value)
    return str(value).strip()


def _check_timestamp(s: Setting, value: Any) -> str:
    text = value.isoformat(sep=" ") if isinstance(value, dt.datetime) else str(value).strip()
    if not isinstance(value, str | dt.date) or not re.fullmatch(TIMESTAMP, text):
        raise s.error(value)
    return text.replace("T", " ")


def _check_list(s: Setting, value: Any) -> tuple[str, ...]:
    items: Any = value
    if isinstance(value, str) and s.kind != "texts":
        items = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(items, list | tuple) or not all(isinstance(v, str) for v in items):
        raise s.error(value)
    if s.kind == "names" and not all(re.fullmatch(IDENTIFIER, v) for v in items):
        raise s.error(value)
    if s.kind == "choices" and any(v not in s.choices for v in items):
        raise s.error(value)
    if (s.non_empty and not items) or (s.distinct and len(set(items)) != len(items)):
        raise s.error(value)
    return tuple(items)


def _check_int_range(s: Setting, value: Any) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) and not isinstance(value, bool) else value
    ok = (
        isinstance(pair, list | tuple)
        and len(pair) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in pair)
        and _in_bounds(s, pair[0])
        and _in_bounds(s, pair[1])
        and pair[0] <= pair[1]
    )
    if not ok:
        raise s.error(value, s.expected)
    return (pair[0], pair[1])


_CHECKS = {
    "int": _check_int,
    "number": _check_number,
    "bool": _check_bool,
    "choice": _check_choice,
    "name": _check_name,
    "text": _check_text,
    "timestamp": _check_timestamp,
    "names": _check_list,
    "choices": _check_list,
    "texts": _check_list,
    "int_range": _check_int_range,
}


# ---------------------------------------------------------------------------------------------
# config objects built from the table

C = TypeVar("C")


def setting_field(name: str) -> Any:
    """A dataclass field for setting ``name``: its default is the table's, and it remembers the
    var it is read from (``from_vars``, ``vars_of``)."""
    return field(default=setting(name).default, metadata={"setting": name})


def vars_of(cls: type) -> tuple[str, ...]:
    """The settings a config class reads, in field order."""
    return tuple(f.metadata["setting"] for f in fields(cls) if "setting" in f.metadata)


def check_fields(config: Any) -> None:
    """Validate (and coerce in place) every setting field of a frozen config dataclass; its
    ``__post_init__`` calls this, so direct construction is checked like ``from_vars``."""
    for f in fields(config):
        if "setting" in f.metadata:
            value = validate(f.metadata["setting"], getattr(config, f.name))
            object.__setattr__(config, f.name, value)


def from_vars(cls: type[C], mapping: Mapping[str, Any]) -> C:
    """Build config class ``cls`` from dbt vars (or any mapping): keys are the setting names,
    unknown keys are ignored (the mapping may hold every var of the project), a missing or
    null value keeps the default (a nullable setting's null is null). Raises ValueError
    naming the var and the fix."""
    kwargs: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        name = f.metadata.get("setting")
        if name is None or name not in mapping:
            continue
        value = mapping[name]
        s = setting(name)
        if (value is None or value == "") and not s.nullable and s.kind not in LIST_KINDS:
            continue
        kwargs[f.name] = validate(name, value)
    return cls(**kwargs)


# ---------------------------------------------------------------------------------------------
# generated files: macros/settings.sql and docs/vars.md

ROOT = Path(__file__).resolve().parents[1]
MACRO_PATH = Path("macros/settings.sql")
DOCS_PATH = Path("docs/vars.md")
GENERATED = "generated by python -m leadscore.settings from leadscore/settings.py; do not edit"


def yaml_value(value: Any) -> str:
    """A value as written in dbt_project.yml / --vars."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    if isinstance(value, str) and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_/.-]*", value):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def jinja_literal(value: Any) -> str:
    """A Python value as a Jinja literal (strings single-quoted and escaped)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(jinja_literal(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def _spec(s: Setting) -> str:
    default = list(s.default) if isinstance(s.default, tuple) else s.default
    closed = "both" if s.kind in ("int", "int_range") else s.closed
    items = {
        "kind": s.kind,
        "default": default,
        "nullable": s.nullable,
        "low": s.low,
        "high": s.high,
        "closed": closed,
        "choices": list(s.choices),
        "non_empty": s.non_empty,
        "distinct": s.distinct,
        "what": s.what,
        "bound": s.bound,
        "expected": s.expected,
        "fix": s.fix,
    }
    body = ",\n        ".join(f"'{k}': {jinja_literal(v)}" for k, v in items.items())
    return f"    '{s.name}': {{\n        {body}}}"


MACRO_TEMPLATE = """\
{{#- {generated}.

    leadscore_var(name): dbt var `name` (default: the table's), validated by its kind, bounds
    and choices; a bad value stops the run with an error that names the var, the value and
    the fix. Returns numbers as numbers, booleans as booleans, lists as lists; text kinds are
    identifiers ([A-Za-z_][A-Za-z0-9_]*), choices or a checked timestamp, except `text` and
    `texts` (free text): quote those yourself, never paste them into SQL raw.
    The vars are documented in docs/vars.md. -#}}
{{% macro leadscore_var(name) %}}
    {{% set spec = leadscore.leadscore_settings().get(name) %}}
    {{% if spec is none %}}
        {{{{ exceptions.raise_compiler_error(
            "leadscore_var('" ~ name ~ "'): no such var; the vars are listed in docs/vars.md "
            ~ "(declared in leadscore/settings.py)") }}}}
    {{% endif %}}
    {{{{ return(leadscore.leadscore_validate(name, var(name, spec['default']), spec)) }}}}
{{% endmacro %}}


{{#- `value` of var `name` checked against `spec` (one entry of leadscore_settings()). -#}}
{{% macro leadscore_validate(name, value, spec) %}}
    {{% set kind = spec['kind'] %}}
    {{% set out = namespace(value=value, ok=true, violated=spec['what']) %}}
    {{% set text = value | string | trim if value is not none else '' %}}
    {{% set is_null = value is none or (value is string and spec['nullable']
        and kind in ['text', 'timestamp', 'name'] and text | lower in ['', 'none', 'null']) %}}
    {{% if is_null %}}
        {{% if spec['nullable'] %}}{{{{ return(none) }}}}{{% endif %}}
        {{% set out.ok = false %}}
    {{% elif kind in ['int', 'number'] %}}
        {{% if value is boolean %}}
            {{% set out.ok = false %}}
        {{% elif value is number %}}
            {{% set out.value = value %}}
        {{% elif value is string and modules.re.fullmatch(
            '[-+]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][-+]?\\d+)?', text) %}}
            {{% set out.value = text | float %}}
        {{% else %}}
            {{% set out.ok = false %}}
        {{% endif %}}
        {{% if out.ok and kind == 'int' %}}
            {{% if out.value != out.value | int %}}
                {{% set out.ok = false %}}
            {{% else %}}
                {{% set out.value = out.value | int %}}
            {{% endif %}}
        {{% endif %}}
        {{% if out.ok %}}
            {{% set n, lo, hi, closed = out.value, spec['low'], spec['high'], spec['closed'] %}}
            {{% if (lo is not none and (n < lo or (n == lo and closed in ['right', 'neither'])))
                or (hi is not none and (n > hi or (n == hi and closed in ['left', 'neither']))) %}}
                {{% set out.ok = false %}}
                {{% set out.violated = spec['bound'] %}}
            {{% endif %}}
        {{% endif %}}
    {{% elif kind == 'bool' %}}
        {{% if value is boolean %}}
            {{% set out.value = value %}}
        {{% elif text | lower in ['true', '1'] and (value is string or value is number) %}}
            {{% set out.value = true %}}
        {{% elif text | lower in ['false', '0'] and (value is string or value is number) %}}
            {{% set out.value = false %}}
        {{% else %}}
            {{% set out.ok = false %}}
        {{% endif %}}
    {{% elif kind == 'choice' %}}
        {{% set out.ok = value is string and value in spec['choices'] %}}
    {{% elif kind == 'name' %}}
        {{% set out.ok = value is string and modules.re.fullmatch('{identifier}', value) %}}
    {{% elif kind == 'text' %}}
        {{% set out.ok = value is string or value is number %}}
        {{% set out.value = text %}}
    {{% elif kind == 'timestamp' %}}
        {{% set out.ok = modules.re.fullmatch('{timestamp}', text) is not none %}}
        {{% set out.value = text | replace('T', ' ') %}}
    {{% elif kind in ['names', 'choices', 'texts'] %}}
        {{% set items = value %}}
        {{% if value is string and kind != 'texts' %}}
            {{% set items = value.split(',') | map('trim') | reject('equalto', '') | list %}}
        {{% endif %}}
        {{% if items is string or items is mapping or items is not iterable %}}
            {{% set out.ok = false %}}
        {{% else %}}
            {{% set items = items | list %}}
            {{% for item in items %}}
                {{% if item is not string
                    or (kind == 'names' and not modules.re.fullmatch('{identifier}', item))
                    or (kind == 'choices' and item not in spec['choices']) %}}
                    {{% set out.ok = false %}}
                {{% endif %}}
            {{% endfor %}}
            {{% if (spec['non_empty'] and items | length == 0)
                or (spec['distinct'] and items | unique | list | length != items | length) %}}
                {{% set out.ok = false %}}
            {{% endif %}}
            {{% set out.value = items %}}
        {{% endif %}}
    {{% elif kind == 'int_range' %}}
        {{% set pair = [value, value] if value is number and value is not boolean else value %}}
        {{% set out.ok = pair is iterable and pair is not string and pair is not mapping
            and pair | length == 2 %}}
        {{% if out.ok %}}
            {{% for v in pair %}}
                {{% if v is not number or v is boolean or v != v | int
                    or v < spec['low'] or v > spec['high'] %}}
                    {{% set out.ok = false %}}
                {{% endif %}}
            {{% endfor %}}
            {{% set out.ok = out.ok and pair[0] <= pair[1] %}}
        {{% endif %}}
        {{% set out.value = pair %}}
        {{% set out.violated = spec['expected'] %}}
    {{% endif %}}
    {{% if not out.ok %}}
        {{% set shown = "'" ~ value ~ "'" if value is string else value | string %}}
        {{% set message = "var " ~ name ~ " must be " ~ out.violated ~ ", got " ~ shown %}}
        {{% if spec['expected'] != out.violated %}}
            {{% set message = message ~ "; " ~ name ~ " must be " ~ spec['expected'] %}}
        {{% endif %}}
        {{{{ exceptions.raise_compiler_error(message ~ "; " ~ spec['fix']) }}}}
    {{% endif %}}
    {{{{ return(out.value) }}}}
{{% endmacro %}}


{{#- The table of vars (leadscore/settings.py SETTINGS): kind, default, bounds, choices and
    the words of the error messages. -#}}
{{% macro leadscore_settings() %}}
{{{{ return({{
{specs}
}}) }}}}
{{% endmacro %}}
"""


def render_macro() -> str:
    specs = ",\n".join(_spec(s) for s in SETTINGS_LIST if s.dbt_var)
    return MACRO_TEMPLATE.format(
        generated=GENERATED,
        identifier=IDENTIFIER,
        timestamp=TIMESTAMP,
        specs=specs,
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_docs() -> str:
    lines = [
        "# dbt vars",
        "",
        f"<!-- {GENERATED} -->",
        "",
        "Every var of the project: set it in `dbt_project.yml` `vars:` or per run with "
        "`dbt build --vars '{name: value}'`. A bad value stops the run with a message that "
        "names the var, the value and the fix. SQL reads vars through the macro "
        "`leadscore_var(name)` (`macros/settings.sql`), the dbt Python models through the "
        "config objects of the `leadscore` package; both validate against one table, "
        "`leadscore/settings.py`.",
        "",
    ]
    for group, title in GROUPS.items():
        members = [s for s in SETTINGS_LIST if s.group == group]
        lines += [f"## {title}", ""]
        if group == "package":
            lines += [
                "Fields of the config objects (`TrainingConfig`, `SegmentationConfig`) that "
                "are not dbt vars: Python callers (tests, benchmarks) set them; dbt builds use "
                "these defaults.",
                "",
            ]
        lines += ["| var | default | allowed | example | what it does |", "|---|---|---|---|---|"]
        for s in members:
            example = s.example or yaml_value(s.default)
            lines.append(
                f"| `{s.name}` | `{_cell(yaml_value(s.default))}` | {_cell(s.expected)} "
                f"| `{_cell(example)}` | {_cell(s.doc)} |"
            )
        lines.append("")
    return "\n".join(lines)


def generated_files() -> dict[Path, str]:
    return {MACRO_PATH: render_macro(), DOCS_PATH: render_docs()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m leadscore.settings",
        description="Write macros/settings.sql and docs/vars.md from the table of vars.",
    )
    parser.add_argument("--check", action="store_true", help="only tell whether they are current")
    parser.add_argument("--root", type=Path, default=ROOT, help="the project folder")
    args = parser.parse_args(argv)
    stale = []
    for path, text in generated_files().items():
        target = args.root / path
        if target.exists() and target.read_text() == text:
            continue
        stale.append(str(path))
        if not args.check:
            target.write_text(text)
    if args.check and stale:
        print(f"out of date: {', '.join(stale)}; run python -m leadscore.settings")
        return 1
    print(("wrote " if stale else "up to date: ") + ", ".join(stale or map(str, generated_files())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
