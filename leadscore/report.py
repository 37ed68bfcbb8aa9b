"""The HTML report: one self-contained page about the latest scoring run, from the exports.

    python -m leadscore.report [--exports DIR] [--out FILE]

Reads only the Parquet files (and markdown model cards) that ``bi_exports`` writes to
``$LEADSCORE_EXPORT_DIR`` (default ``exports/``), never the DuckDB file, so it runs while a
build holds the database lock. Writes ``<exports>/report.html`` atomically (temp file +
rename): inline SVG charts (leadscore.svg) and CSS, no scripts, nothing fetched from the
network.

Decisions:

- One section per question a weekly review asks (``SECTIONS``), each with a fixed ``id``.
  A section whose export is missing, lacks a column or has no rows yet shows "Not available
  yet" and why, instead of failing the page: exports arrive as capabilities land and a
  matured cohort exists only after ``conversion_window_days``.
- "Current" is the latest run: the latest ``as_of`` of ``scoring_runs`` and its model. Each
  monitoring section shows its own table's latest ``as_of`` (the same date after a build).
- Model comparison: the latest run's model version when it has a training report, else the
  latest trained version (said so on the page). Curves come from ``model_curves``
  (``curve_table`` below builds that model from the registry's training reports).
- Gains, lift and calibration: the latest matured cohort of ``model_performance`` (what
  really happened to a past run's leads) when there is one, else the scoring model's
  hold-out test rows (``holdout_predictions`` with evaluated_split 'test'), where the rule
  score is ranked alongside.
  Ties in a score are broken in expectation (``leadscore.metrics.top_k_positives``), so the
  whole-number rule score gets a fair curve.
- Column sets are discovered at run time where the export is wide (segments, drift, data
  quality, retrain): known columns first, in a useful order, the rest after them.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from leadscore import metrics as m
from leadscore import svg
from leadscore.reporting import write_atomic
from leadscore.settings import environment

CURVE_SCHEMA = pa.schema(
    [
        ("model_version", pa.string()),
        ("candidate", pa.string()),
        ("model_type", pa.string()),
        ("is_chosen", pa.bool_()),
        ("curve", pa.string()),
        ("point", pa.int64()),
        ("x", pa.float64()),
        ("y", pa.float64()),
    ]
)
TIER_ORDER = ("hot", "warm", "cold")
TIER_COLOURS = {"hot": "#D55E00", "warm": "#E69F00", "cold": "#0072B2"}
STATUS_ORDER = {"alert": 0, "watch": 1, "ok": 2}
COMPARISON_METRICS = (
    "roc_auc",
    "pr_auc",
    "top_decile_lift",
    "precision_at_k",
    "log_loss",
    "brier",
    "ece",
)
PERCENT_NAMES = ("precision", "recall", "importance", "share_contacted", "share_of_leads")
N_IMPORTANT_FEATURES = 15
N_DRIFT_ROWS = 20
DRIFT_COLUMNS = (
    "feature",
    "status",
    "psi",
    "importance",
    "reference_mean",
    "current_mean",
    "reference_null_share",
    "current_null_share",
    "top_bin",
    "notes",
)
MAX_TICKS = 8
MISSING = "\u2013"  # en dash: a value that is not there


# --------------------------------------------------------------------------------------
# the model_curves dbt model (from the registry's training reports)


def curve_table(registry: pa.Table) -> pa.Table:
    """model_curves: the test ROC and PR points of every candidate of every version whose
    training report has them (``curves`` of leadscore.training), one row per point."""
    rows: list[dict[str, Any]] = []
    for version, report_json in zip(
        registry.column("model_version").to_pylist(),
        registry.column("report_json").to_pylist(),
        strict=True,
    ):
        report = json.loads(report_json) if report_json else {"candidates": []}
        for cand in report["candidates"]:
            for curve, points in (cand.get("curves") or {}).items():
                for i, (x, y) in enumerate(zip(points["x"], points["y"], strict=True)):
                    rows.append(
                        {
                            "model_version": version,
                            "candidate": cand["name"],
                            "model_type": cand.get("model_type"),
                            "is_chosen": cand["name"] == report.get("chosen"),
                            "curve": curve,
                            "point": i,
                            "x": x,
                            "y": y,
                        }
                    )
    return pa.Table.from_pylist(rows, schema=CURVE_SCHEMA)


# --------------------------------------------------------------------------------------
# reading the exports


class NotAvailable(Exception):
    """A section's input is not there (yet): the section shows this message instead."""


@dataclass
class Exports:
    """The export folder; tables are read once and kept."""

    folder: Path
    _tables: dict[str, pa.Table] = field(default_factory=dict, repr=False)

    def table(self, name: str, columns: Sequence[str] = ()) -> pa.Table:
        """``<folder>/<name>.parquet``; NotAvailable when the file or a column is missing."""
        if name not in self._tables:
            path = self.folder / f"{name}.parquet"
            if not path.is_file():
                raise NotAvailable(
                    f"{path.name} is not in the exports: bi_exports writes it once dbt builds "
                    f"{name} (run make demo or dbt build)"
                )
            self._tables[name] = pq.read_table(path)
        table = self._tables[name]
        missing = [c for c in columns if c not in table.column_names]
        if missing:
            raise NotAvailable(
                f"{name}.parquet lacks column(s) {', '.join(missing)}; rebuild the exports with "
                "this version of the project (dbt build)"
            )
        return table

    def rows(self, name: str, columns: Sequence[str] = ()) -> list[dict[str, Any]]:
        return self.table(name, columns).to_pylist()

    def text(self, relative: str) -> str:
        path = self.folder / relative
        if not path.is_file():
            raise NotAvailable(f"{relative} is not in the exports (run make demo or dbt build)")
        return path.read_text(encoding="utf-8")


