"""In-process measurements on a built DuckDB file, each run in its own process by the harness
(``python -m benchmarks.probes <probe> --db FILE --out RESULT.json``) so its peak RSS is its
own. Times are ``time.perf_counter`` around exactly the work named; results go to ``--out``.

- ``floor``: one DuckDB scan aggregating stg_crm__activities by lead, written as a table
  into a DuckDB file (as each feature-layer model writes its table).
- ``pandas``: load the staged tables into pandas, compute lead_features
  (benchmarks/pandas_features.py); with ``--check-sample N`` compare N leads with the SQL
  table first.
- ``profile``: compiled SQL models re-run into temp tables with DuckDB's JSON profiler: the
  operators that take the time.
- ``scoring``: the champion of model_registry on lead_features: preprocessing, raw XGBoost
  ``inplace_predict`` on the transformed matrix, ``ModelArtifact.predict`` and
  ``leadscore.scoring.score_with_model`` (with reasons).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from benchmarks.pandas_features import (
    FeatureParams,
    compare_features,
    lead_features,
    load_staged,
    sample_ids,
)
from leadscore import duck
from leadscore.demo.generate import ACTIVITY_TYPES

FLOOR_TYPES = (*ACTIVITY_TYPES, "other")  # the contract's types and unknown ones


def floor_sql(table: str = "activity_floor") -> str:
    """The floor: all-time count per activity type, first and last activity per lead, one
    hash aggregate over the activities (what any per-lead feature has to read at least)."""
    counts = ",\n    ".join(
        f"count(*) filter (where activity_type = '{t}') as n_{t}" for t in FLOOR_TYPES
    )
    return (
        f"create or replace table {table} as\n"
        "select\n    lead_id,\n    count(*) as n_activities,\n"
        "    min(occurred_at) as first_activity_at,\n    max(occurred_at) as last_activity_at,\n"
        f"    {counts}\nfrom stg_crm__activities\ngroup by lead_id"
    )


def _connect(db: Path, memory_limit: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the file attached read-only under its own name and used as
    the default (so compiled SQL and views resolve as in dbt, and scratch tables and files
    can still be written), with the settings of the dbt profile."""
    con = duck.connect()
    con.execute(f"set memory_limit = '{memory_limit}'")
    con.execute("set preserve_insertion_order = false")
    con.execute(f"attach '{db}' as {db.stem} (read_only)")
    con.execute(f"use {db.stem}")
    return con


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def probe_floor(args: argparse.Namespace) -> dict[str, Any]:
    """The floor's table goes into a scratch DuckDB file (the built file is attached read-only):
    like a dbt table model, it pays for writing what it computed."""
    con = _connect(args.db, args.memory_limit)
    scratch = args.out.with_suffix(".floor.duckdb")
    scratch.unlink(missing_ok=True)
    con.execute(f"attach '{scratch}' as floor_out")
    sql = floor_sql("floor_out.activity_floor")
    try:
        seconds, _ = _timed(lambda: con.execute(sql))
        rows = con.execute("select count(*) from floor_out.activity_floor").fetchall()[0][0]
        activities = con.execute("select count(*) from stg_crm__activities").fetchall()[0][0]
    finally:
        con.close()
        scratch.unlink(missing_ok=True)
        scratch.with_name(scratch.name + ".wal").unlink(missing_ok=True)
    return {"seconds": seconds, "leads": rows, "activities": activities, "sql": sql}


def probe_pandas(args: argparse.Namespace) -> dict[str, Any]:
    con = _connect(args.db, args.memory_limit)
    params = FeatureParams.from_project(args.project_dir, json.loads(args.vars or "{}"))
    load_seconds, staged = _timed(lambda: load_staged(con))
    compute_seconds, features = _timed(lambda: lead_features(staged, params))
    out: dict[str, Any] = {
        "load_seconds": load_seconds,
        "compute_seconds": compute_seconds,
        "rows": len(features),
        "columns": len(features.columns),
        "activities": len(staged.activities),
    }
    if args.check_sample:
        sql_ids = [r[0] for r in con.execute("select lead_id from lead_features").fetchall()]
        chosen = sample_ids(sql_ids, args.check_sample)
        con.execute("create temp table sample_ids (lead_id varchar)")
        con.executemany("insert into sample_ids values (?)", [(i,) for i in chosen])
        sql_rows = con.sql(
            "select f.* from lead_features f semi join sample_ids s on f.lead_id = s.lead_id"
        ).df()
        problems = compare_features(sql_rows, features)
        if set(sql_ids) != set(features["lead_id"]):
            problems.append(
                f"lead sets differ: {len(sql_ids)} leads in SQL, {len(features)} in pandas"
            )
        out["check"] = {"sample": len(chosen), "sql_rows": len(sql_ids), "problems": problems}
    return out


