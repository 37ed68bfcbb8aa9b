"""The benchmark harness: ``python -m benchmarks.run [--sizes 100000,1000000]`` (``make bench``).

Per size N, under ``data/bench/<N>/`` (git-ignored; the data is generated only when missing):

1. ``build``: a fresh DuckDB file and a full ``dbt build`` (staging, features, training —
   there is no champion yet — scoring, monitoring, exports and every test).
2. ``features``: back to back, ``--repeats`` rounds of (a) the feature layer
   (``dbt run --threads 1`` of the models behind lead_features, FEATURE_LAYER; its time is the
   sum of their node times in run_results), (b) the floor: one DuckDB aggregate of the activities by
   lead, (c) the pandas implementation (benchmarks/pandas_features.py), checked equal to the
   SQL on a sample of leads in the first round. Medians are compared.
3. ``profile``: the slowest SQL models of the full build re-run with DuckDB's profiler (which
   operators take the time, peak memory, spilling).
4. ``scoring``: the champion on lead_features: raw XGBoost, ``ModelArtifact.predict`` and
   ``score_with_model`` (with reasons).
5. ``daily``: ``dbt build --selector daily`` at the next as_of (as_of + 1 day): what the
   README schedules every day — scoring with the champion, without the training path.

Every command runs as its own child process; its wall time and peak RSS (``ru_maxrss`` of
that child, from ``os.wait4``) are its own. Results: ``data/bench/<N>/results/`` (JSON and a
copy of each run_results.json) and ``BENCHMARKS.md`` (rewritten, its History kept).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import yaml

from benchmarks import benchmarks_md
from benchmarks.dbt_results import load_node_times, nodes_running_at, summarize
from benchmarks.nodes import FEATURE_LAYER, TRAINING_PATH
from leadscore import duck
from leadscore.settings import environment

REPO = Path(__file__).resolve().parents[1]
PYTHON = Path(sys.executable)
DBT = PYTHON.parent / "dbt"
DEFAULT_SIZES = (100_000, 1_000_000)
STEPS = ("build", "features", "profile", "scoring", "daily")
TABLES = ("leads", "activities", "opportunities", "lead_status_changes")


@dataclass
class Measured:
    """A finished child process: wall seconds, peak RSS (KiB, from the kernel) and exit
    code, and when its sampled RSS peaked (epoch seconds; sampled every RSS_SAMPLE_SECONDS)."""

    wall_seconds: float
    max_rss_kib: int
    returncode: int
    log: Path
    rss_peak_at: float | None = None
    rss_timeline: list[tuple[float, int]] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "wall_seconds": self.wall_seconds,
            "max_rss_kib": self.max_rss_kib,
            "returncode": self.returncode,
            "log": str(self.log),
            "rss_peak_at": self.rss_peak_at,
            "rss_timeline": self.rss_timeline,
        }

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


RSS_SAMPLE_SECONDS = 0.5


def _sample_rss(pid: int, samples: list[tuple[float, int]], stop: threading.Event) -> None:
    """Append (epoch seconds, VmRSS KiB) of process pid until stop is set or it exits."""
    path = Path(f"/proc/{pid}/status")
    while not stop.is_set():
        try:
            text = path.read_text()
        except OSError:
            return
        for line in text.splitlines():
            if line.startswith("VmRSS:"):
                samples.append((time.time(), int(line.split()[1])))
                break
        stop.wait(RSS_SAMPLE_SECONDS)


def measure(cmd: list[str], log: Path, env: dict[str, str], cwd: Path) -> Measured:
    """Run cmd as a child process (output to log); its wall time, its own peak RSS (from
    os.wait4) and its RSS over time (sampled, to tell when the peak happened)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    samples: list[tuple[float, int]] = []
    stop = threading.Event()
    with log.open("w") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = threading.Thread(target=_sample_rss, args=(proc.pid, samples, stop))
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        stop.set()
        sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak_at = max(samples, key=lambda s: s[1])[0] if samples else None
    step = max(1, len(samples) // 200)
    timeline = [(round(t, 1), kib) for t, kib in samples[::step]]
    return Measured(wall, int(usage.ru_maxrss), proc.returncode, log, peak_at, timeline)


class BenchError(RuntimeError):
    """A measured command failed; the message holds the end of its log."""


@dataclass
class Bench:
    """One size's folder, environment and options."""

    size: int
    args: argparse.Namespace

    @property
    def root(self) -> Path:
        return REPO / "data" / "bench" / str(self.size)

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def db(self) -> Path:
        return self.root / "leadscore.duckdb"

    @property
    def target(self) -> Path:
        return self.root / "target"

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def memory_limit(self) -> str:
        return environment().memory_limit

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DBT_PROFILES_DIR": str(self.args.project_dir),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "DO_NOT_TRACK": "1",
            "LEADSCORE_TARGET": "dev",
            "LEADSCORE_RAW_DIR": str(self.raw),
            "LEADSCORE_DB": str(self.db),
            "LEADSCORE_EXPORT_DIR": str(self.root / "exports"),
            "DBT_TARGET_PATH": str(self.target),
            "DBT_LOG_PATH": str(self.root / "logs"),
        }

    def dbt(self, label: str, dbt_args: list[str], extra_vars: dict | None = None) -> dict:
        """A measured dbt command; its run_results.json is kept as results/<label>.json."""
        all_vars = {**self.args.dbt_vars, **(extra_vars or {})}
        cmd = [str(DBT), *dbt_args]
        if all_vars:
            cmd += ["--vars", json.dumps(all_vars)]
        load = os.getloadavg()[0]
        m = measure(cmd, self.results / f"{label}.log", self.env(), self.args.project_dir)
        print(f"  {label}: {m.wall_seconds:.1f} s, peak RSS {m.max_rss_kib / 1024:.0f} MiB")
        if m.returncode != 0:
            raise BenchError(f"{label} failed (exit {m.returncode}):\n{m.tail()}")
        kept = self.results / f"{label}.run_results.json"
        shutil.copyfile(self.target / "run_results.json", kept)
        nodes = load_node_times(kept, self.target / "manifest.json")
        return {
            **m.to_dict(),
            "command": " ".join(cmd[1:]),
            "load_before": load,
            "nodes_at_rss_peak": nodes_running_at(nodes, m.rss_peak_at),
            **summarize(nodes),
        }

    def probe(self, name: str, label: str, *extra: str) -> dict:
        """A measured probe (benchmarks/probes.py) in its own process."""
        out = self.results / f"{label}.json"
        cmd = [
            str(PYTHON),
            "-m",
            "benchmarks.probes",
            name,
            "--db",
            str(self.db),
            "--out",
            str(out),
            "--memory-limit",
            self.memory_limit,
            "--project-dir",
            str(self.args.project_dir),
            *extra,
        ]
        load = os.getloadavg()[0]
        m = measure(cmd, self.results / f"{label}.log", self.env(), REPO)
        if m.returncode != 0:
            raise BenchError(f"probe {label} failed (exit {m.returncode}):\n{m.tail()}")
        return {**json.loads(out.read_text()), **m.to_dict(), "load_before": load}

    def query(self, sql: str) -> list[tuple]:
        con = duck.connect(self.db, read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()


# --------------------------------------------------------------------------------------
# steps


def ensure_data(bench: Bench) -> dict[str, Any]:
    """Generate the raw tables when missing; their row counts."""
    seconds = None
    if not (bench.raw / "leads.parquet").exists():
        print(f"  generating {bench.size:,} leads (seed {bench.args.seed}) into {bench.raw}")
        start = time.perf_counter()
        subprocess.run(
            [
                str(PYTHON),
                "-m",
                "leadscore.demo.generate",
                "--leads",
                str(bench.size),
                "--seed",
                str(bench.args.seed),
                "--out",
                str(bench.raw),
            ],
            check=True,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
        )
        seconds = time.perf_counter() - start
    rows = {t: pq.read_metadata(bench.raw / f"{t}.parquet").num_rows for t in TABLES}
    size_bytes = sum((bench.raw / f"{t}.parquet").stat().st_size for t in TABLES)
    return {"rows": rows, "parquet_bytes": size_bytes, "generated_seconds": seconds}


def fresh_database(bench: Bench) -> None:
    """Remove the DuckDB file and exports so the build starts from nothing (and trains)."""
    for path in (bench.db, bench.db.with_name(bench.db.name + ".wal")):
        path.unlink(missing_ok=True)
    shutil.rmtree(bench.root / "exports", ignore_errors=True)


def dataset_facts(bench: Bench) -> dict[str, Any]:
    """as_of and the sizes of the tables that drive the cost."""
    (as_of,) = bench.query("select as_of from int_as_of_resolved")[0]
    counts = bench.query(
        "select (select count(*) from lead_features), (select count(*) from training_snapshots),"
        " (select count(*) from training_snapshots where split <> 'unlabelled'),"
        " (select count(*) from int_activities_accumulated),"
        " (select count(*) from model_registry),"
        " (select count(distinct lead_id) from int_snapshot_spine)"
    )[0]
    keys = ("open_leads", "training_snapshots", "labelled_snapshots", "activity_moments")
    facts: dict[str, Any] = dict(zip(keys, counts[:4], strict=True))
    facts["registry_versions"] = counts[4]
    facts["training_leads"] = counts[5]
    facts["as_of"] = as_of.isoformat(sep=" ")
    facts["db_bytes"] = bench.db.stat().st_size
    facts["training"] = training_facts(bench)
    return facts


def training_facts(bench: Bench) -> dict[str, Any] | None:
    """Where model_registry's time went when it last trained (its report): the search, each
    candidate's search and final fit, the rows."""
    rows = bench.query(
        "select model_version, report_json from model_registry "
        "where report_json is not null order by trained_at desc limit 1"
    )
    if not rows:
        return None
    version, text = rows[0]
    rep = json.loads(text)
    config = rep.get("config", {})
    return {
        "model_version": version,
        "total_seconds": rep.get("total_seconds"),
        "search_seconds": rep.get("search_seconds"),
        "search_budget_seconds": config.get("search_budget_seconds"),
        "train_rows": _get_path(rep, "splits", "train", "rows"),
        "valid_rows": _get_path(rep, "splits", "valid", "rows"),
        "test_rows": _get_path(rep, "splits", "test", "rows"),
        "candidates": [
            {
                "name": c["name"],
                "search_seconds": c.get("search_seconds"),
                "trials": len(c.get("search") or []),
                "final_fit_seconds": c.get("train_seconds"),
            }
            for c in rep.get("candidates", [])
            if c.get("search_seconds") is not None
        ],
    }


def _get_path(d: Any, *keys: str) -> Any:
    for k in keys:
        d = d.get(k) if isinstance(d, dict) else None
    return d


def next_as_of(as_of: str) -> str:
    nxt = datetime.fromisoformat(as_of) + timedelta(days=1)
    return f"{nxt:%Y-%m-%d}" if nxt.time() == datetime.min.time() else f"{nxt:%Y-%m-%d %H:%M:%S}"


def step_build(bench: Bench) -> dict[str, Any]:
    fresh_database(bench)
    result = bench.dbt("full_build", ["build", *bench.args.exclude_args])
    result["facts"] = dataset_facts(bench)
    return result


def step_daily(bench: Bench, as_of: str) -> dict[str, Any]:
    """The scheduled daily run: ``dbt build --selector daily`` at the next as_of."""
    excluded = daily_selector_excludes()
    if set(excluded) != set(TRAINING_PATH):
        raise BenchError(
            "selectors.yml's daily selector excludes "
            f"{sorted(excluded)} but benchmarks/run.py TRAINING_PATH lists "
            f"{sorted(TRAINING_PATH)}; make them agree"
        )
    before = bench.query("select count(*) from model_registry")[0][0]
    day = next_as_of(as_of)
    result = bench.dbt("daily_build", ["build", "--selector", "daily"], {"as_of": day})
    after = bench.query("select count(*) from model_registry")[0][0]
    result["as_of"] = day
    result["retrained"] = after != before
    ran = {n["name"] for n in result["all_nodes"]}
    result["training_path"] = {
        "models": list(TRAINING_PATH),
        "ran": sorted(ran & set(TRAINING_PATH)),
    }
    return result


def daily_selector_excludes() -> list[str]:
    """The model names the daily selector of selectors.yml excludes."""
    spec = yaml.safe_load((REPO / "selectors.yml").read_text())
    daily = next(s for s in spec["selectors"] if s["name"] == "daily")
    out = []
    for part in daily["definition"]["union"]:
        if isinstance(part, dict) and "exclude" in part:
            out += [e["value"] for e in part["exclude"] if e.get("method") == "fqn"]
    return out


def step_features(bench: Bench) -> dict[str, Any]:
    """Feature layer, floor and pandas, back to back, ``repeats`` rounds; medians."""
    rounds: list[dict[str, Any]] = []
    check = floor_sql = None
    started = time.perf_counter()
    for i in range(bench.args.repeats):
        if i and time.perf_counter() - started > bench.args.ratio_budget:
            print(f"  stopping after {i} rounds (--ratio-budget {bench.args.ratio_budget:.0f} s)")
            break
        sql = bench.dbt(f"feature_layer_{i}", ["run", "--threads", "1", "--select", *FEATURE_LAYER])
        layer_nodes = [n for n in sql["all_nodes"] if n["name"] in FEATURE_LAYER]
        floor = bench.probe("floor", f"floor_{i}")
        extra = ["--vars", json.dumps(bench.args.dbt_vars)]
        if i == 0:
            extra += ["--check-sample", str(bench.args.check_sample)]
        pandas_ = bench.probe("pandas", f"pandas_{i}", *extra)
        if i == 0:
            check, floor_sql = pandas_.get("check"), floor["sql"]
        rounds.append(
            {
                "sql_seconds": sum(n["seconds"] for n in layer_nodes),
                "sql_nodes": layer_nodes,
                "sql_wall_seconds": sql["wall_seconds"],
                "sql_max_rss_kib": sql["max_rss_kib"],
                "floor_seconds": floor["seconds"],
                "floor_max_rss_kib": floor["max_rss_kib"],
                "pandas_load_seconds": pandas_["load_seconds"],
                "pandas_compute_seconds": pandas_["compute_seconds"],
                "pandas_max_rss_kib": pandas_["max_rss_kib"],
                "pandas_rows": pandas_["rows"],
                "load_before": sql["load_before"],
            }
        )
        print(
            f"  round {i + 1}: feature layer {rounds[-1]['sql_seconds']:.1f} s, floor "
            f"{floor['seconds']:.2f} s, pandas {pandas_['compute_seconds']:.1f} s "
            f"(+ load {pandas_['load_seconds']:.1f} s)"
        )

    def med(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    per_node: dict[str, list[float]] = {}
    for r in rounds:
        for n in r["sql_nodes"]:
            per_node.setdefault(n["name"], []).append(n["seconds"])
    sql_s, floor_s, pandas_s = (
        med("sql_seconds"),
        med("floor_seconds"),
        med("pandas_compute_seconds"),
    )
    return {
        "rounds": rounds,
        "check": check,
        "sql_seconds": sql_s,
        "sql_nodes": {k: statistics.median(v) for k, v in per_node.items()},
        "floor_seconds": floor_s,
        "pandas_compute_seconds": pandas_s,
        "pandas_load_seconds": med("pandas_load_seconds"),
        "pandas_over_sql": pandas_s / sql_s if sql_s else None,
        "sql_over_floor": sql_s / floor_s if floor_s else None,
        "pandas_max_rss_kib": max(r["pandas_max_rss_kib"] for r in rounds),
        "floor_sql": floor_sql,
    }


def step_scoring(bench: Bench, full_build: dict[str, Any] | None) -> dict[str, Any]:
    n_reasons = bench.args.project_vars.get("n_reasons", 3)
    exact_max = bench.args.project_vars.get("exact_reasons_max_leads")
    result = bench.probe(
        "scoring",
        "scoring",
        "--repeats",
        str(bench.args.repeats),
        "--n-reasons",
        str(n_reasons),
        *(["--exact-reasons-max-leads", str(exact_max)] if exact_max is not None else []),
    )
    if "error" in result:
        return result
    raw = result["raw"]["seconds"]
    result["predict_over_raw"] = result["predict"]["seconds"] / raw
    result["reasons_over_raw"] = result["score_with_model"]["seconds"] / raw
    if full_build:
        node = next((n for n in full_build["all_nodes"] if n["name"] == "lead_predictions"), None)
        result["dbt_node_seconds"] = node["seconds"] if node else None
    return result


def step_profile(bench: Bench) -> dict[str, Any]:
    """DuckDB's profile of the slowest SQL table models of the last full build."""
    kept = bench.results / "full_build.run_results.json"
    manifest = json.loads((bench.target / "manifest.json").read_text())
    sql_tables = {
        n["name"]: n["original_file_path"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model"
        and n.get("language") == "sql"
        and n["config"].get("materialized") == "table"
    }
    ranked = [n.name for n in load_node_times(kept, bench.target / "manifest.json")]
    chosen = [name for name in ranked if name in sql_tables][: bench.args.profile_top]
    compiled = bench.target / "compiled" / "leadscore"
    models = [f"{name}={compiled / sql_tables[name]}" for name in chosen]
    result = bench.probe("profile", "profile", "--models", *models)
    node_seconds = {
        n.name: n.seconds for n in load_node_times(kept, bench.target / "manifest.json")
    }
    for m in result["models"]:
        m["dbt_node_seconds"] = node_seconds.get(m["model"])
    return result


def bench_size(bench: Bench) -> dict[str, Any]:
    steps = bench.args.steps
    bench.results.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"size": bench.size, "started_at": _now(), "errors": []}
    out["data"] = ensure_data(bench)
    if "build" not in steps and not bench.db.exists():
        raise SystemExit(f"{bench.db} does not exist: run with the build step first")
    try:
        if "build" in steps:
            out["full_build"] = step_build(bench)
        out["facts"] = (out.get("full_build") or {}).get("facts") or dataset_facts(bench)
        if "features" in steps:
            out["features"] = step_features(bench)
        if "profile" in steps:
            out["profile"] = step_profile(bench)
        if "scoring" in steps:
            out["scoring"] = step_scoring(bench, out.get("full_build"))
        if "daily" in steps:
            out["daily_build"] = step_daily(bench, out["facts"]["as_of"])
    except BenchError as err:
        print(f"  FAILED: {err}", file=sys.stderr)
        out["errors"].append(str(err))
    out["finished_at"] = _now()
    stamp = out["started_at"].replace(":", "").replace(" ", "T")
    (bench.results / f"bench-{stamp}.json").write_text(json.dumps(out, indent=2, default=str))
    return out


# --------------------------------------------------------------------------------------
# the run


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def machine_facts() -> dict[str, Any]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    versions = {}
    for module in ("duckdb", "xgboost", "pandas", "pyarrow", "numpy"):
        try:
            versions[module] = __import__(module).__version__
        except ImportError:
            versions[module] = "absent"
    dbt_version = subprocess.run(
        [str(DBT), "--version"], capture_output=True, text=True, check=False
    ).stdout
    core = adapter = "?"
    for line in dbt_version.splitlines():
        item = line.strip().lstrip("- ")
        if item.startswith("installed:"):
            core = item.split(":", 1)[1].strip()
        elif item.startswith("duckdb:"):
            adapter = item.split(":", 1)[1].split(" - ")[0].strip()
    versions["dbt"] = f"dbt-core {core}, dbt-duckdb {adapter}"
    status = _git("status", "--porcelain")
    return {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "mem_total_gib": mem_kib / 1024 / 1024,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": versions,
        "commit": _git("rev-parse", "--short", "HEAD") + ("+uncommitted" if status else ""),
        "memory_limit": environment().memory_limit,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    p.add_argument(
        "--sizes",
        default=",".join(str(s) for s in DEFAULT_SIZES),
        help="comma-separated numbers of leads (default: %(default)s)",
    )
    p.add_argument("--seed", type=int, default=42, help="generator seed (default: 42)")
    p.add_argument(
        "--steps",
        default=",".join(STEPS),
        help=f"which of {','.join(STEPS)} to run (default: all; without build the DuckDB "
        "file of an earlier run is used)",
    )
    p.add_argument("--repeats", type=int, default=3, help="rounds of the ratio measurements")
    p.add_argument(
        "--ratio-budget",
        type=float,
        default=1500,
        help="no new round of the ratio measurements after this many seconds (default 1500)",
    )
    p.add_argument(
        "--profile-top", type=int, default=3, help="slowest SQL models to profile (default 3)"
    )
    p.add_argument("--check-sample", type=int, default=5000, help="leads compared with pandas")
    p.add_argument("--exclude", default="", help="dbt selectors to exclude (space-separated)")
    p.add_argument("--vars", default="", help="extra dbt vars for every dbt command (YAML)")
    p.add_argument("--note", default="", help="a note for this run's History rows")
    p.add_argument("--report", type=Path, default=REPO / "BENCHMARKS.md")
    p.add_argument(
        "--from-json",
        type=Path,
        default=None,
        help="only rewrite the report from a saved run (data/bench/runs/run-*.json)",
    )
    p.add_argument(
        "--project-dir",
        type=Path,
        default=REPO,
        help="the dbt project to run (default: this repository)",
    )
    args = p.parse_args(argv)
    args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    args.steps = {s.strip() for s in args.steps.split(",") if s.strip()}
    unknown = args.steps - set(STEPS)
    if unknown:
        p.error(f"unknown steps {sorted(unknown)}; use {','.join(STEPS)}")
    args.dbt_vars = yaml.safe_load(args.vars) if args.vars else {}
    args.exclude_args = ["--exclude", *args.exclude.split()] if args.exclude.strip() else []
    args.project_dir = args.project_dir.resolve()
    project = yaml.safe_load((args.project_dir / "dbt_project.yml").read_text())
    args.project_vars = {**project.get("vars", {}), **args.dbt_vars}
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.from_json:
        benchmarks_md.write(args.report, json.loads(args.from_json.read_text()))
        print(f"wrote {args.report} from {args.from_json}")
        return
    machine = machine_facts()
    run = {
        "started_at": _now(),
        "machine": machine,
        "options": {
            "sizes": args.sizes,
            "seed": args.seed,
            "steps": sorted(args.steps),
            "repeats": args.repeats,
            "exclude": args.exclude,
            "vars": args.vars,
            "note": args.note,
            "project_dir": str(args.project_dir),
        },
        "load_at_start": os.getloadavg(),
        "sizes": [],
    }
    for size in args.sizes:
        print(f"== {size:,} leads")
        run["sizes"].append(bench_size(Bench(size, args)))
    run["finished_at"] = _now()
    run["load_at_end"] = os.getloadavg()
    runs = REPO / "data" / "bench" / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    saved = runs / f"run-{run['started_at'].replace(':', '').replace(' ', 'T')}.json"
    saved.write_text(json.dumps(run, indent=2, default=str))
    benchmarks_md.write(args.report, run)
    print(f"figures in {saved}")
    print(f"wrote {args.report}")
    if any(s["errors"] for s in run["sizes"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