def latest(rows: list[dict[str, Any]], key: str = "as_of") -> list[dict[str, Any]]:
    """The rows with the largest ``key``."""
    values = [r[key] for r in rows if r[key] is not None]
    if not values:
        return []
    top = max(values)
    return [r for r in rows if r[key] == top]


@dataclass(frozen=True)
class Run:
    """The latest scoring run (scoring_runs); every field None when there is none."""

    as_of: datetime | None = None
    model_version: str | None = None
    row: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, exports: Exports) -> Run:
        try:
            rows = exports.rows("scoring_runs", ["as_of", "model_version", "scored_at"])
        except NotAvailable:
            return cls()
        newest = sorted(latest(rows), key=lambda r: r["scored_at"] or datetime.min)
        if not newest:
            return cls()
        row = newest[-1]
        return cls(row["as_of"], row["model_version"], row)


# --------------------------------------------------------------------------------------
# formatting


def fmt_date(value: Any) -> str:
    if isinstance(value, datetime):
        return (
            f"{value:%Y-%m-%d}"
            if value.time() == datetime.min.time()
            else f"{value:%Y-%m-%d %H:%M}"
        )
    return f"{value:%Y-%m-%d}" if isinstance(value, date) else str(value)


def fmt_number(value: float) -> str:
    if not math.isfinite(value):
        return MISSING
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3g}"


def is_percent_column(column: str) -> bool:
    return (
        column.endswith(("_share", "_rate", "_rate_low", "_rate_high")) or column in PERCENT_NAMES
    )


