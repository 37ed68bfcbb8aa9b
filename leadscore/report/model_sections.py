"""The report's sections about the model: overview, comparison, curves, gains, calibration,
thresholds, feature importance and the model card."""

from __future__ import annotations

import re
from html import escape
from typing import Any

from leadscore.report import charts as svg
from leadscore.report.deciles import calibration_chart, gains_chart, lift_chart, load_deciles
from leadscore.report.formatting import (
    COMPARISON_METRICS,
    N_IMPORTANT_FEATURES,
    attempt,
    figures,
    fmt_date,
    fmt_number,
    html_table,
    ordered_columns,
)
from leadscore.report.loading import Exports, NotAvailable, Run, latest
from leadscore.report.markdown import markdown_to_html


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
