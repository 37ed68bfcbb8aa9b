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

    def _states(self, acts: Sequence[Activities], t_us: int) -> list[dict[str, Any]]:
        """Macro activity_state_as_of for each lead of a batch, one numpy pass over all their
        activities strictly before T: the totals of each counted activity (macro
        counted_activity: a type, 'other', or the categories engagement / sales touch),
        times, the decay weight, distinct engagement days and each windowed count just
        before T - w (``before``)."""
        n, k = len(acts), len(self._code)
        seg = np.repeat(np.arange(n), [a.times.size for a in acts])
        times = np.concatenate([a.times for a in acts]) if n else np.zeros(0, np.int64)
        codes = np.concatenate([a.codes for a in acts]).astype(np.int64) if n else seg
        keep = times < t_us
        seg, times, codes = seg[keep], times[keep], codes[keep]
        flat = seg * k + codes
        by_code = np.bincount(flat, minlength=n * k).reshape(n, k)
        engaged = self._engagement[codes]
        sales = self._sales[codes]
        recent = {
            days: np.bincount(flat[times >= t_us - days * US_PER_DAY], minlength=n * k).reshape(
                n, k
            )
            for days in LOOKBACK_DAYS
        }
        recent_engaged = {
            days: np.bincount(seg[engaged & (times >= t_us - days * US_PER_DAY)], minlength=n)
            for days in LOOKBACK_DAYS
        }
        last_code = _reduce_at(np.maximum, flat, times, n * k).reshape(n, k)
        first_eng = _reduce_at(np.minimum, seg[engaged], times[engaged], n)
        last_eng = _reduce_at(np.maximum, seg[engaged], times[engaged], n)
        last_sales = _reduce_at(np.maximum, seg[sales], times[sales], n)
        last_any = _reduce_at(np.maximum, seg, times, n)
        # summed in activity order from 0.0, as a per-lead loop would (bincount is sequential)
        weights = [
            math.exp(self._decay_rate * fractional_days(o, t_us)) for o in times[engaged].tolist()
        ]
        decay = np.bincount(seg[engaged], weights=weights, minlength=n)
        n_engaged = np.bincount(seg[engaged], minlength=n)
        days_of = np.unique(seg[engaged] * (1 << 32) + times[engaged] // US_PER_DAY)
        active_days = np.bincount(days_of >> 32, minlength=n)
        n_any = np.bincount(seg, minlength=n)
        pricing, demo = self._code.get("pricing_page_view"), self._code.get("demo_request")
        states = []
        for i in range(n):
            counts = by_code[i].tolist()
            cum = {name: counts[code] for name, code in self._code.items()}
            cum["engagement"] = int(by_code[i, self._engagement].sum())
            cum["sales_touch"] = int(by_code[i, self._sales].sum())
            before_w = {
                (name, days): cum[name] - int(recent[days][i, self._code[name]])
                for name in self.online.counted_types
                for days in FEATURE_WINDOWS
            }
            for days in LOOKBACK_DAYS:
                before_w[("engagement", days)] = cum["engagement"] - int(recent_engaged[days][i])
            states.append({
                "any": bool(n_any[i]),
                "cum": cum,
                "before": before_w,
                "decay": float(decay[i]) if n_engaged[i] else None,
                "first_engagement": _at(first_eng, i),
                "last_engagement": _at(last_eng, i),
                "last_sales_touch": _at(last_sales, i),
                "last_pricing": None if pricing is None else _at(last_code[i], pricing),
                "last_demo": None if demo is None else _at(last_code[i], demo),
                "last_activity": _at(last_any, i),
                "active_days": int(active_days[i]),
            })  # fmt: skip
        return states

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
        return self.rows([lead], [acts], [wins], as_of, attributes)[0]

    def rows(
        self,
        leads: Sequence[Mapping[str, Any]],
        acts: Sequence[Activities],
        wins: Sequence[DomainWins],
        as_of: datetime,
        attributes: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """``row`` of each lead of a batch, all as of ``as_of`` (one pass over their
        activities)."""
        t = epoch_us(as_of)
        states = self._states(acts, t)
        return [
            self._row(lead, s, w, t, as_of, attributes)
            for lead, s, w in zip(leads, states, wins, strict=True)
        ]

    def _row(
        self,
        lead: Mapping[str, Any],
        s: dict[str, Any],
        wins: DomainWins,
        t: int,
        as_of: datetime,
        attributes: Sequence[str],
    ) -> dict[str, Any]:
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
            None if level is None else level * (decayed if decayed is not None else 0.0)
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


def _reduce_at(op: np.ufunc, index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """op (np.maximum / np.minimum) of ``values`` per ``index`` in 0..size-1; a slot without
    values holds the opposite extreme (read with _at)."""
    start = np.iinfo(np.int64).min if op is np.maximum else np.iinfo(np.int64).max
    out = np.full(size, start, dtype=np.int64)
    op.at(out, index, values)
    return out


def _at(reduced: np.ndarray, i: int) -> int | None:
    value = int(reduced[i])
    extremes = (np.iinfo(np.int64).min, np.iinfo(np.int64).max)
    return None if value in extremes else value


def _time(us: int | None) -> datetime | None:
    if us is None:
        return None
    return datetime(1970, 1, 1) + np.timedelta64(us, "us").item()