def fmt_cell(column: str, value: Any) -> str:
    """A table cell's text: dates without midnight times, thousands separators, shares as
    percentages, lists joined; None as a dash."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime | date):
        return fmt_date(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if is_percent_column(column) and math.isfinite(value):
            return svg.percent_format(value)
        return fmt_number(value)
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return str(value)


def html_table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    status_column: str = "status",
    emphasis: Callable[[dict[str, Any]], bool] | None = None,
) -> str:
    """A table of ``columns``; the status column gets its colour class (ok / watch / alert),
    numbers are right-aligned; ``emphasis`` marks rows to show in bold."""
    head = "".join(f"<th>{escape(c.replace('_', ' '))}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for col in columns:
            value = row.get(col)
            text = escape(fmt_cell(col, value))
            if col == status_column and value is not None:
                status = escape(str(value), quote=True)
                cells.append(f'<td><span class="status status-{status}">{text}</span></td>')
            elif isinstance(value, int | float) and not isinstance(value, bool):
                cells.append(f'<td class="num">{text}</td>')
            else:
                cells.append(f"<td>{text}</td>")
        strong = ' class="emphasis"' if emphasis and emphasis(row) else ""
        body.append(f"<tr{strong}>{''.join(cells)}</tr>")
    return (
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def ordered_columns(
    available: Iterable[str], preferred: Sequence[str], skip: Sequence[str] = ()
) -> list[str]:
    """``preferred`` columns that exist, then the other columns in file order, without
    ``skip`` and without JSON blobs (``*_json``)."""
    names = list(available)
    rest = [c for c in names if c not in preferred and c not in skip and not c.endswith("_json")]
    return [c for c in preferred if c in names] + rest


def date_ticks(days: Sequence[float]) -> list[tuple[float, str]]:
    """At most MAX_TICKS of the given dates (as day numbers), evenly spread, as ticks."""
    unique = sorted(set(days))
    if len(unique) > MAX_TICKS:
        idx = np.unique(np.linspace(0, len(unique) - 1, MAX_TICKS).round().astype(int))
        unique = [unique[i] for i in idx]
    return [(d, date.fromordinal(int(d)).isoformat()) for d in unique]


def _day(value: datetime | date) -> float:
    return float(value.toordinal())


def note(text: str) -> str:
    return f'<p class="na">Not available yet: {escape(text)}</p>'


def attempt(render: Callable[[], str]) -> str:
    """A block of a section: its HTML, or the NotAvailable note."""
    try:
        return render()
    except NotAvailable as exc:
        return note(str(exc))


def figures(*charts: str) -> str:
    return '<div class="charts">' + "".join(f"<figure>{c}</figure>" for c in charts) + "</div>"


# --------------------------------------------------------------------------------------
# deciles: gains, lift and calibration


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


# --------------------------------------------------------------------------------------
# sections


def section_overview(exports: Exports, run: Run) -> str:
    if run.as_of is None:
        raise NotAvailable("scoring_runs.parquet has no run (run make demo or dbt build)")
    r = run.row
    tiles = [
        ("n_leads_scored", "open leads scored", r.get("n_leads_scored")),
        ("n_hot", "hot", r.get("n_hot")),
        ("n_warm", "warm", r.get("n_warm")),
        ("n_cold", "cold", r.get("n_cold")),
        ("expected_conversions", "expected conversions", r.get("expected_conversions")),
    ]
    html = ['<div class="tiles">']
    for key, label, value in tiles:
        if value is not None:
            text = fmt_number(value) if isinstance(value, float) else f"{value:,}"
            html.append(
                f'<div class="tile"><div class="tile-value" data-metric="{key}">{text}</div>'
                f'<div class="tile-label">{escape(label)}</div></div>'
            )
    html.append("</div>")
    facts = [
        f"Scored as of <strong>{escape(fmt_date(run.as_of))}</strong> by "
        f"<strong>{escape(str(run.model_version))}</strong> ({escape(str(r.get('model_type')))})."
    ]
    if r.get("notes"):
        facts.append(f"Notes: {escape(str(r['notes']))}")
    html.append("<p>" + " ".join(facts) + "</p>")
    return "".join(html)


def section_model_comparison(exports: Exports, run: Run) -> str:
    rows = exports.rows(
        "model_comparison",
        ["model_version", "candidate", "is_chosen", "segment", "metric", "value"],
    )
    versions = sorted({r["model_version"] for r in rows})
    if not versions:
        raise NotAvailable("model_comparison is empty: no model has been trained yet")
    version = run.model_version if run.model_version in versions else versions[-1]
    intro = (
        f"Every candidate of <strong>{escape(version)}</strong> on the same test rows (purged, "
        "lead-disjoint splits; <code>&lt;chosen&gt;_refit</code> is the chosen setting refitted "
        "on every matured row before the test window, whose figures the registry reports)"
    )
    if version != run.model_version:
        intro += (
            f" (the latest run scored with {escape(str(run.model_version))}, which has no "
            "training report; this is the latest trained version)"
        )
    overall = [r for r in rows if r["model_version"] == version and r["segment"] == "overall"]
    candidates = list(dict.fromkeys(r["candidate"] for r in overall))
    chosen = {r["candidate"] for r in overall if r["is_chosen"]}
    values = {(r["candidate"], r["metric"]): r["value"] for r in overall}
    metrics = [k for k in COMPARISON_METRICS if any((c, k) in values for c in candidates)]
    table_rows = [
        {
            "candidate": c + (" (chosen)" if c in chosen else ""),
            **{k: values.get((c, k)) for k in metrics},
        }
        for c in candidates
    ]
    table = html_table(
        table_rows, ["candidate", *metrics], emphasis=lambda r: "(chosen)" in r["candidate"]
    )
    base_rate = next(
        (values[(c, "positive_rate")] for c in candidates if (c, "positive_rate") in values), None
    )
    charts = attempt(lambda: curve_charts(exports, version, candidates, chosen, values, base_rate))
    explain = (
        '<p class="small">ROC-AUC, PR-AUC and lift rank by the raw score; log loss, Brier and '
        "ECE (expected calibration error) judge the calibrated probability. Lower is better for "
        "the last three.</p>"
    )
    by_population = _population_table(rows, version, candidates, chosen)
    return f"<p>{intro}.</p>{charts}{table}{explain}{by_population}"


POPULATION_SEGMENTS = (
    ("overall", "every snapshot"),
    ("population=first_score", "first score"),
    ("population=age_0_7", "0-7 days old"),
    ("population=age_8_30", "8-30 days"),
    ("population=age_31_90", "31-90 days"),
    ("population=age_over_90", "over 90 days"),
)


def _population_table(
    rows: list[dict], version: str, candidates: list[str], chosen: set[str]
) -> str:
    """Test ROC-AUC of every candidate on each lead's first score and by lead-age band: a
    model judged on all snapshots is judged mostly on old, easy negatives."""
    auc = {
        (r["candidate"], r["segment"]): r["value"]
        for r in rows
        if r["model_version"] == version and r["metric"] == "roc_auc"
    }
    segments = [
        (seg, label)
        for seg, label in POPULATION_SEGMENTS
        if any((c, seg) in auc for c in candidates)
    ]
    if len(segments) < 2:
        return ""
    table_rows = [
        {
            "candidate": c + (" (chosen)" if c in chosen else ""),
            **{label: auc.get((c, seg)) for seg, label in segments},
        }
        for c in candidates
    ]
    table = html_table(
        table_rows,
        ["candidate", *(label for _, label in segments)],
        emphasis=lambda r: "(chosen)" in r["candidate"],
    )
    return (
        "<h3>Test ROC-AUC on the leads sales sees</h3><p>The first score of each lead (the "
        "one that routes a new lead) and lead-age bands; model choice and the champion gate "
        "use var <code>evaluation_population</code> (default: first score).</p>" + table
    )


def curve_charts(
    exports: Exports,
    version: str,
    candidates: list[str],
    chosen: set[str],
    values: dict[tuple[str, str], float | None],
    base_rate: float | None,
) -> str:
    rows = [
        r
        for r in exports.rows(
            "model_curves", ["model_version", "candidate", "curve", "point", "x", "y"]
        )
        if r["model_version"] == version
    ]
    if not rows:
        raise NotAvailable(
            f"model_curves has no curves of {version}: it was trained before curves were "
            "recorded; the next trained version has them"
        )
    points: dict[tuple[str, str], list[tuple[int, float, float]]] = {}
    for r in rows:
        points.setdefault((r["candidate"], r["curve"]), []).append((r["point"], r["x"], r["y"]))
    present = {c for c, _ in points}
    names = [c for c in candidates if c in present] + sorted(present - set(candidates))

    def series(curve: str, metric: str) -> list[svg.Series]:
        out = []
        for c in names:
            pts = sorted(points.get((c, curve), []))
            value = values.get((c, metric))
            label = c + (" (chosen)" if c in chosen else "")
            label += (
                f", {metric.replace('_', '-').upper()} {value:.3f}" if value is not None else ""
            )
            out.append(svg.Series(label, [p[1] for p in pts], [p[2] for p in pts], c in chosen))
        return out

    pct = svg.percent_format
    roc = svg.line_chart(
        "chart-roc",
        "ROC curves on the test split",
        series("roc", "roc_auc"),
        svg.Axis("false positive rate", 0, 1),
        svg.Axis("true positive rate (recall)", 0, 1),
        [svg.Reference("random ranking", [0, 1], [0, 1])],
    )
    refs = (
        []
        if base_rate is None
        else [
            svg.Reference(
                f"random ranking (base rate {pct(base_rate)})", [0, 1], [base_rate, base_rate]
            )
        ]
    )
    pr = svg.line_chart(
        "chart-pr",
        "Precision-recall curves on the test split",
        series("pr", "pr_auc"),
        svg.Axis("recall", 0, 1),
        svg.Axis("precision", 0, 1),
        refs,
    )
    return figures(roc, pr)


def section_gains(exports: Exports, run: Run) -> str:
    d = load_deciles(exports)
    top = d.lift()[0]
    return (
        f"<p>From {escape(d.source)}. Calling the top 10% first finds conversions at "
        f"<strong>{top:.1f}x</strong> the average rate.</p>"
        + figures(gains_chart(d), lift_chart(d))
    )


def section_calibration(exports: Exports, run: Run) -> str:
    d = load_deciles(exports)
    return (
        f"<p>From {escape(d.source)}. Points on the diagonal mean a probability of 20% converts "
        "about 20% of the time, so expected conversions and expected value can be trusted.</p>"
        + figures(calibration_chart(d))
    )


THRESHOLD_FIGURES: tuple[str, ...] = (
    "n_contacted",
    "share_contacted",
    "precision",
    "recall",
    "f1",
    "n_conversions",
    "expected_conversions",
    "realised_value",
)


def recommended_by_split(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The recommended score_thresholds row as two table rows: the valid figures it was
    chosen on (the ``valid_`` columns) and the test figures it is reported on (the plain
    ones); only the test row for exports written before valid was split off."""
    test = {"split": "test (reported)", "threshold_score": row["threshold_score"]}
    test.update({c: row[c] for c in THRESHOLD_FIGURES if c in row})
    if "valid_precision" not in row:
        return [test]
    valid = {"split": "valid (chosen on)", "threshold_score": row["threshold_score"]}
    valid.update({c: row.get(f"valid_{c}") for c in THRESHOLD_FIGURES if f"valid_{c}" in row})
    return [valid, test]


