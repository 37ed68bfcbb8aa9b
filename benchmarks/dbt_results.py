"""Per-node timings of a dbt invocation, from its run_results.json and manifest.json.

A node's time is dbt's ``execution_time`` (compile + execute of that node, as dbt measures
it). With 2 dbt threads two nodes may run at once, so the sum of node times can exceed the
wall time; ``span`` is the time from the first node's start to the last node's end, and the
rest of the wall time is dbt itself (start-up, parsing, the on-run-start hook's connection).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class NodeTime:
    unique_id: str
    name: str
    resource_type: str
    stage: str
    seconds: float
    status: str
    started_at: str | None
    completed_at: str | None
    tested_model: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def stage_of(node: dict[str, Any] | None, resource_type: str) -> str:
    """The stage a node belongs to: the first two folders of a model's path
    (``models/intermediate``, ``models/ml``), or its kind for anything else."""
    if resource_type == "model" and node is not None:
        parts = Path(node["original_file_path"]).parts
        return "/".join(parts[:2]) if len(parts) > 2 else parts[0]
    return {
        "seed": "seeds",
        "test": "data tests",
        "unit_test": "unit tests",
        "operation": "hooks",
        "snapshot": "snapshots",
    }.get(resource_type, resource_type)


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def load_node_times(run_results: Path, manifest: Path) -> list[NodeTime]:
    """Every node of a run with its stage and time, slowest first."""
    results = json.loads(run_results.read_text())["results"]
    man = json.loads(manifest.read_text())
    nodes = {**man.get("nodes", {}), **man.get("unit_tests", {})}
    out = []
    for r in results:
        uid = r["unique_id"]
        node = nodes.get(uid)
        resource_type = uid.split(".", 1)[0]
        starts = [t["started_at"] for t in r.get("timing", []) if t.get("started_at")]
        ends = [t["completed_at"] for t in r.get("timing", []) if t.get("completed_at")]
        tested = None
        if resource_type == "test" and node is not None:
            attached = node.get("attached_node") or ""
            tested = attached.rsplit(".", 1)[-1] or None
        elif resource_type == "unit_test":
            tested = uid.split(".")[2]
        out.append(
            NodeTime(
                unique_id=uid,
                name=(node or {}).get("name") or uid.rsplit(".", 1)[-1],
                resource_type=resource_type,
                stage=stage_of(node, resource_type),
                seconds=float(r.get("execution_time") or 0.0),
                status=str(r.get("status")),
                started_at=min(starts) if starts else None,
                completed_at=max(ends) if ends else None,
                tested_model=tested,
            )
        )
    return sorted(out, key=lambda n: -n.seconds)


def span_seconds(nodes: list[NodeTime]) -> float:
    """First node start to last node end."""
    starts = [_parse_time(n.started_at) for n in nodes if n.started_at]
    ends = [_parse_time(n.completed_at) for n in nodes if n.completed_at]
    if not starts or not ends:
        return 0.0
    return (max(e for e in ends if e) - min(s for s in starts if s)).total_seconds()


def nodes_running_at(nodes: list[NodeTime], at: float | None) -> list[str]:
    """Names of the nodes running at epoch second ``at`` (e.g. when RSS peaked)."""
    if at is None:
        return []
    running = []
    for n in nodes:
        start, end = _parse_time(n.started_at), _parse_time(n.completed_at)
        if start and end and start.timestamp() <= at <= end.timestamp():
            running.append(n.name)
    return running


def by_stage(nodes: list[NodeTime]) -> list[dict[str, Any]]:
    """Per stage: number of nodes and the sum of their times, largest first."""
    stages: dict[str, dict[str, Any]] = {}
    for n in nodes:
        s = stages.setdefault(n.stage, {"stage": n.stage, "nodes": 0, "seconds": 0.0})
        s["nodes"] += 1
        s["seconds"] += n.seconds
    return sorted(stages.values(), key=lambda s: -s["seconds"])


def tests_by_model(nodes: list[NodeTime]) -> list[dict[str, Any]]:
    """Data tests grouped by the model they test: count and summed time, largest first."""
    models: dict[str, dict[str, Any]] = {}
    for n in nodes:
        if n.resource_type not in ("test", "unit_test"):
            continue
        key = n.tested_model or "(not attached to a model)"
        m = models.setdefault(key, {"model": key, "tests": 0, "seconds": 0.0})
        m["tests"] += 1
        m["seconds"] += n.seconds
    return sorted(models.values(), key=lambda m: -m["seconds"])


def summarize(nodes: list[NodeTime], top: int = 10) -> dict[str, Any]:
    """Node count, summed node time, span, stages, the slowest nodes and tests per model."""
    failed = [n.name for n in nodes if n.status not in ("success", "pass", "warn")]
    return {
        "nodes": len(nodes),
        "node_seconds": sum(n.seconds for n in nodes),
        "span_seconds": span_seconds(nodes),
        "stages": by_stage(nodes),
        "top_nodes": [n.to_dict() for n in nodes[:top]],
        "tests_by_model": tests_by_model(nodes)[:5],
        "not_ok": failed,
        "all_nodes": [
            {
                "name": n.name,
                "stage": n.stage,
                "seconds": round(n.seconds, 3),
                "status": n.status,
                "tested_model": n.tested_model,
            }
            for n in nodes
        ],
    }
