"""Deciles of a scored cohort and the gains, lift and calibration charts drawn from them."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore import metrics as m
from leadscore.report import charts as svg
from leadscore.report.formatting import fmt_date
from leadscore.report.loading import Exports, NotAvailable, latest


@dataclass(frozen=True)
class Deciles:
    """Ten groups of a ranking, best first: rows, (expected) conversions and mean predicted
    probability; ``rule_positives`` the same groups when ranking by the rule score."""

    source: str
    n: list[float]
    positives: list[float]
    mean_predicted: list[float | None]
    rule_positives: list[float] | None = None

    @property
    def base_rate(self) -> float:
        return sum(self.positives) / sum(self.n)

    def observed_rate(self) -> list[float]:
        return [p / n if n else 0.0 for p, n in zip(self.positives, self.n, strict=True)]

    def lift(self) -> list[float]:
        return [r / self.base_rate for r in self.observed_rate()]


def gains(n: Sequence[float], positives: Sequence[float]) -> tuple[list[float], list[float]]:
    """Cumulative gains: (share of leads contacted, share of conversions found), from 0."""
    total_n, total_pos = sum(n), sum(positives)
    xs, ys = [0.0], [0.0]
    for rows, pos in zip(n, positives, strict=True):
        xs.append(xs[-1] + rows / total_n)
        ys.append(ys[-1] + pos / total_pos)
    return xs, ys


def deciles_from_performance(rows: list[dict[str, Any]]) -> Deciles:
    """The latest matured cohort's overall deciles of model_performance (observed_rate,
    mean_predicted, n_leads per decile); NotAvailable when there is none."""
    per_decile = [
        r
        for r in rows
        if r["segment"] == "overall"
        and r["decile"] is not None
        and r["metric"] in ("observed_rate", "mean_predicted")
    ]
    cohort = latest(per_decile)
    if not cohort:
        raise NotAvailable(
            "model_performance has no matured cohort yet (a scored as_of becomes one "
            "conversion_window_days later)"
        )
    version = max(r["model_version"] for r in cohort)
    cohort = [r for r in cohort if r["model_version"] == version]
    by_decile: dict[int, dict[str, Any]] = {}
    for r in cohort:
        by_decile.setdefault(r["decile"], {"n": r["n_leads"]})[r["metric"]] = r["value"]
    ordered = [by_decile[d] for d in sorted(by_decile)]
    n = [float(d["n"] or 0) for d in ordered]
    positives = [float(d.get("observed_rate") or 0) * k for d, k in zip(ordered, n, strict=True)]
    if not sum(positives):
        raise NotAvailable(
            f"the matured cohort of {fmt_date(cohort[0]['as_of'])} has no conversions"
        )
    source = (
        f"the leads scored on {fmt_date(cohort[0]['as_of'])} by {version} "
        f"({sum(n):,.0f} leads), whose conversion window has passed: what really happened"
    )
    return Deciles(source, n, positives, [d.get("mean_predicted") for d in ordered])


def deciles_from_holdout(table: pa.Table) -> Deciles:
    """Deciles of the test rows of holdout_predictions by conversion_probability (and by
    rule_score for the rules' gains); ties broken in expectation."""
    rows = table.filter(pc.is_valid(table.column("conversion_probability")))
    if "evaluated_split" in rows.column_names:  # valid rows chose the threshold: test only
        rows = rows.filter(pc.equal(rows.column("evaluated_split"), "test"))
    if not rows.num_rows:
        raise NotAvailable("holdout_predictions has no rows with a probability")
    y = np.asarray(rows.column("is_converted").to_pylist(), dtype=np.float64)
    prob = rows.column("conversion_probability").to_numpy(zero_copy_only=False)
    if not y.sum():
        raise NotAvailable("the hold-out rows have no conversions")
    cuts = [round(y.size * i / 10) for i in range(11)]
    order = np.sort(prob)[::-1]

    def per_decile(score: np.ndarray) -> list[float]:
        found = [m.top_k_positives(y, score, k) for k in cuts]
        return [b - a for a, b in itertools.pairwise(found)]

    rule_positives = None
    if "rule_score" in rows.column_names:
        rule = rows.column("rule_score").to_numpy(zero_copy_only=False).astype(np.float64)
        rule_positives = per_decile(np.nan_to_num(rule, nan=-np.inf))
    version = (
        rows.column("model_version")[0].as_py() if "model_version" in rows.column_names else ""
    )
    where = rows.column("evaluated_on")[0].as_py() if "evaluated_on" in rows.column_names else ""
    source = (
        f"no matured cohort yet, so {version}'s labelled hold-out snapshots "
        f"({rows.num_rows:,} rows of {where or 'its test window'})"
    )
    return Deciles(
        source,
        [float(b - a) for a, b in itertools.pairwise(cuts)],
        per_decile(prob),
        [float(order[a:b].mean()) if b > a else None for a, b in itertools.pairwise(cuts)],
        rule_positives,
    )


def load_deciles(exports: Exports) -> Deciles:
    """The matured cohort when there is one, else the hold-out rows."""
    try:
        return deciles_from_performance(
            exports.rows(
                "model_performance",
                ["as_of", "model_version", "segment", "metric", "decile", "value", "n_leads"],
            )
        )
    except NotAvailable as cohort_missing:
        try:
            table = exports.table("holdout_predictions", ["is_converted", "conversion_probability"])
        except NotAvailable as holdout_missing:
            raise NotAvailable(f"{cohort_missing}; and {holdout_missing}") from None
        return deciles_from_holdout(table)


def gains_chart(d: Deciles) -> str:
    xs, ys = gains(d.n, d.positives)
    series = [svg.Series("model", xs, ys, emphasis=True, markers=True)]
    if d.rule_positives is not None:
        series.append(svg.Series("rule score", *gains(d.n, d.rule_positives), markers=True))
    pct = svg.percent_format
    return svg.line_chart(
        "chart-gains",
        "Cumulative gains: conversions found by calling the top leads first",
        series,
        svg.Axis("share of leads contacted (best scores first)", 0, 1, pct),
        svg.Axis("share of conversions found", 0, 1, pct),
        [svg.Reference("random order", [0, 1], [0, 1])],
    )


def lift_chart(d: Deciles) -> str:
    bars = [
        svg.Bar(f"decile {i + 1}" + (" (top 10%)" if i == 0 else ""), v)
        for i, v in enumerate(d.lift())
    ]
    return svg.bar_chart(
        "chart-lift",
        "Lift per decile: conversion rate vs the average",
        bars,
        svg.Axis("lift (x the average conversion rate)", fmt=lambda v: f"{v:.2g}x"),
        reference=(1.0, "average"),
    )


def calibration_chart(d: Deciles) -> str:
    pairs = [
        (p, o) for p, o in zip(d.mean_predicted, d.observed_rate(), strict=True) if p is not None
    ]
    if not pairs:
        raise NotAvailable("the deciles have no predicted probabilities (rule-only scoring)")
    hi = max(max(p, o) for p, o in pairs)
    top = svg.nice_ticks(0, hi)[-1]
    pct = svg.percent_format
    return svg.line_chart(
        "chart-calibration",
        "Calibration: predicted vs observed conversion rate per decile",
        [svg.Series("model deciles", [p for p, _ in pairs], [o for _, o in pairs], markers=True)],
        svg.Axis("mean predicted probability", 0, top, pct),
        svg.Axis("observed conversion rate", 0, top, pct),
        [svg.Reference("perfect calibration", [0, top], [0, top])],
    )