def section_thresholds(exports: Exports, run: Run) -> str:
    rows = exports.rows(
        "score_thresholds", ["model_version", "threshold_score", "precision", "recall"]
    )
    if run.model_version in {r["model_version"] for r in rows}:
        rows = [r for r in rows if r["model_version"] == run.model_version]
    rows.sort(key=lambda r: r["threshold_score"])
    if not rows:
        raise NotAvailable("score_thresholds is empty (no labelled hold-out rows)")
    x = [float(r["threshold_score"]) for r in rows]
    lines = [
        svg.Series(label, x, [r.get(col) for r in rows], markers=len(rows) <= 30)
        for col, label in (
            ("precision", "precision (test)"),
            ("recall", "recall (test)"),
            ("f1", "F1 (test)"),
            ("share_contacted", "share of leads contacted (test)"),
            ("valid_precision", "precision (valid)"),
        )
        if col in rows[0]
    ]
    recommended = [r for r in rows if r.get("is_recommended")]
    vlines = [
        (float(r["threshold_score"]), f"recommended: score ≥ {r['threshold_score']}")
        for r in recommended
    ]
    chart = svg.line_chart(
        "chart-thresholds",
        "Threshold trade-off: contacting every lead at or above a score",
        lines,
        svg.Axis("score threshold"),
        svg.Axis("share", 0, 1, svg.percent_format),
        vlines=vlines,
    )
    version = escape(rows[0]["model_version"])
    tested = str(rows[0].get("evaluated_on") or "the hold-out rows")
    chosen = rows[0].get("valid_evaluated_on")
    if chosen:
        # "<rows> with <fit>" (holdout_predictions): name a fit both splits share once
        valid_rows, _, valid_fit = str(chosen).partition(" with ")
        test_rows, _, test_fit = tested.partition(" with ")
        if valid_fit and valid_fit == test_fit:
            where = f"{valid_rows} and reported on {test_rows}, both scored with {test_fit}"
        else:
            where = f"{chosen} and reported on {tested}"
        text = (
            f"<p>{version}: the threshold is chosen on {escape(where)}. Nothing was chosen on "
            "the test rows, so its test figures are what to expect.</p>"
        )
    else:
        text = f"<p>{version} replayed on {escape(tested)}.</p>"
    if recommended:
        table = recommended_by_split(recommended[0])
        text += (
            "<p>The recommended threshold (best valid precision at the minimum recall), "
            "with the valid figures it was chosen on and its test figures:</p>"
            if len(table) == 2
            else "<p>The recommended threshold (best precision at the minimum recall):</p>"
        )
        text += html_table(table, ordered_columns(table[0], ["split", "threshold_score"]))
    return text + figures(chart)


