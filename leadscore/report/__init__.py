"""The HTML report: one self-contained page about the latest scoring run, from the exports.

    python -m leadscore.report [--exports DIR] [--out FILE]    (or: leadscore report)

Reads only the Parquet files (and markdown model cards) that ``bi_exports`` writes to
``$LEADSCORE_EXPORT_DIR`` (default ``exports/``), never the DuckDB file, so it runs while a
build holds the database lock. Writes ``<exports>/report.html`` atomically (temp file +
rename): inline SVG charts (leadscore.report.charts) and CSS, no scripts, nothing fetched from the
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
  (``leadscore.registry_tables.curve_table`` builds that model from the registry's training
  reports).
- Gains, lift and calibration: the latest matured cohort of ``model_performance`` (what
  really happened to a past run's leads) when there is one, else the scoring model's
  hold-out test rows (``holdout_predictions`` with evaluated_split 'test'), where the rule
  score is ranked alongside.
  Ties in a score are broken in expectation (``leadscore.metrics.top_k_positives``), so the
  whole-number rule score gets a fair curve.
- Column sets are discovered at run time where the export is wide (segments, drift, data
  quality, retrain): known columns first, in a useful order, the rest after them.

Modules: ``loading`` (the exports, the latest run), ``formatting`` (cells, tables),
``charts`` (inline SVG), ``deciles`` (gains, lift, calibration), ``model_sections`` and
``monitoring_sections`` (one function per section), ``markdown`` (model cards), ``css``,
``page`` (the section list and the document), ``cli``.
"""

from leadscore.report.cli import main
from leadscore.report.formatting import MISSING, fmt_cell, html_table
from leadscore.report.loading import Exports, NotAvailable, Run
from leadscore.report.markdown import markdown_to_html
from leadscore.report.page import CHART_IDS, SECTIONS, Section, render_report

__all__ = [
    "CHART_IDS",
    "MISSING",
    "SECTIONS",
    "Exports",
    "NotAvailable",
    "Run",
    "Section",
    "fmt_cell",
    "html_table",
    "main",
    "markdown_to_html",
    "render_report",
]
