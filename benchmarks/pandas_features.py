"""lead_features in plain pandas: the reference the SQL feature layer is benchmarked against.

It computes every column of ``models/features/lead_features.sql`` (the macro
``point_in_time_features`` and the ``int_*`` models it reads: ``int_as_of_resolved``,
``int_lead_outcomes``, ``int_leads_enriched``, ``int_activities_accumulated``,
``int_domain_wins_accumulated``) from the staged tables and the seeds, the straightforward
pandas way for one date T: keep the activities before T of the leads open at T, group them by
lead once per window, merge. It reads the staged tables (``load_staged``) and computes
(``lead_features``); the benchmark times the two separately.

The same definitions as the SQL, including its corner cases: day differences count whole
seconds (DuckDB ``datediff('second', ...)``); counts are real zeros, recency, rates and the
decayed score are NULL without anything to measure; the size band is the seed row with
``min <= size < max + 1``; a job title takes, per dimension, the matching pattern with the
lowest priority; the domain's won deals are those of leads with a corporate email closed
before T. ``compare_features`` checks a result against the SQL table (tests/python/
test_bench_pandas_features.py keeps the two equal).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import yaml

WINDOWS: tuple[int, ...] = (7, 30, 90)


@dataclass(frozen=True)
class FeatureParams:
    """The dbt vars the features depend on (defaults: dbt_project.yml)."""

    engagement_types: tuple[str, ...]
    sales_touch_types: tuple[str, ...]
    include_sales_touch_features: bool = False
    engagement_half_life_days: float = 14.0
    conversion_event: str = "opportunity"
    as_of: datetime | None = None
    categorical_attributes: tuple[str, ...] = ()
    numeric_attributes: tuple[str, ...] = ()

    @classmethod
    def from_vars(cls, values: Mapping[str, Any]) -> FeatureParams:
        as_of = values.get("as_of")
        return cls(
            engagement_types=tuple(values["engagement_activity_types"]),
            sales_touch_types=tuple(values["sales_touch_activity_types"]),
            include_sales_touch_features=bool(values["include_sales_touch_features"]),
            engagement_half_life_days=float(values["engagement_half_life_days"]),
            conversion_event=str(values["conversion_event"]),
            as_of=pd.Timestamp(str(as_of)).to_pydatetime() if as_of else None,
            categorical_attributes=tuple(a.lower() for a in values["lead_categorical_attributes"]),
            numeric_attributes=tuple(a.lower() for a in values["lead_numeric_attributes"]),
        )

    @classmethod
    def from_project(
        cls, project_dir: Path, overrides: Mapping[str, Any] | None = None
    ) -> FeatureParams:
        """The vars of ``dbt_project.yml`` with ``overrides`` (as passed to ``--vars``)."""
        project = yaml.safe_load((project_dir / "dbt_project.yml").read_text())
        return cls.from_vars({**project["vars"], **(overrides or {})})

    @property
    def counted_types(self) -> tuple[str, ...]:
        """Activity types with their own count columns, in the SQL's order."""
        if self.include_sales_touch_features:
            return self.engagement_types + self.sales_touch_types
        return self.engagement_types


@dataclass
class StagedTables:
    """The inputs of the feature layer, as pandas frames."""

    leads: pd.DataFrame
    activities: pd.DataFrame
    opportunities: pd.DataFrame
    status_changes: pd.DataFrame
    size_bands: pd.DataFrame
    regions: pd.DataFrame
    free_mail: pd.DataFrame
    title_patterns: pd.DataFrame


STAGED_QUERIES: dict[str, str] = {
    "leads": "select * from stg_crm__leads",
    "activities": (
        "select lead_id, occurred_at, activity_type, activity_category from stg_crm__activities"
    ),
    "opportunities": (
        "select opportunity_id, lead_id, created_at, closed_at, is_won, amount "
        "from stg_crm__opportunities"
    ),
    "status_changes": "select lead_id, status, changed_at from stg_crm__lead_status_changes",
    "size_bands": "select * from company_size_bands",
    "regions": "select * from country_regions",
    "free_mail": "select * from free_mail_domains",
    "title_patterns": "select * from job_title_patterns",
}