def section_tiers(exports: Exports, run: Run) -> str:
    rows = exports.rows("lead_tier_summary", ["as_of", "tier", "n_leads", "expected_conversions"])
    current = latest(rows)
    if run.model_version is not None and any(
        r.get("model_version") == run.model_version for r in current
    ):
        current = [r for r in current if r.get("model_version") == run.model_version]
    if not current:
        raise NotAvailable("lead_tier_summary has no rows")
    rank = {t: i for i, t in enumerate(TIER_ORDER)}
    current.sort(key=lambda r: (rank.get(r["tier"], len(rank)), str(r["tier"])))

    def bars(col: str) -> list[svg.Bar]:
        return [
            svg.Bar(str(r["tier"]), float(r[col] or 0), TIER_COLOURS.get(r["tier"]))
            for r in current
        ]

    leads = svg.bar_chart(
        "chart-tier-leads", "Leads per tier", bars("n_leads"), svg.Axis("open leads")
    )
    conversions = svg.bar_chart(
        "chart-tier-conversions",
        "Expected conversions per tier",
        bars("expected_conversions"),
        svg.Axis("expected conversions (sum of probabilities)"),
    )
    columns = ordered_columns(
        current[0],
        ["tier", "n_leads", "mean_probability", "expected_conversions", "total_expected_value"],
        skip=["as_of", "model_version"],
    )
    return (
        f"<p>As of {escape(fmt_date(current[0]['as_of']))}: hot = positive expected value within "
        "this week's sales capacity, warm = positive beyond it, cold = a call costs more than it "
        "is expected to return.</p>" + figures(leads, conversions) + html_table(current, columns)
    )


def section_importance(exports: Exports, run: Run) -> str:
    rows = [
        r
        for r in latest(exports.rows("feature_drift", ["as_of", "feature", "importance"]))
        if r["importance"] is not None
    ]
    if not rows:
        raise NotAvailable("feature_drift has no importances (the latest run used the rules)")
    rows.sort(key=lambda r: -r["importance"])
    top = rows[:N_IMPORTANT_FEATURES]
    version = top[0].get("model_version") or run.model_version
    chart = svg.bar_chart(
        "chart-importance",
        f"Top {len(top)} features of {version}",
        [svg.Bar(str(r["feature"]), float(r["importance"])) for r in top],
        svg.Axis("share of the model's importance", fmt=svg.percent_format),
    )
    return (
        "<p>Each input column's share of the scoring model's importance (XGBoost: total gain; "
        "logistic regression: |coefficient| on the standardised scale), a category's one-hot "
        "columns summed.</p>" + figures(chart)
    )


def section_segments(exports: Exports, run: Run) -> str:
    rows = latest(exports.rows("segment_profiles", ["as_of"]))
    if not rows:
        raise NotAvailable("segment_profiles has no rows")
    name_col = next(
        (c for c in ("cluster_name", "segment_name", "segment", "cluster_id") if c in rows[0]), None
    )
    if name_col is None:
        raise NotAvailable("segment_profiles has no segment name column (cluster_name)")
    metric = next(
        (c for c in ("conversion_rate", "share_of_leads", "n_leads") if c in rows[0]), None
    )
    charts = ""
    if metric is not None:
        rows.sort(key=lambda r: -(r[metric] or 0))
        bars = [
            svg.Bar(
                str(r[name_col]),
                float(r[metric] or 0),
                low=r.get(f"{metric}_low"),
                high=r.get(f"{metric}_high"),
            )
            for r in rows
        ]
        fmt = svg.percent_format if is_percent_column(metric) else svg.default_format
        label = metric.replace("_", " ")
        if f"{metric}_low" in rows[0]:
            label += " (whiskers: interval)"
        charts = figures(
            svg.bar_chart(
                "chart-segments",
                f"Segments by {metric.replace('_', ' ')}",
                bars,
                svg.Axis(label, fmt=fmt),
            )
        )
    columns = ordered_columns(
        rows[0],
        [
            name_col,
            "n_leads",
            "share_of_leads",
            "conversion_rate",
            "conversion_lift",
            "distinguishing_features",
        ],
        skip=["as_of", "conversion_rate_low", "conversion_rate_high"],
    )
    return (
        f"<p>Segments of the open leads as of {escape(fmt_date(rows[0]['as_of']))}; conversion "
        "rates from matured training snapshots assigned to the same segments.</p>"
        + charts
        + html_table(rows, columns)
    )


