"""Tables derived from the model registry: the candidate comparison (model_comparison), the
test curves (model_curves) and the model cards (model_cards)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa

COMPARISON_SCHEMA = pa.schema(
    [
        ("model_version", pa.string()),
        ("candidate", pa.string()),
        ("model_type", pa.string()),
        ("is_chosen", pa.bool_()),
        ("segment", pa.string()),
        ("metric", pa.string()),
        ("value", pa.float64()),
    ]
)
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
CARD_SCHEMA = pa.schema(
    [("model_version", pa.string()), ("card_path", pa.string()), ("card_markdown", pa.string())]
)
CARD_METRICS = (
    "roc_auc",
    "pr_auc",
    "log_loss",
    "brier",
    "ece",
    "top_decile_lift",
    "precision_at_k",
)


def _numeric(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    return float(value) if isinstance(value, int | float) else None


def comparison_rows(model_version: str, report: dict[str, Any]) -> list[dict[str, Any]]:
    """Long rows (candidate x segment x metric) of one training report."""
    rows = []
    for cand in report["candidates"]:
        segments = {"overall": cand["metrics"]}
        for source, metrics in (cand.get("metrics_by_lead_source") or {}).items():
            segments[f"lead_source={source}"] = metrics
        for population, metrics in (cand.get("metrics_by_population") or {}).items():
            if population != "all":  # 'all' is 'overall'
                segments[f"population={population}"] = metrics
        for segment, metrics in segments.items():
            for metric, value in metrics.items():
                rows.append(
                    {
                        "model_version": model_version,
                        "candidate": cand["name"],
                        "model_type": cand.get("model_type"),
                        "is_chosen": cand["name"] == report["chosen"],
                        "segment": segment,
                        "metric": metric,
                        "value": _numeric(value),
                    }
                )
    return rows


def comparison_table(registry: pa.Table) -> pa.Table:
    """model_comparison: every trained version's report, long format."""
    rows: list[dict[str, Any]] = []
    for version, report_json in zip(
        registry.column("model_version").to_pylist(),
        registry.column("report_json").to_pylist(),
        strict=True,
    ):
        if report_json:
            rows += comparison_rows(version, json.loads(report_json))
    return pa.Table.from_pylist(rows, schema=COMPARISON_SCHEMA)


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


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def model_card(row: dict[str, Any]) -> str:
    """The markdown model card of one registry row."""
    report = json.loads(row["report_json"])
    chosen = next(c for c in report["candidates"] if c["name"] == report["chosen"])
    by_source = chosen.get("metrics_by_lead_source") or {}
    lines = [
        f"# Model card — {row['model_version']}",
        "",
        f"- **Model**: {row['model_type']} (candidate `{row['candidate']}`), calibration "
        f"{chosen.get('calibration')}, operating threshold {_fmt(chosen.get('threshold'))}",
        f"- **Status**: {row['status']} — {row['status_reason']}",
        f"- **Trained**: {row['trained_at']} on data as of {row['data_as_of']}",
        "",
        "## Intended use",
        "",
        "Ranks open leads by the calibrated probability that they convert (the project's "
        "conversion_event) within the conversion window after the scoring date, so sales can "
        "prioritise outreach. Not for decisions about individuals beyond sales prioritisation, "
        "and not for leads unlike the training population (new sources, markets or products).",
        "",
        "## Data window",
        "",
        "| split | snapshots from | to | rows | positives |",
        "|---|---|---|---|---|",
    ]
    for split in ("train", "valid", "test"):
        lines.append(
            f"| {split} | {row[f'{split}_from']} | {row[f'{split}_to']} | "
            f"{row[f'n_{split}_rows']} | {row[f'n_{split}_positives']} |"
        )
    lines += ["", "## Test metrics (all candidates, same test rows)", ""]
    lines.append(
        "Splits are purged and lead-disjoint (DECISIONS.md). Candidates are fitted on train; "
        f"hyperparameters were searched on {report.get('searched_on') or 'time-ordered folds'}. "
        f"`{report['chosen']}_refit` is the chosen setting refitted on every matured row before "
        "the test window: its figures are the ones the registry reports."
    )
    lines.append("")
    lines.append("| candidate | " + " | ".join(CARD_METRICS) + " |")
    lines.append("|---" * (len(CARD_METRICS) + 1) + "|")
    for cand in report["candidates"]:
        name = cand["name"] + (" (chosen)" if cand["name"] == report["chosen"] else "")
        values = " | ".join(_fmt(cand["metrics"].get(k)) for k in CARD_METRICS)
        lines.append(f"| {name} | {values} |")
    lines += ["", *_population_section(report), *_candidate_verdicts(report)]
    lines += ["", "## Chosen model by lead_source (test)", ""]
    lines.append("| lead_source | rows | positives | roc_auc | pr_auc | ece |")
    lines.append("|---|---|---|---|---|---|")
    for source, metrics in sorted(by_source.items()):
        lines.append(
            f"| {source} | {metrics.get('n_rows')} | {metrics.get('n_positives')} | "
            f"{_fmt(metrics.get('roc_auc'))} | {_fmt(metrics.get('pr_auc'))} | "
            f"{_fmt(metrics.get('ece'))} |"
        )
    lines += ["", "## Top features", ""]
    for feat in json.loads(row["top_features_json"] or "[]")[:15]:
        lines.append(f"- {feat.get('feature', feat)}: {_fmt(feat.get('importance'))}")
    lines += [
        "",
        "## Limitations",
        "",
        "- Trained on snapshots of leads open at weekly dates; lead attributes are the CRM's "
        "current values, so a field edited after conversion would leak.",
        "- Metrics are from one chronological test window; a shift in lead mix or conversion "
        "rate after it is not covered (watch the monitoring marts).",
        "- By-source metrics of small sources are noisy; undefined values (one class) show -.",
    ]
    return "\n".join(lines) + "\n"