def load_staged(con: duckdb.DuckDBPyConnection) -> StagedTables:
    """Read the staged tables and seeds of a built DuckDB file into pandas (activity type
    and category as pandas categoricals: a few values over millions of rows)."""
    frames = {}
    for name, sql in STAGED_QUERIES.items():
        table = con.sql(sql).to_arrow_table()
        categories = ["activity_type", "activity_category"] if name == "activities" else None
        frames[name] = table.to_pandas(categories=categories)
    return StagedTables(**frames)


# --------------------------------------------------------------------------------------
# the features


def _days(start: pd.Series | pd.Timestamp, end: pd.Series | pd.Timestamp) -> pd.Series:
    """Fractional days from start to end counted in whole seconds, like the SQL's
    datediff('second', start, end) / 86400 (NULL when either is NULL)."""
    start = start.floor("s") if isinstance(start, pd.Timestamp) else start.dt.floor("s")
    end = end.floor("s") if isinstance(end, pd.Timestamp) else end.dt.floor("s")
    return (end - start).dt.total_seconds() / 86400.0


def _true(flags: pd.Series) -> pd.Series:
    """True where a nullable boolean is true (NULL counts as not true, as in SQL)."""
    return flags.astype("boolean").fillna(False).astype(bool)


def resolve_as_of(staged: StagedTables, params: FeatureParams) -> pd.Timestamp:
    """var as_of, or the midnight after the latest event in the data."""
    if params.as_of is not None:
        return pd.Timestamp(params.as_of)
    latest = max(
        staged.leads["created_at"].max(),
        staged.activities["occurred_at"].max(),
        staged.opportunities["created_at"].max(),
        staged.opportunities["closed_at"].max(),
        staged.status_changes["changed_at"].max(),
    )
    return latest.floor("D") + pd.Timedelta(days=1)


def lead_outcomes(staged: StagedTables, params: FeatureParams) -> pd.DataFrame:
    """Per lead (index): converted_at and disqualified_at."""
    opps = staged.opportunities
    out = pd.DataFrame(index=pd.Index(staged.leads["lead_id"], name="lead_id"))
    if params.conversion_event == "won":
        won = opps[_true(opps["is_won"])]
        converted = won.groupby("lead_id")["closed_at"].min()
    else:
        converted = opps.groupby("lead_id")["created_at"].min()
    changes = staged.status_changes
    disqualified = (
        changes[changes["status"] == "disqualified"].groupby("lead_id")["changed_at"].min()
    )
    out["converted_at"] = converted.reindex(out.index)
    out["disqualified_at"] = disqualified.reindex(out.index)
    return out