def section_score_distribution(exports: Exports, run: Run) -> str:
    rows = exports.rows("score_distribution", ["as_of"])
    rows = sorted((r for r in rows if r["as_of"] is not None), key=lambda r: r["as_of"])
    if not rows:
        raise NotAvailable("score_distribution has no runs")
    days = [_day(r["as_of"]) for r in rows]
    ticks = date_ticks(days)
    changes = [
        (days[i], f"model {rows[i]['model_version']}")
        for i in range(1, len(rows))
        if rows[i].get("model_version") != rows[i - 1].get("model_version")
    ]
    score_cols = [
        (c, label)
        for c, label in (
            ("score_p90", "90th percentile"),
            ("score_p50", "median"),
            ("score_p10", "10th percentile"),
            ("mean_score", "mean"),
        )
        if c in rows[0]
    ]
    charts = []
    if score_cols:
        charts.append(
            svg.line_chart(
                "chart-score-distribution",
                "Score distribution per scoring run",
                [
                    svg.Series(label, days, [r[c] for r in rows], markers=True)
                    for c, label in score_cols
                ],
                svg.Axis("as_of", ticks=ticks),
                svg.Axis("score (1-100)", lo=0),
                vlines=changes,
            )
        )
    share_tiers = [t for t in TIER_ORDER if f"{t}_share" in rows[0]]
    if share_tiers:
        charts.append(
            svg.line_chart(
                "chart-tier-shares",
                "Tier shares per scoring run",
                [
                    svg.Series(
                        tier,
                        days,
                        [r[f"{tier}_share"] for r in rows],
                        markers=True,
                        colour=TIER_COLOURS[tier],
                    )
                    for tier in share_tiers
                ],
                svg.Axis("as_of", ticks=ticks),
                svg.Axis("share of open leads", 0, 1, svg.percent_format),
                vlines=changes,
            )
        )
    if not charts:
        raise NotAvailable("score_distribution lacks score percentile and tier share columns")
    return (
        f"<p>{len(rows)} scoring run{'s' if len(rows) != 1 else ''} from "
        f"{escape(fmt_date(rows[0]['as_of']))} to {escape(fmt_date(rows[-1]['as_of']))}. A jump "
        "between runs of one model points at the data (see drift and data quality); a dotted "
        "line marks a model change.</p>" + figures(*charts)
    )


def _status_first(rows: list[dict[str, Any]], then: str | None = None) -> list[dict[str, Any]]:
    def key(r: dict[str, Any]) -> tuple:
        secondary = -(r.get(then) or 0) if then else 0
        return (STATUS_ORDER.get(r.get("status"), len(STATUS_ORDER)), secondary)

    return sorted(rows, key=key)


