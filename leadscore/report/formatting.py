"""Formatting for the report: cells, HTML tables, column order, date ticks, notes."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from html import escape
from typing import Any

import numpy as np

from leadscore.report import charts as svg
from leadscore.report.loading import NotAvailable

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