EXPLAIN_SAMPLE_ROWS = 50_000


def _repeat(fn: Callable[[], Any], repeats: int, budget_seconds: float) -> dict[str, Any]:
    """Run fn up to ``repeats`` times (at least once, fewer when over the budget); the
    median and all times."""
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < repeats:
        seconds, _ = _timed(fn)
        times.append(seconds)
        if time.perf_counter() - started > budget_seconds:
            break
    return {"seconds": statistics.median(times), "runs": times}


def _xgboost_reference(con: duckdb.DuckDBPyConnection) -> Any:
    """An XGBoost model with the default setting (no search), trained here on 50,000 rows of
    each split of training_snapshots: when the champion is not XGBoost, the scoring path is
    still measured against raw XGBoost with a model of the kind the registry trains."""
    from leadscore.config import TrainingConfig
    from leadscore.training import train_candidates

    splits = {
        split: con.sql(
            f"select * from training_snapshots where split = '{split}' "
            "order by hash(lead_id, snapshot_at) limit 50000"
        ).to_arrow_table()
        for split in ("train", "valid", "test")
    }
    config = TrainingConfig(
        model_types=("xgboost",), class_weight_variants=False, max_search_trials=1, refit=False
    )
    return train_candidates(splits["train"], splits["valid"], splits["test"], config).artifact


def _measure_scoring(
    artifact: Any, version: str, table: Any, label_rows: list[dict], args: argparse.Namespace
) -> dict[str, Any]:
    from leadscore.reasons import ReasonLabels
    from leadscore.scoring import score_with_model

    n = table.num_rows
    sample = table.slice(0, EXPLAIN_SAMPLE_ROWS)
    transform = _repeat(lambda: artifact.preprocessor.transform(table), args.repeats, 60)
    matrix = artifact.preprocessor.transform(table).matrix
    if artifact.model_type == "logistic_regression":
        coef = np.asarray(artifact.model["coef"], dtype=np.float64)
        intercept = float(artifact.model["intercept"])

        def raw() -> Any:
            return matrix @ coef + intercept

        raw_kind = "numpy matrix @ coef (logistic regression)"
    elif artifact.model_type == "mlp":
        from leadscore.training import mlp

        def raw() -> Any:
            return mlp.margin(matrix, artifact.model)

        raw_kind = "numpy forward pass (mlp)"
    elif artifact.model_type == "blend":
        # a blend transforms the table once per part: its raw margin includes that

        def raw() -> Any:
            return artifact.raw_margin(table)

        raw_kind = "blend: each part's transform and margin"
    else:
        booster = artifact.booster()
        booster.inplace_predict(matrix[: min(n, 1000)])  # warm-up

        def raw() -> Any:
            return booster.inplace_predict(matrix)

        raw_kind = "xgboost Booster.inplace_predict"
    return {
        "model_version": version,
        "model_type": artifact.model_type,
        "raw_kind": raw_kind,
        "rows": n,
        "matrix_columns": int(matrix.shape[1]),
        "transform": transform,
        "raw": _repeat(raw, args.repeats, 60),
        "predict": _repeat(lambda: artifact.predict(table), args.repeats, 120),
        # contributions on a slice (exact TreeSHAP on every lead of 1M takes minutes)
        "explain": {
            **_repeat(lambda: artifact.explain(sample), 1, 0),
            "rows": sample.num_rows,
        },
        "explain_approx": {
            **_repeat(lambda: artifact.explain(sample, approximate=True), 1, 0),
            "rows": sample.num_rows,
        },
        "exact_reasons_max_leads": args.exact_reasons_max_leads,
        "score_with_model": _repeat(
            # fresh labels each run: their text cache starts cold, as in lead_predictions
            lambda: score_with_model(
                table,
                artifact,
                version,
                ReasonLabels.from_rows(label_rows),
                args.n_reasons,
                exact_reasons_max_leads=args.exact_reasons_max_leads,
            ),
            args.repeats,
            240,
        ),
    }


