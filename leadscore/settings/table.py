"""The table of vars: one ``Setting`` per dbt var (kind, bounds or choices, default, example,
doc, group) and the package knobs that are not dbt vars."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from leadscore.populations import POPULATIONS

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
    "drift": "Feature drift (models/monitoring/feature_drift.py, logic in leadscore/drift/)",
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
    Setting("timestamp_formats", "texts", (),
            "strptime formats of text timestamps that are not ISO 8601, tried in order after "
            "ISO (e.g. US dates); a value that matches none is quarantined", _S,
            example="['%m/%d/%Y %H:%M', '%d.%m.%Y']"),
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
    _choice("decimal_separator", ".", (".", ","), "decimal separator of numbers written as "
            "text (CSV): . reads 1,000.5 as 1000.5; , reads 1.000,5 as 1000.5 (Excel in "
            "much of Europe)", _S),
    Setting("is_won_true_values", "texts", (), "extra spellings of a won opportunity in "
            "is_won, besides true/t/yes/y/1/won/closed won (compared lowercased, trimmed)", _S,
            example="[gewonnen, ganada]"),
    Setting("is_won_false_values", "texts", (), "extra spellings of a lost opportunity, "
            "besides false/f/no/n/0/lost/closed lost", _S, example="[verloren, perdida]"),
    _bool("case_insensitive_ids", False, "lowercase every id (lead_id, activity_id, ...) so "
          "'L-42' and 'l-42' are one lead", _S),
    _num("max_orphan_share", 0.5, "stop the build when more than this share of a child "
         "table's rows have a lead_id matching no lead (1 = never stop)", _S, low=0, high=1,
         noun="a share"),
    _bool("read_realtime_events", True, "add the events leadscore serve logged "
          "($LEADSCORE_EXPORT_DIR/events/*.jsonl) to the activities: an event whose "
          "activity_id the CRM export has, or whose lead it lacks, is left out", _S),
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
        raise KeyError(f"{name} is not a leadscore setting (leadscore/settings/table.py)") from None


def default(name: str) -> Any:
    return setting(name).default


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
