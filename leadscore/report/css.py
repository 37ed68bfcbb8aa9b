"""The report's style sheet (inline in the page)."""

from __future__ import annotations

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
