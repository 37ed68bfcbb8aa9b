"""The online feature row of one lead as of T: what ``lead_features`` holds for it when a build
runs at as_of = T on the same data.

The definition is the SQL macro ``point_in_time_features`` (macros/point_in_time_features.sql)
with its one-date activity state ``activity_state_as_of`` (macros/activity_features.sql): this
module is its Python mirror for one lead, written expression by expression beside it (each
function names the SQL it mirrors) and held to it by the parity test (tests/python/
test_serve_e2e.py: every open lead of a build, feature by feature, and after a day of events
against the next day's build). Windows, activity types and the half-life come from the
build's vars (``OnlineSettings``), the fit columns from int_leads_enriched (exported for the
leads of the state, ``LeadEnricher`` for a posted lead). Only activities strictly before T
count; the account's won deals are its latest running total before T.

Why a mirror and not the SQL run in process: DECISIONS.md "Online features: a Python mirror
of the macro, held to it by a parity test".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from leadscore.serve.config import OnlineSettings

US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND
FEATURE_WINDOWS = (7, 30, 90)  # macro feature_windows()
LOOKBACK_DAYS = (7, 30, 60, 90)  # macro lookback_days(): the windows and 60 (velocity)


def epoch_us(value: datetime) -> int:
    """Microseconds since 1970 of a naive UTC timestamp (DuckDB's TIMESTAMP)."""
    delta = value - datetime(1970, 1, 1)
    return (delta.days * 86_400 + delta.seconds) * US_PER_SECOND + delta.microseconds


def fractional_days(start_us: int | None, end_us: int | None) -> float | None:
    """Macro fractional_days: DuckDB datediff('second', start, end) / 86400.0, where datediff
    counts whole-second boundaries (each timestamp truncated to its second)."""
    if start_us is None or end_us is None:
        return None
    return (end_us // US_PER_SECOND - start_us // US_PER_SECOND) / 86400.0


@dataclass(frozen=True)
class Activities:
    """A lead's activities: times (µs, naive UTC) and activity_type codes (indices into
    ``OnlineSettings.activity_types``)."""

    times: np.ndarray
    codes: np.ndarray


@dataclass(frozen=True)
class DomainWins:
    """The running totals of the lead's domain, by closed_at (µs) ascending."""

    closed: np.ndarray
    n_won: np.ndarray
    amount: np.ndarray


class FeatureBuilder:
    """Feature rows in the column order of lead_features (``columns``) for one build's vars."""

    def __init__(self, online: OnlineSettings, columns: Sequence[str]) -> None:
        self.online = online
        self.columns = list(columns)
        types = online.activity_types
        self._code = {name: types.index(name) for name in types}
        self._engagement = np.array(
            [online.category_of(t) == "engagement" for t in types], dtype=bool
        )
        self._sales = np.array([online.category_of(t) == "sales_touch" for t in types], bool)
        self._decay_rate = -math.log(2) / online.engagement_half_life_days

    def code_of(self, activity_type: str) -> int:
        return self._code[activity_type]

    def _state(self, acts: Activities, t_us: int) -> dict[str, Any]:
        """Macro activity_state_as_of for one lead: the totals of each counted activity
        (macro counted_activity: a type, 'other', or the categories engagement / sales
        touch), times, the decay weight, distinct engagement days and each windowed count just
        before T - w (``before``), from the activities strictly before T."""
        before = acts.times < t_us
        times = acts.times[before]
        codes = acts.codes[before].astype(np.int64)
        k = len(self._code)
        by_code = np.bincount(codes, minlength=k)
        cum = {name: int(by_code[code]) for name, code in self._code.items()}
        cum["engagement"] = int(by_code[self._engagement].sum())
        cum["sales_touch"] = int(by_code[self._sales].sum())
        engaged_mask = self._engagement[codes]
        engaged = times[engaged_mask]
        recent_by_code = {}
        for days in LOOKBACK_DAYS:
            recent = times >= t_us - days * US_PER_DAY
            counts = np.bincount(codes[recent], minlength=k)
            recent_by_code[days] = (counts, int(np.count_nonzero(recent & engaged_mask)))
        before_w = {}
        for name in self.online.counted_types:
            for days in FEATURE_WINDOWS:
                before_w[(name, days)] = cum[name] - int(recent_by_code[days][0][self._code[name]])
        for days in LOOKBACK_DAYS:
            before_w[("engagement", days)] = cum["engagement"] - recent_by_code[days][1]

        def last(mask: np.ndarray) -> int | None:
            picked = times[mask]
            return int(picked.max()) if picked.size else None

        def last_of(name: str) -> int | None:
            return last(codes == self._code[name]) if name in self._code else None

        decay = None
        if engaged.size:
            decay = 0.0
            for occurred in engaged.tolist():
                decay += math.exp(self._decay_rate * fractional_days(occurred, t_us))
        return {
            "any": bool(times.size),
            "cum": cum,
            "before": before_w,
            "decay": decay,
            "first_engagement": int(engaged.min()) if engaged.size else None,
            "last_engagement": int(engaged.max()) if engaged.size else None,
            "last_sales_touch": last(self._sales[codes]),
            "last_pricing": last_of("pricing_page_view"),
            "last_demo": last_of("demo_request"),
            "last_activity": int(times.max()) if times.size else None,
            "active_days": int(np.unique(engaged // US_PER_DAY).size),
        }

    def row(
        self,
        lead: Mapping[str, Any],
        acts: Activities,
        wins: DomainWins,
        as_of: datetime,
        attributes: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Macro point_in_time_features (one-date branch) for ``lead`` (its int_leads_enriched
        columns) as of ``as_of``; keys in lead_features' column order."""
        t = epoch_us(as_of)
        s = self._state(acts, t)
        cum, has = s["cum"], s["any"]

        def count(name: str) -> int:
            return cum.get(name, 0) if has else 0

        def window(name: str, days: int) -> int:
            return count(name) - (s["before"].get((name, days), 0) if has else 0)

        created = epoch_us(lead["created_at"])
        n_won, amount, closed = self._wins_before(wins, t)
        decayed = s["decay"] * math.exp(self._decay_rate * 0.0) if s["decay"] is not None else None
        row: dict[str, Any] = {"lead_id": lead["lead_id"], "as_of": as_of}
        for column in (
            "lead_source", "company_size", "company_size_band", "company_size_log", "industry",
            "country", "region", "seniority", "seniority_level", "job_function",
            "is_corporate_email", "created_day_of_week", "created_hour", *attributes,
            "company_size_band_midpoint",
        ):  # fmt: skip
            row[column] = lead[column]
        row["n_prior_won_deals_domain"] = n_won
        row["prior_won_amount_domain"] = amount
        row["lead_age_days"] = fractional_days(created, t)
        row["days_since_last_engagement"] = fractional_days(s["last_engagement"], t)
        row["days_since_last_pricing_page_view"] = fractional_days(s["last_pricing"], t)
        row["days_since_last_demo_request"] = fractional_days(s["last_demo"], t)
        row["days_to_first_engagement"] = fractional_days(created, s["first_engagement"])
        for activity_type in self.online.counted_types:
            for days in FEATURE_WINDOWS:
                row[f"n_{activity_type}_{days}d"] = window(activity_type, days)
            row[f"n_{activity_type}_all"] = count(activity_type)
        for days in FEATURE_WINDOWS:
            row[f"n_engagement_{days}d"] = window("engagement", days)
        row["n_engagement_all"] = count("engagement")
        row["n_other_activity_all"] = count("other")
        row["n_active_days_all"] = s["active_days"] if has else 0
        row["engagement_score_decayed"] = decayed
        eng_30 = window("engagement", 30)
        before_30 = s["before"].get(("engagement", 30), 0) if has else 0
        before_60 = s["before"].get(("engagement", 60), 0) if has else 0
        row["engagement_velocity_30d"] = eng_30 - (before_30 - before_60)
        opens = count("email_open") if has else None
        row["email_click_through_rate"] = (
            float(count("email_click")) / opens if has and opens else None
        )
        row["has_requested_demo"] = count("demo_request") > 0
        row["has_pricing_page_view_7d"] = window("pricing_page_view", 7) > 0
        if self.online.include_sales_touch_features:
            row["days_since_last_sales_touch"] = fractional_days(s["last_sales_touch"], t)
        level = lead["seniority_level"]
        row["seniority_x_engagement"] = (
            None if level is None else level * (decayed if decayed is not None else 0)
        )
        corporate = 1 if lead["is_corporate_email"] else 0
        row["corporate_x_pricing_views_30d"] = corporate * window("pricing_page_view", 30)
        size_log = lead["company_size_log"]
        row["size_x_engagement_30d"] = None if size_log is None else size_log * eng_30
        row["last_input_at"] = max(
            t_ for t_ in (lead["created_at"], _time(s["last_activity"]), closed) if t_ is not None
        )
        return {column: row[column] for column in self.columns}

    @staticmethod
    def _wins_before(wins: DomainWins, t_us: int) -> tuple[int, float, datetime | None]:
        """The domain's latest running total with closed_at < T (0, 0.0 without one)."""
        i = int(np.searchsorted(wins.closed, t_us, side="left")) - 1
        if i < 0:
            return 0, 0.0, None
        return int(wins.n_won[i]), float(wins.amount[i]), _time(int(wins.closed[i]))


def _time(us: int | None) -> datetime | None:
    if us is None:
        return None
    return datetime(1970, 1, 1) + np.timedelta64(us, "us").item()