POPULATION_LABELS = {
    "all": "every snapshot",
    "first_score": "first score of each lead",
    "age_0_7": "leads 0-7 days old",
    "age_8_30": "8-30 days old",
    "age_31_90": "31-90 days old",
    "age_over_90": "over 90 days old",
}


def _population_section(report: dict[str, Any]) -> list[str]:
    """ROC-AUC of every candidate per population (test), and which population chose."""
    cands = [c for c in report["candidates"] if c.get("metrics_by_population")]
    if not cands:
        return []
    names = [p for p in POPULATION_LABELS if any(p in c["metrics_by_population"] for c in cands)]
    chosen_on = report.get("population") or "all"
    note = f"; {report['population_note']}" if report.get("population_note") else ""
    lines = [
        "## Test ROC-AUC by population",
        "",
        f"Model choice and the gate use **{POPULATION_LABELS.get(chosen_on, chosen_on)}** "
        f"(var evaluation_population){note}.",
        "",
        "| candidate | " + " | ".join(POPULATION_LABELS[p] for p in names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for cand in cands:
        pops = cand["metrics_by_population"]
        values = " | ".join(
            _fmt(pops.get(p, {}).get("roc_auc")) + f" (n={pops.get(p, {}).get('n_rows', 0)})"
            for p in names
        )
        lines.append(f"| {cand['name']} | {values} |")
    return [*lines, ""]


def _candidate_verdicts(report: dict[str, Any]) -> list[str]:
    """Where the network and the blend won or lost, in words."""
    ranked = [c for c in report["candidates"] if c.get("valid_selection_score") is not None]
    ranked = [c for c in ranked if c.get("model_type") != "baseline"]
    if not ranked:
        return []
    ranked.sort(
        key=lambda c: (
            -c["valid_selection_score"]
            if report.get("selection_metric") == "pr_auc"
            else c["valid_selection_score"]
        )
    )
    lines = ["## Which candidate earned its place", ""]
    for name in ("mlp", "blend"):
        cand = next((c for c in ranked if c["name"] == name), None)
        if cand is None:
            continue
        place = ranked.index(cand) + 1
        verdict = (
            "won: it is the deployed model"
            if place == 1
            else f"lost: ranked {place} of {len(ranked)}"
        )
        lines.append(
            f"- `{name}` {verdict} on valid ({report.get('selection_metric')} "
            f"{_fmt(cand['valid_selection_score'])} vs {_fmt(ranked[0]['valid_selection_score'])} "
            f"for `{ranked[0]['name']}`)."
        )
    return [*lines, ""]


def write_atomic(path: Path, text: str) -> None:
    """Write via a temp file in the same folder and rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        # mkstemp creates 0600; give the file the permissions any new file would get, so a
        # BI service running as another user can read it
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_model_cards(registry: pa.Table, folder: Path) -> pa.Table:
    """A card per registry row with a report; written to folder/<model_version>.md."""
    rows = []
    for row in registry.to_pylist():
        if not row.get("report_json"):
            continue
        card = model_card(row)
        path = folder / f"{row['model_version']}.md"
        write_atomic(path, card)
        rows.append(
            {"model_version": row["model_version"], "card_path": str(path), "card_markdown": card}
        )
    return pa.Table.from_pylist(rows, schema=CARD_SCHEMA)
