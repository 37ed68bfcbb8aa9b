"""The report's sections about the scored leads and monitoring: tiers, segments, score
distribution, drift, data quality and the retrain recommendation."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from leadscore.report import charts as svg
from leadscore.report.formatting import (
    DRIFT_COLUMNS,
    N_DRIFT_ROWS,
    STATUS_ORDER,
    TIER_COLOURS,
    TIER_ORDER,
    _day,
    attempt,
    date_ticks,
    figures,
    fmt_cell,
    fmt_date,
    html_table,
    is_percent_column,
    ordered_columns,
)
from leadscore.report.loading import Exports, NotAvailable, Run, latest


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
