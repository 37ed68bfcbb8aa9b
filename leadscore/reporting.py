"""Reports derived from the model registry: the candidate comparison and model cards."""

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
    lines.append("| candidate | " + " | ".join(CARD_METRICS) + " |")
    lines.append("|---" * (len(CARD_METRICS) + 1) + "|")
    for cand in report["candidates"]:
        name = cand["name"] + (" (chosen)" if cand["name"] == report["chosen"] else "")
        values = " | ".join(_fmt(cand["metrics"].get(k)) for k in CARD_METRICS)
        lines.append(f"| {name} | {values} |")
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