def _title_dimension(titles: pd.Series, patterns: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """Per distinct title the (value, level) of the matching pattern with the lowest
    priority of one dimension."""
    rows = patterns[patterns["dimension"] == dimension].sort_values("priority")
    value = pd.Series(None, index=titles.index, dtype=object)
    level = pd.Series(np.nan, index=titles.index)
    for pattern in rows.itertuples():
        search = re.compile(pattern.pattern).search
        hit = titles.map(lambda title, search=search: search(title) is not None) & value.isna()
        value[hit] = pattern.value
        level[hit] = pattern.level
    return pd.DataFrame({"value": value, "level": level})


def enrich_leads(staged: StagedTables) -> pd.DataFrame:
    """int_leads_enriched: the fit attributes of every lead."""
    leads = staged.leads
    out = leads[["lead_id", "created_at", "lead_source", "company_size"]].copy()
    size = leads["company_size"]
    band = pd.Series(None, index=leads.index, dtype=object)
    midpoint = pd.Series(np.nan, index=leads.index)
    for row in staged.size_bands.itertuples():
        upper = size < row.max_employees + 1 if pd.notna(row.max_employees) else size.notna()
        hit = (size >= row.min_employees) & upper & band.isna()
        band[hit] = row.company_size_band
        midpoint[hit] = row.midpoint_employees
    out["company_size_band"] = band
    out["company_size_log"] = np.log(size)
    out["company_size_band_midpoint"] = midpoint
    out["industry"] = leads["industry"]
    out["country"] = leads["country"]
    regions = dict(zip(staged.regions["country"], staged.regions["region"], strict=True))
    out["region"] = leads["country"].map(regions).fillna("other").where(leads["country"].notna())

    titles = pd.Series(leads["job_title"].dropna().unique())
    seniority = _title_dimension(titles, staged.title_patterns, "seniority")
    function = _title_dimension(titles, staged.title_patterns, "function")
    seniority.index = function.index = titles
    out["seniority"] = leads["job_title"].map(seniority["value"])
    out["seniority_level"] = leads["job_title"].map(seniority["level"]).astype("Int64")
    out["job_function"] = leads["job_title"].map(function["value"])

    well_formed = ~leads["has_malformed_email"].astype("boolean").fillna(True).astype(bool)
    domain = leads["email"].str.split("@").str[1].where(well_formed)
    out["email_domain"] = domain
    free = set(staged.free_mail["email_domain"])
    out["is_corporate_email"] = (~domain.isin(free)).astype("boolean").where(domain.notna())
    out["created_day_of_week"] = leads["created_at"].dt.day_of_week + 1
    out["created_hour"] = leads["created_at"].dt.hour
    return out


def activity_features(
    acts: pd.DataFrame, lead_ids: pd.Index, t: pd.Timestamp, params: FeatureParams
) -> pd.DataFrame:
    """Counts, recency and engagement of each lead (index lead_ids) from its activities
    before t (``acts`` holds only those)."""
    out = pd.DataFrame(index=lead_ids)
    engagement = acts[acts["activity_category"] == "engagement"]

    def count(frame: pd.DataFrame) -> pd.Series:
        return frame.groupby("lead_id").size().reindex(lead_ids, fill_value=0)

    def since(frame: pd.DataFrame, days: int) -> pd.DataFrame:
        return frame[frame["occurred_at"] >= t - pd.Timedelta(days=days)]

    for activity_type in params.counted_types:
        of_type = acts[acts["activity_type"] == activity_type]
        for days in WINDOWS:
            out[f"n_{activity_type}_{days}d"] = count(since(of_type, days))
        out[f"n_{activity_type}_all"] = count(of_type)
    for days in WINDOWS:
        out[f"n_engagement_{days}d"] = count(since(engagement, days))
    out["n_engagement_all"] = count(engagement)
    out["n_other_activity_all"] = count(acts[acts["activity_type"] == "other"])
    days_active = engagement["occurred_at"].dt.floor("D")
    out["n_active_days_all"] = (
        days_active.groupby(engagement["lead_id"]).nunique().reindex(lead_ids, fill_value=0)
    )
    out["_n_engagement_30_60d"] = count(since(engagement, 60)) - count(since(engagement, 30))

    weight = 0.5 ** (_days(engagement["occurred_at"], t) / params.engagement_half_life_days)
    out["_decay_sum"] = weight.groupby(engagement["lead_id"]).sum().reindex(lead_ids)

    def last(frame: pd.DataFrame, how: str = "max") -> pd.Series:
        return frame.groupby("lead_id")["occurred_at"].agg(how).reindex(lead_ids)

    out["_first_engagement_at"] = last(engagement, "min")
    out["_last_engagement_at"] = last(engagement)
    out["_last_pricing_page_view_at"] = last(acts[acts["activity_type"] == "pricing_page_view"])
    out["_last_demo_request_at"] = last(acts[acts["activity_type"] == "demo_request"])
    out["_last_sales_touch_at"] = last(acts[acts["activity_category"] == "sales_touch"])
    out["_last_activity_at"] = last(acts)
    return out


def domain_wins(staged: StagedTables, leads: pd.DataFrame, t: pd.Timestamp) -> pd.DataFrame:
    """Per corporate email domain (index): won deals closed before t, their amount and the
    latest close."""
    opps = staged.opportunities
    won = opps[_true(opps["is_won"]) & opps["closed_at"].notna() & (opps["closed_at"] < t)]
    won = won.merge(leads[["lead_id", "email_domain", "is_corporate_email"]], on="lead_id")
    won = won[_true(won["is_corporate_email"])]
    return won.groupby("email_domain").agg(
        n_won=("lead_id", "size"), won_amount=("amount", "sum"), closed_at=("closed_at", "max")
    )


def lead_features(staged: StagedTables, params: FeatureParams) -> pd.DataFrame:
    """Every column of lead_features, one row per lead open at as_of, in the SQL's order."""
    t = resolve_as_of(staged, params)
    leads = enrich_leads(staged)
    outcomes = lead_outcomes(staged, params)
    converted = outcomes["converted_at"].reindex(leads["lead_id"]).to_numpy()
    disqualified = outcomes["disqualified_at"].reindex(leads["lead_id"]).to_numpy()
    is_open = (
        (leads["created_at"] < t).to_numpy()
        & (pd.isna(converted) | (converted >= t))
        & (pd.isna(disqualified) | (disqualified >= t))
    )
    spine = leads[is_open].set_index("lead_id")
    acts = staged.activities
    acts = acts[(acts["occurred_at"] < t) & acts["lead_id"].isin(spine.index)]
    activity = activity_features(acts, spine.index, t, params)
    wins = domain_wins(staged, leads, t).reindex(spine["email_domain"])
    wins.index = spine.index
    return _assemble(spine, activity, wins, staged.leads, t, params)


def _assemble(
    spine: pd.DataFrame,
    act: pd.DataFrame,
    wins: pd.DataFrame,
    raw_leads: pd.DataFrame,
    t: pd.Timestamp,
    params: FeatureParams,
) -> pd.DataFrame:
    created = spine["created_at"]
    cols: dict[str, Any] = {"as_of": pd.Series(t, index=spine.index)}
    fit = [
        "lead_source",
        "company_size",
        "company_size_band",
        "company_size_log",
        "industry",
        "country",
        "region",
        "seniority",
        "seniority_level",
        "job_function",
        "is_corporate_email",
        "created_day_of_week",
        "created_hour",
    ]
    cols.update({c: spine[c] for c in fit})
    attributes = params.categorical_attributes + params.numeric_attributes
    if attributes:
        custom = raw_leads.set_index("lead_id").reindex(spine.index)
        cols.update({c: custom[c] for c in attributes})
    cols["company_size_band_midpoint"] = spine["company_size_band_midpoint"]
    cols["n_prior_won_deals_domain"] = wins["n_won"].fillna(0).astype("int64")
    cols["prior_won_amount_domain"] = wins["won_amount"].fillna(0.0)
    cols["lead_age_days"] = _days(created, t)
    cols["days_since_last_engagement"] = _days(act["_last_engagement_at"], t)
    cols["days_since_last_pricing_page_view"] = _days(act["_last_pricing_page_view_at"], t)
    cols["days_since_last_demo_request"] = _days(act["_last_demo_request_at"], t)
    cols["days_to_first_engagement"] = _days(created, act["_first_engagement_at"])
    for activity_type in params.counted_types:
        for suffix in (*(f"{d}d" for d in WINDOWS), "all"):
            cols[f"n_{activity_type}_{suffix}"] = act[f"n_{activity_type}_{suffix}"]
    for suffix in (*(f"{d}d" for d in WINDOWS), "all"):
        cols[f"n_engagement_{suffix}"] = act[f"n_engagement_{suffix}"]
    cols["n_other_activity_all"] = act["n_other_activity_all"]
    cols["n_active_days_all"] = act["n_active_days_all"]
    decayed = act["_decay_sum"]
    cols["engagement_score_decayed"] = decayed
    cols["engagement_velocity_30d"] = act["n_engagement_30d"] - act["_n_engagement_30_60d"]
    opens = act["n_email_open_all"].astype("float64")
    cols["email_click_through_rate"] = act["n_email_click_all"] / opens.where(opens > 0)
    cols["has_requested_demo"] = act["n_demo_request_all"] > 0
    cols["has_pricing_page_view_7d"] = act["n_pricing_page_view_7d"] > 0
    if params.include_sales_touch_features:
        cols["days_since_last_sales_touch"] = _days(act["_last_sales_touch_at"], t)
    level = spine["seniority_level"].astype("float64")
    cols["seniority_x_engagement"] = level * decayed.fillna(0.0)
    corporate = _true(spine["is_corporate_email"]).astype("int64")
    cols["corporate_x_pricing_views_30d"] = corporate * act["n_pricing_page_view_30d"]
    cols["size_x_engagement_30d"] = spine["company_size_log"] * act["n_engagement_30d"]
    inputs = pd.DataFrame(
        {
            "created": created,
            "activity": act["_last_activity_at"].fillna(created),
            "won": wins["closed_at"].fillna(created),
        }
    )
    cols["last_input_at"] = inputs.max(axis=1)
    out = pd.DataFrame(cols, index=spine.index)
    return out.rename_axis("lead_id").reset_index()


# --------------------------------------------------------------------------------------
# checking against the SQL


def _is_null(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _same(a: Any, b: Any, rtol: float, atol: float) -> bool:
    if _is_null(a) or _is_null(b):
        return _is_null(a) and _is_null(b)
    if isinstance(a, str) or isinstance(b, str):
        return str(a) == str(b)
    if isinstance(a, (datetime, pd.Timestamp, np.datetime64)):
        return pd.Timestamp(a) == pd.Timestamp(b)
    return math.isclose(float(a), float(b), rel_tol=rtol, abs_tol=atol)


def compare_features(
    sql: pd.DataFrame,
    pandas_rows: pd.DataFrame,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    max_examples: int = 3,
) -> list[str]:
    """Differences between the SQL lead_features rows ``sql`` and the pandas result (which
    may hold more leads; every lead of ``sql`` must be in it): the column list, missing
    leads, and per column the rows that differ (NULL equals only NULL; numbers within
    rtol/atol). Empty when they agree."""
    if list(sql.columns) != list(pandas_rows.columns):
        missing = [c for c in sql.columns if c not in pandas_rows.columns]
        extra = [c for c in pandas_rows.columns if c not in sql.columns]
        return [
            f"columns differ: missing in pandas {missing}, extra in pandas {extra}"
            if missing or extra
            else "columns are in a different order"
        ]
    left = sql.set_index("lead_id")
    right = pandas_rows.set_index("lead_id")
    absent = left.index.difference(right.index)
    problems = []
    if len(absent):
        problems.append(f"{len(absent)} leads missing in pandas, e.g. {list(absent[:3])}")
    right = right.reindex(left.index)
    for column in left.columns:
        bad = [
            (lead, a, b)
            for lead, a, b in zip(left.index, left[column], right[column], strict=True)
            if not _same(a, b, rtol, atol)
        ]
        if bad:
            examples = ", ".join(
                f"{lead}: sql={a!r} pandas={b!r}" for lead, a, b in bad[:max_examples]
            )
            problems.append(f"{column}: {len(bad)} of {len(left)} rows differ ({examples})")
    return problems


def sample_ids(ids: Sequence[str], n: int, seed: int = 0) -> list[str]:
    """A deterministic sample of n lead ids (all when there are fewer)."""
    ids = sorted(ids)
    if len(ids) <= n:
        return ids
    rng = np.random.default_rng(seed)
    return [ids[i] for i in sorted(rng.choice(len(ids), size=n, replace=False))]
