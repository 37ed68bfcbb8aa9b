"""The page: the sections in order (each with a fixed id) and the whole HTML document."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from leadscore.report.css import CSS
from leadscore.report.formatting import attempt, fmt_date
from leadscore.report.loading import Exports, Run
from leadscore.report.model_sections import (
    section_calibration,
    section_gains,
    section_importance,
    section_model_card,
    section_model_comparison,
    section_overview,
    section_thresholds,
)
from leadscore.report.monitoring_sections import (
    section_data_quality,
    section_drift,
    section_retrain,
    section_score_distribution,
    section_segments,
    section_tiers,
)


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