def _status_counts(rows: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for r in rows:
        counts[str(r.get("status"))] = counts.get(str(r.get("status")), 0) + 1
    order = sorted(counts, key=lambda s: STATUS_ORDER.get(s, len(STATUS_ORDER)))
    return ", ".join(
        f'<span class="status status-{escape(s, quote=True)}">{counts[s]} {escape(s)}</span>'
        for s in order
    )


def section_drift(exports: Exports, run: Run) -> str:
    rows = latest(exports.rows("feature_drift", ["as_of", "feature", "status"]))
    if not rows:
        raise NotAvailable("feature_drift has no rows")
    ranked = _status_first(rows, "importance")
    shown = [r for r in ranked if r["status"] != "ok"]
    shown += [r for r in ranked if r["status"] == "ok"][: max(N_DRIFT_ROWS - len(shown), 0)]
    columns = [c for c in DRIFT_COLUMNS if c in rows[0]]
    notes = {r.get("notes") for r in rows}
    common = ""
    if "notes" in columns and len(notes) == 1:  # the same note on every feature: say it once
        columns.remove("notes")
        text = notes.pop()
        common = f'<p class="small">Note: {escape(str(text))}</p>' if text else ""
    version = rows[0].get("model_version")
    return (
        f"<p>Today's open leads against {escape(str(version or 'the'))} training population, "
        f"as of {escape(fmt_date(rows[0]['as_of']))}: {len(rows)} features, "
        f"{_status_counts(rows)}. PSI (population stability index) above 0.1 is worth a look, "
        f"above 0.25 a real shift. Showing {len(shown)} of {len(rows)} (every watch and alert, "
        "then the most important); feature_drift.parquet has every feature and test.</p>"
        + common
        + html_table(shown, columns)
    )


def section_data_quality(exports: Exports, run: Run) -> str:
    scores = latest(exports.rows("data_quality_scores", ["as_of", "source_table", "status"]))
    if not scores:
        raise NotAvailable("data_quality_scores has no rows")
    columns = ordered_columns(
        scores[0],
        ["source_table", "quality_score", "status", "findings", "n_rows", "rejected_share"],
        skip=["as_of"],
    )
    html = (
        f"<p>The raw CRM tables as of {escape(fmt_date(scores[0]['as_of']))}: "
        f"{_status_counts(scores)}.</p>" + html_table(_status_first(scores), columns)
    )

    def checks() -> str:
        rows = latest(exports.rows("data_quality", ["as_of", "status"]))
        flagged = [r for r in _status_first(rows) if r["status"] in ("watch", "alert")]
        if not flagged:
            return f"<p>All {len(rows)} checks behind the scores are within their thresholds.</p>"
        cols = ordered_columns(
            flagged[0],
            [
                "source_table",
                "column_name",
                "check_name",
                "status",
                "value_judged",
                "watch",
                "alert",
            ],
            skip=["as_of"],
        )
        return "<p>Checks in watch or alert:</p>" + html_table(flagged, cols)

    return html + attempt(checks)


def section_retrain(exports: Exports, run: Run) -> str:
    rows = exports.rows("retrain_recommendation", ["as_of", "should_retrain"])
    ordered = sorted(
        (r for r in rows if r["as_of"] is not None),
        key=lambda r: (r["as_of"], r.get("recommended_at") or datetime.min),
    )
    if not ordered:
        raise NotAvailable("retrain_recommendation has no rows")
    now = ordered[-1]
    status = "watch" if now["should_retrain"] else "ok"
    verdict = "Retrain recommended" if now["should_retrain"] else "No retrain needed"
    reasons = now.get("reasons") or "every signal is within its threshold"
    details = [
        (c, now[c])
        for c in ordered_columns(
            now, [], skip=["as_of", "should_retrain", "reasons", "recommended_at"]
        )
        if now[c] is not None
    ]
    facts = "".join(
        f"<dt>{escape(c.replace('_', ' '))}</dt><dd>{escape(fmt_cell(c, v))}</dd>"
        for c, v in details
    )
    history = html_table(
        ordered[::-1][:10],
        ordered_columns(
            now, ["as_of", "champion_version", "should_retrain", "reasons"], skip=["recommended_at"]
        )[:4],
    )
    return (
        f'<div class="verdict status-{status}"><strong>{verdict}</strong> as of '
        f"{escape(fmt_date(now['as_of']))}: {escape(str(reasons))}</div>"
        f'<dl class="facts">{facts}</dl><p>The latest runs:</p>{history}'
    )


def section_model_card(exports: Exports, run: Run) -> str:
    if run.model_version is None:
        raise NotAvailable("scoring_runs.parquet has no run, so there is no scoring model")
    if run.model_version == "rules":
        raise NotAvailable(
            "the latest run scored with the rule fallback (no trained champion yet), which has "
            "no model card"
        )
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", run.model_version):
        raise NotAvailable(f"model version {run.model_version!r} is not a model card name")
    card = exports.text(f"model_cards/{run.model_version}.md")
    return f'<div class="card">{markdown_to_html(card, heading_offset=2)}</div>'


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    render: Callable[[Exports, Run], str]


SECTIONS: tuple[Section, ...] = (
    Section("overview", "Latest scoring run", section_overview),
    Section("model-comparison", "Model comparison", section_model_comparison),
    Section("gains", "Lift and gains", section_gains),
    Section("calibration", "Calibration", section_calibration),
    Section("thresholds", "Threshold trade-off", section_thresholds),
    Section("tiers", "Tiers and expected conversions", section_tiers),
    Section("feature-importance", "Top feature importances", section_importance),
    Section("segments", "Segment profiles", section_segments),
    Section("score-distribution", "Score distribution over time", section_score_distribution),
    Section("feature-drift", "Feature drift", section_drift),
    Section("data-quality", "Data quality scorecard", section_data_quality),
    Section("retrain", "Retrain recommendation", section_retrain),
    Section("model-card", "Model card of the scoring model", section_model_card),
)
CHART_IDS: tuple[str, ...] = (
    "chart-roc",
    "chart-pr",
    "chart-gains",
    "chart-lift",
    "chart-calibration",
    "chart-thresholds",
    "chart-tier-leads",
    "chart-tier-conversions",
    "chart-importance",
    "chart-segments",
    "chart-score-distribution",
    "chart-tier-shares",
)


# --------------------------------------------------------------------------------------
# markdown (model cards): headings, paragraphs, lists, tables, code


def _inline(text: str) -> str:
    """Escape, then `code`, **bold** and *italic*."""
    parts = re.split(r"(`[^`]+`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(f"<code>{escape(part[1:-1])}</code>")
            continue
        s = escape(part)
        s = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", s)
        s = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", s)
        out.append(s)
    return "".join(out)


def _table_cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def markdown_to_html(text: str, heading_offset: int = 0) -> str:
    """A small markdown subset: # headings (shifted down by ``heading_offset`` levels),
    paragraphs, - / * / 1. lists, | tables | with a --- separator row, ``` code blocks,
    and inline code, bold and italic. Everything else is text, escaped."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            i += 1
        elif stripped.startswith("```"):
            block = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                block.append(lines[i])
                i += 1
            out.append(f"<pre><code>{escape(chr(10).join(block))}</code></pre>")
            i += 1
        elif heading := re.match(r"(#{1,6})\s+(.*)", stripped):
            level = min(len(heading.group(1)) + heading_offset, 6)
            out.append(f"<h{level}>{_inline(heading.group(2).strip())}</h{level}>")
            i += 1
        elif (
            stripped.startswith("|")
            and i + 1 < len(lines)
            and re.fullmatch(r"\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?", lines[i + 1].strip())
        ):
            head = "".join(f"<th>{_inline(c)}</th>" for c in _table_cells(stripped))
            body = []
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                cells = "".join(f"<td>{_inline(c)}</td>" for c in _table_cells(lines[i]))
                body.append(f"<tr>{cells}</tr>")
                i += 1
            out.append(
                f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
                f"<tbody>{''.join(body)}</tbody></table></div>"
            )
        elif re.match(r"([-*]|\d+\.)\s+", stripped):
            ordered = bool(re.match(r"\d+\.", stripped))
            pattern = r"\d+\.\s+" if ordered else r"[-*]\s+"
            items = []
            while i < len(lines) and re.match(pattern, lines[i].strip()):
                items.append(f"<li>{_inline(re.sub(pattern, '', lines[i].strip(), count=1))}</li>")
                i += 1
            tag = "ol" if ordered else "ul"
            out.append(f"<{tag}>{''.join(items)}</{tag}>")
        else:
            para = []
            while (
                i < len(lines)
                and lines[i].strip()
                and not re.match(r"(#{1,6}\s|```|\||[-*]\s|\d+\.\s)", lines[i].strip())
            ):
                para.append(lines[i].strip())
                i += 1
            out.append(f"<p>{_inline(' '.join(para))}</p>")
    return "\n".join(out)


# --------------------------------------------------------------------------------------
# the page

CSS = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #d8dce3; --bg: #f4f6f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans",
  sans-serif; color: var(--ink); background: var(--bg); }
header.page { background: #16324f; color: #fff; padding: 24px 32px; }
header.page h1 { margin: 0 0 4px; font-size: 26px; }
header.page p { margin: 0; color: #d5e2f0; }
nav { background: #fff; border-bottom: 1px solid var(--line); padding: 8px 32px;
  display: flex; flex-wrap: wrap; gap: 4px 16px; }
nav a { color: #0b5cad; text-decoration: none; white-space: nowrap; }
main { max-width: 1360px; margin: 0 auto; padding: 16px 24px 40px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px;
  padding: 16px 24px; margin: 16px 0; }
section h2 { margin: 0 0 8px; font-size: 20px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 16px; }
figure { margin: 8px 0; }
svg.chart { width: 100%; height: auto; max-width: 760px; font-family: inherit; font-size: 12px; }
svg .chart-title { font-size: 15px; font-weight: 600; fill: var(--ink); }
svg .axis-label { font-size: 12px; fill: #333; }
svg .tick, svg .note { font-size: 11px; fill: #444; }
svg .value { font-size: 11px; fill: #222; }
.table-wrap { overflow-x: auto; margin: 8px 0; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left;
  vertical-align: top; }
th { background: #eef1f5; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.emphasis td { font-weight: 600; }
.status { display: inline-block; padding: 0 8px; border-radius: 10px; font-weight: 600; }
.status-ok { background: #d7f0df; color: #0b5d2a; }
.status-watch { background: #fff0c2; color: #6e4a00; }
.status-alert { background: #fbd3d3; color: #8f1111; }
.status-info { background: #e3e8ef; color: #2e3a4d; }
.verdict { padding: 10px 14px; border-radius: 6px; margin: 8px 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.tiles { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0 12px; }
.tile { border: 1px solid var(--line); border-radius: 8px; padding: 10px 18px; min-width: 150px; }
.tile-value { font-size: 26px; font-weight: 700; }
.tile-label { color: var(--muted); }
.na { color: #6e4a00; background: #fff8e1; border-left: 4px solid #e69f00; padding: 8px 12px; }
.small, footer { color: var(--muted); font-size: 12px; }
.card { border-left: 4px solid #16324f; padding-left: 16px; }
footer { max-width: 1360px; margin: 0 auto; padding: 0 24px 24px; }
"""


def _manifest_time(folder: Path) -> str | None:
    path = folder / "_manifest.json"
    try:
        generated = json.loads(path.read_text(encoding="utf-8")).get("generated_at")
    except (OSError, ValueError):
        return None
    if not generated:
        return None
    return f"{datetime.fromisoformat(generated).astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def render_report(folder: Path, now: datetime | None = None) -> str:
    """The whole page for the exports in ``folder``."""
    exports = Exports(folder)
    run = Run.of(exports)
    now = now or datetime.now(UTC)
    body = []
    for sec in SECTIONS:
        content = attempt(lambda sec=sec: sec.render(exports, run))
        body.append(f'<section id="{sec.id}"><h2>{escape(sec.title)}</h2>{content}</section>')
    nav = "".join(f'<a href="#{s.id}">{escape(s.title)}</a>' for s in SECTIONS)
    subtitle = (
        f"as of {fmt_date(run.as_of)}, scored by {run.model_version}"
        if run.as_of is not None
        else "no scoring run in the exports yet"
    )
    written = _manifest_time(folder)
    source = f"the exports in {folder.resolve()}" + (f" (written {written})" if written else "")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>leadscore report — {escape(subtitle)}</title><style>{CSS}</style></head><body>"
        f'<header class="page"><h1>leadscore report</h1><p>{escape(subtitle)}</p></header>'
        f"<nav>{nav}</nav><main>{''.join(body)}</main>"
        f"<footer>Built {now:%Y-%m-%d %H:%M} UTC by <code>python -m leadscore.report</code> "
        f"from {escape(source)} — Parquet files only, no database.</footer>"
        "</body></html>\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--exports",
        default=str(environment().export_dir),
        help="the export folder (default: $LEADSCORE_EXPORT_DIR or exports)",
    )
    parser.add_argument("--out", help="the HTML file (default: <exports>/report.html)")
    args = parser.parse_args(argv)
    folder = Path(args.exports)
    if not folder.is_dir():
        print(
            f"no exports folder at {folder}; run make demo or dbt build first (or pass --exports)",
            file=sys.stderr,
        )
        return 1
    out = Path(args.out) if args.out else folder / "report.html"
    write_atomic(out, render_report(folder))
    print(f"report written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
