"""The HTML report: chart functions on small inputs, sections on hand-made exports, and one
end-to-end build whose report is checked against the exports and rendered by a headless
chromium."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import sys
import zlib
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import DbtRun, generate_raw, run_dbt

from leadscore import metrics as m
from leadscore import registry_tables
from leadscore import report as r
from leadscore.report import charts as svg
from leadscore.report import deciles, model_sections

SVG_NS = "{http://www.w3.org/2000/svg}"


def parse_svg(text: str) -> ElementTree.Element:
    root = ElementTree.fromstring(text)
    assert root.tag == f"{SVG_NS}svg"
    return root


# --------------------------------------------------------------------------------------
# svg


def test_nice_ticks_are_round_and_cover_the_range():
    assert svg.nice_ticks(0, 1) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert svg.nice_ticks(0, 97) == [0, 20, 40, 60, 80, 100]
    assert svg.nice_ticks(0.013, 0.081) == [0, 0.02, 0.04, 0.06, 0.08, 0.1]
    ticks = svg.nice_ticks(5, 5)  # one value: still a usable axis around it
    assert ticks[0] < 5 < ticks[-1]
    with pytest.raises(ValueError, match="finite"):
        svg.nice_ticks(0, float("nan"))


def test_line_chart_is_valid_svg_with_id_title_axes_legend_and_escaped_text():
    chart = svg.line_chart(
        "chart-x",
        "Curves <of> & co",
        [
            svg.Series("model <b>", [0, 0.5, 1], [0, 0.8, 1], emphasis=True),
            svg.Series("rules", [0, 1], [0, None], markers=True),
        ],
        svg.Axis("false positive rate", 0, 1),
        svg.Axis("true positive rate", 0, 1),
        [svg.Reference("random", [0, 1], [0, 1])],
        vlines=[(0.5, "cut")],
    )
    root = parse_svg(chart)  # well-formed: every text is escaped
    assert root.get("id") == "chart-x"
    assert root.find(f"{SVG_NS}title").text == "Curves <of> & co"
    texts = [t.text for t in root.iter(f"{SVG_NS}text")]
    for expected in ("false positive rate", "true positive rate", "model <b>", "rules", "random"):
        assert expected in texts
    assert "0.6" in texts and "cut" in texts  # ticks and the vertical marker's label
    paths = root.findall(f"{SVG_NS}path")
    model = next(p for p in paths if p.find(f"{SVG_NS}title").text == "model <b>")
    # plot area x 64..600, y 36..316: (0, 0) bottom left, (0.5, 0.8) and (1, 1) top right
    assert model.get("d") == "M64.0,316.0 L332.0,92.0 L600.0,36.0"
    assert model.get("stroke-width") == "3.5"
    rules = next(p for p in paths if p.find(f"{SVG_NS}title").text == "rules")
    assert rules.get("d") == "M64.0,316.0"  # the None point is left out, not drawn at 0
    assert len(root.findall(f"{SVG_NS}circle")) == 1


def test_date_ticks_too_close_to_label_keep_the_latest():
    ticks = [(0.0, "2026-01-01"), (1.0, "2026-01-02"), (10.0, "2026-01-11")]
    chart = svg.line_chart(
        "chart-t",
        "Runs",
        [svg.Series("mean", [0, 1, 10], [1, 2, 3])],
        svg.Axis("as_of", ticks=ticks),
        svg.Axis("score", lo=0),
    )
    texts = [t.text for t in parse_svg(chart).iter(f"{SVG_NS}text")]
    assert "2026-01-11" in texts and "2026-01-02" in texts
    assert "2026-01-01" not in texts  # 54 px from the next label: would overlap


def test_bar_chart_bars_are_proportional_with_whiskers_and_reference():
    chart = svg.bar_chart(
        "chart-bars",
        "Bars",
        [
            svg.Bar("a very long segment label that is cut short", 2.0, low=1.0, high=3.0),
            svg.Bar("b", 1.0, colour="#D55E00"),
        ],
        svg.Axis("lift"),
        reference=(1.0, "average"),
    )
    root = parse_svg(chart)
    rects = [x for x in root.findall(f"{SVG_NS}rect") if x.find(f"{SVG_NS}title") is not None]
    widths = [float(x.get("width")) for x in rects]
    assert widths[0] == pytest.approx(2 * widths[1], abs=0.2)
    assert rects[1].get("fill") == "#D55E00"
    texts = [t.text for t in root.iter(f"{SVG_NS}text")]
    assert "average" in texts and "lift" in texts
    assert any(t.endswith("…") for t in texts)  # long label shortened, kept in the tooltip
    assert "a very long segment label that is cut short: 2" in rects[0].find(f"{SVG_NS}title").text
    with pytest.raises(ValueError, match="at least one bar"):
        svg.bar_chart("empty", "Empty", [], svg.Axis("x"))


# --------------------------------------------------------------------------------------
# report building blocks


def test_curve_table_flattens_every_candidates_curves_and_skips_old_reports():
    report = {
        "chosen": "xgboost",
        "candidates": [
            {
                "name": "xgboost",
                "model_type": "xgboost",
                "curves": {
                    "roc": {"x": [0, 0.5, 1], "y": [0, 0.9, 1]},
                    "pr": {"x": [0.5, 1], "y": [0.6, 0.1]},
                },
            },
            {
                "name": "rules",
                "model_type": "baseline",
                "curves": {
                    "roc": {"x": [0, 1], "y": [0, 1]},
                    "pr": {"x": [1], "y": [0.1]},
                },
            },
        ],
    }
    old = {"chosen": "xgboost", "candidates": [{"name": "xgboost", "metrics": {}}]}
    registry = pa.table(
        {
            "model_version": ["m0002", "m0001", "m0000"],
            "report_json": [json.dumps(report), json.dumps(old), None],
        }
    )
    table = registry_tables.curve_table(registry)
    assert table.schema == registry_tables.CURVE_SCHEMA
    rows = table.to_pylist()
    assert len(rows) == 3 + 2 + 2 + 1
    assert {row["model_version"] for row in rows} == {"m0002"}
    chosen = [row for row in rows if row["is_chosen"]]
    assert {row["candidate"] for row in chosen} == {"xgboost"}
    roc = [
        (row["point"], row["x"], row["y"])
        for row in rows
        if row["candidate"] == "xgboost" and row["curve"] == "roc"
    ]
    assert roc == [(0, 0, 0), (1, 0.5, 0.9), (2, 1, 1)]


def test_deciles_from_the_holdout_break_ties_fairly_and_give_gains_lift_and_calibration():
    rng = np.random.default_rng(3)
    n = 1000
    prob = rng.beta(1, 12, n)
    y = rng.random(n) < prob
    rule = np.round(prob * 20)  # few distinct values: many ties
    table = pa.table(
        {
            "model_version": ["m1"] * n,
            "evaluated_on": ["the model's test window"] * n,
            "is_converted": y,
            "conversion_probability": prob,
            "rule_score": rule,
        }
    )
    d = deciles.deciles_from_holdout(table)
    assert d.n == [100.0] * 10
    assert sum(d.positives) == pytest.approx(y.sum())
    assert sum(d.rule_positives) == pytest.approx(y.sum())
    top = np.argsort(-prob)[:100]
    assert d.positives[0] == y[top].sum()  # continuous scores: exact
    assert d.mean_predicted[0] == pytest.approx(prob[top].mean())
    assert d.rule_positives[0] == pytest.approx(m.top_k_positives(y, rule, 100))
    xs, ys = deciles.gains(d.n, d.positives)
    assert xs[0] == ys[0] == 0 and xs[-1] == pytest.approx(1) and ys[-1] == pytest.approx(1)
    assert d.lift()[0] == pytest.approx(d.positives[0] / 100 / y.mean())
    assert "m1" in d.source and "1,000 rows" in d.source


def test_deciles_from_the_holdout_read_only_its_test_rows():
    n = 200
    prob = np.linspace(0.01, 0.5, n)
    table = pa.table(
        {
            "model_version": ["m1"] * 2 * n,
            "evaluated_on": ["the model's valid window"] * n + ["the model's test window"] * n,
            "evaluated_split": ["valid"] * n + ["test"] * n,
            "is_converted": [True] * n + [i % 4 == 0 for i in range(n)],
            "conversion_probability": np.concatenate([prob, prob]),
        }
    )
    d = deciles.deciles_from_holdout(table)
    assert sum(d.n) == n and sum(d.positives) == n / 4
    assert "200 rows of the model's test window" in d.source


def _threshold_row(score: int, recommended: bool, valid: tuple, test: tuple) -> dict:
    """A score_thresholds row; valid and test are (n_contacted, precision, recall)."""
    return {
        "model_version": "m1",
        "evaluated_on": "the model's test window with its evaluation fit",
        "valid_evaluated_on": "the model's valid window with its evaluation fit",
        "threshold_score": score,
        "n_contacted": test[0],
        "precision": test[1],
        "recall": test[2],
        "valid_n_contacted": valid[0],
        "valid_precision": valid[1],
        "valid_recall": valid[2],
        "is_recommended": recommended,
    }


def test_the_threshold_section_shows_the_valid_choice_and_its_test_figures(tmp_path):
    rows = [
        _threshold_row(10, False, (800, 0.2, 0.9), (810, 0.15, 0.95)),
        _threshold_row(30, True, (300, 0.45, 0.6), (320, 0.31, 0.55)),
        _threshold_row(50, False, (100, 0.6, 0.2), (90, 0.4, 0.25)),
    ]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "score_thresholds.parquet")
    html = model_sections.section_thresholds(r.Exports(tmp_path), r.Run(model_version="m1"))
    assert "chosen on the model&#x27;s valid window" in html
    assert "reported on the model&#x27;s test window, both scored with its evaluation fit" in html
    table = re.search(r"<table.*?</table>", html, re.S).group(0)
    cells = [
        re.findall(r"<td[^>]*>(.*?)</td>", tr) for tr in re.findall(r"<tr>.*?</tr>", table, re.S)
    ]
    cells = [c for c in cells if c]
    assert cells[0][:5] == ["valid (chosen on)", "30", "300", "45%", "60%"]
    assert cells[1][:5] == ["test (reported)", "30", "320", "31%", "55%"]
    assert "recommended: score ≥ 30" in html and "precision (valid)" in html


def test_deciles_from_performance_take_the_latest_matured_cohort():
    rows = []
    for as_of, rate in ((datetime(2026, 5, 1), 0.5), (datetime(2026, 6, 1), 0.2)):
        for decile in (1, 2):
            for metric, value in (("observed_rate", rate / decile), ("mean_predicted", 0.3)):
                rows.append(
                    {
                        "as_of": as_of,
                        "model_version": "m1",
                        "segment": "overall",
                        "metric": metric,
                        "decile": decile,
                        "value": value,
                        "n_leads": 50,
                    }
                )
    rows.append(
        {
            "as_of": datetime(2026, 7, 1),
            "model_version": "m1",
            "segment": "overall",
            "metric": "roc_auc",
            "decile": None,
            "value": 0.8,
            "n_leads": 100,
        }
    )  # a later run without deciles is not a cohort
    d = deciles.deciles_from_performance(rows)
    assert d.positives == [10.0, 5.0] and d.n == [50.0, 50.0]
    assert "2026-06-01" in d.source
    with pytest.raises(r.NotAvailable, match="no matured cohort"):
        deciles.deciles_from_performance(rows[-1:])


def test_markdown_renders_headings_lists_tables_code_and_escapes():
    html = r.markdown_to_html(
        "# Card <x>\n\n- **Model**: `xgb<1>`\n- two *words*\n\n1. first\n2. second\n\n"
        "| a | b |\n|---|---|\n| 1 | <i> |\n\n```\nselect 1 < 2\n```\ntext & more\n",
        heading_offset=2,
    )
    assert "<h3>Card &lt;x&gt;</h3>" in html
    assert "<li><strong>Model</strong>: <code>xgb&lt;1&gt;</code></li>" in html
    assert "<em>words</em>" in html
    assert "<ol><li>first</li><li>second</li></ol>" in html
    assert "<th>a</th><th>b</th>" in html and "<td>&lt;i&gt;</td>" in html
    assert "<pre><code>select 1 &lt; 2</code></pre>" in html
    assert "<p>text &amp; more</p>" in html


def test_cells_format_dates_shares_and_numbers_and_tables_colour_status():
    assert r.fmt_cell("as_of", datetime(2026, 10, 1)) == "2026-10-01"
    assert r.fmt_cell("scored_at", datetime(2026, 10, 1, 3, 4)) == "2026-10-01 03:04"
    assert r.fmt_cell("hot_share", 0.0312) == "3.1%"
    assert r.fmt_cell("n_leads", 12345) == "12,345"
    assert r.fmt_cell("psi", 0.012345) == "0.0123"
    assert r.fmt_cell("notes", None) == r.MISSING
    html = r.html_table(
        [{"feature": "<x>", "status": "alert", "psi": 0.3}], ["feature", "status", "psi"]
    )
    assert '<span class="status status-alert">alert</span>' in html
    assert "&lt;x&gt;" in html and '<td class="num">0.3</td>' in html


def test_missing_exports_show_not_available_notes_and_the_cli_names_the_fix(tmp_path, capsys):
    folder = tmp_path / "exports"
    folder.mkdir()
    pq.write_table(
        pa.table(
            {
                "as_of": [datetime(2026, 10, 1)],
                "model_version": ["rules"],
                "model_type": ["rules"],
                "n_leads_scored": [10],
                "n_hot": [2],
                "scored_at": [datetime(2026, 10, 1, 1)],
            }
        ),
        folder / "scoring_runs.parquet",
    )
    pq.write_table(
        pa.table({"as_of": [datetime(2026, 10, 1)]}), folder / "lead_tier_summary.parquet"
    )
    comparison = pa.table(
        {
            "model_version": ["m0001"] * 2,
            "candidate": ["xgboost", "rules"],
            "is_chosen": [True, False],
            "segment": ["overall"] * 2,
            "metric": ["roc_auc"] * 2,
            "value": [0.81, 0.72],
        }
    )
    pq.write_table(comparison, folder / "model_comparison.parquet")
    html = r.render_report(folder)
    for sec in r.SECTIONS:
        assert f'<section id="{sec.id}">' in html
    assert 'data-metric="n_hot">2<' in html
    # a section shows what it has: the metrics table, with a note where the curves would be
    assert '<tr class="emphasis"><td>xgboost (chosen)</td><td class="num">0.81</td>' in html
    assert "model_curves.parquet is not in the exports" in html
    assert "latest trained version" in html  # the run used the rules, not m0001
    assert "feature_drift.parquet is not in the exports" in html
    assert "lead_tier_summary.parquet lacks column(s) tier, n_leads" in html
    assert "rule fallback" in html  # no model card for the rules
    assert "<svg" not in html

    assert r.main(["--exports", str(tmp_path / "nowhere")]) == 1
    assert "run make demo or dbt build first" in capsys.readouterr().err
    out = tmp_path / "page.html"
    assert r.main(["--exports", str(folder), "--out", str(out)]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert not list(tmp_path.glob(".page.html.*"))  # the temp file was renamed


# --------------------------------------------------------------------------------------
# end to end: a real build, its report, and a headless browser


@pytest.fixture(scope="module")
def scored_build(tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    """A full `dbt build` (training, scoring, monitoring, exports) on a small data set."""
    work = tmp_path_factory.mktemp("report_build")
    raw = generate_raw(work, n_leads=3000, seed=11)
    run = run_dbt(["build", "--vars", "{search_budget_seconds: 5}"], raw, work)
    assert run.returncode == 0, run.output[-6000:]
    return run


@pytest.fixture(scope="module")
def built_report(scored_build: DbtRun) -> Path:
    exports = scored_build.db_path.parent / "exports"
    proc = subprocess.run(
        [sys.executable, "-m", "leadscore.report", "--exports", str(exports)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return exports / "report.html"


@pytest.mark.e2e
def test_the_report_has_every_section_and_chart_and_shows_the_exports_numbers(built_report):
    html = built_report.read_text(encoding="utf-8")
    exports = built_report.parent
    for sec in r.SECTIONS:
        assert f'<section id="{sec.id}">' in html, sec.id
    not_available = re.findall(r'<p class="na">(.*?)</p>', html)
    assert not not_available, not_available
    for chart_id in r.CHART_IDS:
        match = re.search(rf'<svg id="{chart_id}".*?</svg>', html, re.S)
        assert match, chart_id
        assert parse_svg(match.group(0)).find(f"{SVG_NS}title").text
    # self-contained: no scripts, nothing loaded from elsewhere
    assert "<script" not in html and not re.search(r'(src|href)="(https?:)?//', html)

    scores = pq.read_table(exports / "lead_scores.parquet").to_pylist()
    n_hot = sum(row["tier"] == "hot" for row in scores)
    assert f'data-metric="n_hot">{n_hot:,}<' in html
    version = scores[0]["model_version"]
    assert f"Model card — {version}" in html
    # the ROC chart draws the chosen candidate of the scoring model from model_curves
    curves = pq.read_table(exports / "model_curves.parquet").to_pylist()
    chosen = [c for c in curves if c["model_version"] == version and c["is_chosen"]]
    assert chosen and f"{chosen[0]['candidate']} (chosen)" in html


def chromium() -> str:
    """The chromium binary; installed with apt-get when missing (skips without network)."""
    found = shutil.which("chromium")
    if found:
        return found
    install = "apt-get update && apt-get install -y chromium"
    proc = subprocess.run(["sh", "-c", install], capture_output=True, text=True, check=False)
    found = shutil.which("chromium")
    if proc.returncode != 0 or not found:
        pytest.skip(f"chromium is missing and '{install}' failed: {proc.stderr[-500:]}")
    return found


def png_pixels(path: Path) -> tuple[int, int, set[bytes]]:
    """(width, height, distinct RGB colours) of an 8-bit RGB/RGBA PNG, decoded with zlib."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        header = chunk if kind == b"IHDR" else header
        idat += chunk if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour_type in (2, 6), (depth, colour_type)
    bpp = 3 if colour_type == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    previous, colours = bytearray(stride), set()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa_, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa_ <= pb and pa_ <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 0xFF
        colours.update(bytes(line[i : i + 3]) for i in range(0, stride, bpp * 7))
        previous = line
    return width, height, colours


@pytest.mark.e2e
def test_a_headless_chromium_renders_the_report(built_report, tmp_path):
    shot = tmp_path / "report.png"
    proc = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--screenshot={shot}",
            "--window-size=1400,4000",
            "--hide-scrollbars",
            built_report.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    assert shot.stat().st_size > 50_000
    width, height, colours = png_pixels(shot)
    assert (width, height) == (1400, 4000)
    assert len(colours) > 50  # text, charts and tables, not a blank or single-colour page
    assert bytes.fromhex("16324f") in colours  # the page header's colour: the CSS applied
