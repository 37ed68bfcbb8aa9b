"""The benchmark harness's bookkeeping (no benchmark is run): which nodes the daily run
leaves out must match selectors.yml, the feature layer must be what lead_features is built
from, and the RSS peak is attributed to the nodes running at that moment."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime

from conftest import DBT, PROJECT_DIR

from benchmarks.dbt_results import NodeTime, nodes_running_at
from benchmarks.nodes import FEATURE_LAYER, TRAINING_PATH
from benchmarks.run import daily_selector_excludes


def test_training_path_is_what_the_daily_selector_leaves_out():
    assert sorted(daily_selector_excludes()) == sorted(TRAINING_PATH)


def test_feature_layer_is_every_model_lead_features_is_built_from(tmp_path):
    """The non-staging models upstream of lead_features (dbt's own graph)."""
    out = subprocess.run(
        [
            str(DBT),
            "ls",
            "-q",
            "--select",
            "+lead_features",
            "--resource-type",
            "model",
            "--output",
            "json",
        ],
        cwd=PROJECT_DIR,
        env={
            **os.environ,
            "DBT_TARGET_PATH": str(tmp_path / "target"),
            "DBT_LOG_PATH": str(tmp_path),
            "DBT_PROFILES_DIR": str(PROJECT_DIR),
            "LEADSCORE_TARGET": "lint",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    models = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    upstream = {m["name"] for m in models if "/staging/" not in m["original_file_path"]}
    assert upstream == set(FEATURE_LAYER)


def _node(name: str, start: str, end: str) -> NodeTime:
    return NodeTime(f"model.x.{name}", name, "model", "models/x", 1.0, "success", start, end)


def test_rss_peak_is_attributed_to_the_nodes_running_then():
    nodes = [
        _node("a", "2026-11-27T10:00:00Z", "2026-11-27T10:00:10Z"),
        _node("b", "2026-11-27T10:00:05Z", "2026-11-27T10:00:20Z"),
    ]
    at = datetime.fromisoformat("2026-11-27T10:00:07+00:00").timestamp()
    assert nodes_running_at(nodes, at) == ["a", "b"]
    later = datetime.fromisoformat("2026-11-27T10:00:15+00:00").timestamp()
    assert nodes_running_at(nodes, later) == ["b"]
    assert nodes_running_at(nodes, None) == []


def test_the_serving_block_survives_a_bench_run_and_is_replaced_by_the_next(tmp_path):
    """benchmarks/serving.py owns the block between its markers; benchmarks/run.py rewrites
    the rest of BENCHMARKS.md and keeps it."""
    from benchmarks import benchmarks_md, serving

    report = tmp_path / "BENCHMARKS.md"
    report.write_text("# Benchmarks\n\n## Notes\n\nmine\n")
    serving.write_block(
        report, [benchmarks_md.SERVING_BEGIN, "first figures", benchmarks_md.SERVING_END]
    )
    serving.write_block(
        report, [benchmarks_md.SERVING_BEGIN, "second figures", benchmarks_md.SERVING_END]
    )
    text = report.read_text()
    assert "second figures" in text and "first figures" not in text
    assert text.index("## Real-time serving") < text.index("## Notes")
    kept = "\n".join(benchmarks_md.section_serving(text))
    assert kept.startswith("## Real-time serving") and "second figures" in kept
    assert benchmarks_md.section_serving("# Benchmarks\n") == []