def probe_scoring(args: argparse.Namespace) -> dict[str, Any]:
    """The champion on all of lead_features; when it is not XGBoost, the same measurements
    for an XGBoost reference model (the ratio targets are against raw XGBoost) and the
    champion's own figures under ``champion``."""
    from leadscore.training import ModelArtifact

    con = _connect(args.db, args.memory_limit)
    champion = con.execute(
        "select model_version, artifact_json from model_registry where is_champion"
    ).fetchall()
    if not champion:
        return {"error": "no champion in model_registry (scoring used the rule fallback)"}
    version, artifact_json = champion[0]
    artifact = ModelArtifact.from_json(artifact_json)
    table = con.sql("select * from lead_features").to_arrow_table()
    label_rows = con.sql("select * from feature_labels").to_arrow_table().to_pylist()
    own = _measure_scoring(artifact, version, table, label_rows, args)
    if artifact.model_type == "xgboost":
        return own
    seconds, reference = _timed(lambda: _xgboost_reference(con))
    out = _measure_scoring(reference, "xgboost reference", table, label_rows, args)
    out["reference_train_seconds"] = seconds
    out["champion"] = own
    return out


def _operators(node: dict[str, Any], out: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flatten DuckDB's JSON profile tree: name, time (summed over threads), rows, details."""
    extra = node.get("extra_info") or {}
    details = "; ".join(
        f"{k}: {v if isinstance(v, str) else ', '.join(map(str, v))}"
        for k, v in extra.items()
        if k in ("Table", "Join Type", "Conditions", "Groups", "Aggregates", "Function")
    )
    out.append(
        {
            "operator": node.get("name") or node.get("operator_name"),
            "seconds": float(node.get("timing") or node.get("operator_timing") or 0.0),
            "rows": node.get("intermediate_rows") or node.get("operator_cardinality"),
            "details": details[:160],
        }
    )
    for child in node.get("children", []):
        _operators(child, out)
    return out


def probe_profile(args: argparse.Namespace) -> dict[str, Any]:
    """Each compiled model (NAME=PATH) materialized into a temp table (in memory) with
    DuckDB's JSON profiler on: its time, the costliest operators, peak buffer memory and
    spilling; then the time to write that result as a table into a new DuckDB file (what a
    dbt table materialization adds to the query)."""
    con = _connect(args.db, args.memory_limit)
    profile = args.out.with_suffix(".profile.json")
    scratch = args.out.with_suffix(".scratch.duckdb")
    scratch.unlink(missing_ok=True)
    con.execute(f"attach '{scratch}' as scratch")
    models = []
    for item in args.models:
        name, path = item.split("=", 1)
        sql = Path(path).read_text()
        con.execute("pragma enable_profiling = 'json'")
        con.execute(f"pragma profiling_output = '{profile}'")
        seconds, _ = _timed(lambda sql=sql: con.execute(f"create temp table profiled as {sql}"))
        con.execute("pragma disable_profiling")
        write_seconds, _ = _timed(
            lambda: con.execute("create table scratch.main.written as select * from profiled")
        )
        con.execute("drop table scratch.main.written")
        con.execute("drop table profiled")
        data = json.loads(profile.read_text())
        ops = [
            op
            for tree in data.get("operator", [])
            for op in _operators(tree, [])
            if op["operator"] not in ("RESULT_COLLECTOR",)
        ]
        total = sum(op["seconds"] for op in ops) or 1.0
        top = sorted(ops, key=lambda op: -op["seconds"])[: args.top_operators]
        for op in top:
            op["share"] = op["seconds"] / total
        system = data.get("system", {})
        models.append(
            {
                "model": name,
                "seconds": seconds,
                "write_seconds": write_seconds,
                "operator_seconds": total,
                "top_operators": top,
                "peak_buffer_bytes": system.get("peak_buffer_memory"),
                "spilled_bytes": system.get("total_bytes_spilled"),
            }
        )
    con.close()
    profile.unlink(missing_ok=True)
    scratch.unlink(missing_ok=True)
    return {"models": models}


PROBES: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "floor": probe_floor,
    "pandas": probe_pandas,
    "scoring": probe_scoring,
    "profile": probe_profile,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.probes")
    parser.add_argument("probe", choices=sorted(PROBES))
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--memory-limit", default="6GB")
    parser.add_argument("--project-dir", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--vars", default=None, help="dbt vars as JSON (pandas probe)")
    parser.add_argument("--check-sample", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-reasons", type=int, default=3)
    parser.add_argument("--exact-reasons-max-leads", type=int, default=None)
    parser.add_argument("--models", nargs="*", default=[], help="NAME=compiled.sql (profile)")
    parser.add_argument("--top-operators", type=int, default=5)
    args = parser.parse_args(argv)
    result = PROBES[args.probe](args)
    args.out.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
