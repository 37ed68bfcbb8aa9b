"""The serving benchmark (``make bench`` runs it after the builds): latency and throughput of
``leadscore serve`` on localhost, the memory of its state, and the in-process scoring call
against raw XGBoost.

    python -m benchmarks.serving [--exports DIR] [--leads 1000000] [--requests 2000]

1. The state: the bundle under ``--exports`` (default: the 1M bench build's, else the demo's),
   scaled to ``--leads`` open leads when it holds fewer: its leads, with their activities, are
   repeated under new lead_ids (``<id>~<k>``), so every lead is a real one of the build.
2. Two servers (``leadscore serve`` subprocesses on 127.0.0.1, stopped at the end): one on the
   unscaled bundle (the baseline RSS of the process and its libraries), one on the scaled one.
   State memory = the difference of their RSS after the load, against the scaled bundle's size.
3. Load, bounded in count and time per concurrency level (1, 4 and 16 client threads):
   ``POST /score`` of one state lead with its attributes and activities (reasons included),
   ``POST /events`` of 100 new events on random leads. Client threads share the 2 cores with
   the server: the figures include that contention.
4. The ratio of one in-process ``LiveState.score`` (features, model, reasons, tier) to one
   ``Booster.inplace_predict`` of the same row's matrix.

Writes data/bench/runs/serving-*.json and the "Real-time serving" block of BENCHMARKS.md
(between its markers; the rest of the file is left as it is).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from benchmarks.benchmarks_md import SERVING_BEGIN as BEGIN
from benchmarks.benchmarks_md import SERVING_END as END
from leadscore.serve.config import CURRENT_FILE, ONLINE_DIR
from leadscore.serve.export import _sorted_by_key, _write_arrow
from leadscore.serve.live import LiveState
from leadscore.serve.state import load_bundle

REPO = Path(__file__).resolve().parents[1]
LEADSCORE = Path(sys.executable).parent / "leadscore"
CONCURRENCY = (1, 4, 16)
EVENTS_PER_BATCH = 100
LEVEL_SECONDS = 90.0  # a level stops after this long even if its requests are not all sent
TARGETS = {"score_p99_ms": 10.0, "events_p99_ms": 100.0, "memory_ratio": 1.5}


def scale_bundle(src: Path, dest: Path, n_leads: int) -> Path:
    """A copy of the bundle ``src`` (an export folder) under ``dest`` with ``n_leads`` leads."""
    bundle = load_bundle(src)
    leads, acts = bundle.leads, bundle.activities
    copies = max(1, math.ceil(n_leads / leads.num_rows))
    lead_parts, act_parts, offset = [], [], 0
    base_ids = leads.column("lead_id")
    for k in range(copies):
        ids = base_ids if k == 0 else pc.binary_join_element_wise(base_ids, f"~{k}", "")
        part = leads.drop_columns(["key_hash"]).set_column(0, "lead_id", ids)
        lead_parts.append(part.append_column("source_row", pa.array(range(leads.num_rows))))
        offset += leads.num_rows
    scaled = pa.concat_tables(lead_parts).slice(0, n_leads)
    scaled = _sorted_by_key(scaled, "lead_id")
    starts = scaled.column("act_start").to_numpy()
    ends = scaled.column("act_end").to_numpy()
    lengths = ends - starts
    take = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)])
    act_parts = acts.take(pa.array(take, pa.int64()))
    act_parts = act_parts.set_column(
        0, "lead_row", pa.array(np.repeat(np.arange(scaled.num_rows), lengths), pa.int32())
    )
    new_ends = np.cumsum(lengths)
    scaled = scaled.drop_columns(["act_start", "act_end", "source_row"])
    scaled = scaled.append_column("act_start", pa.array(new_ends - lengths, pa.int64()))
    scaled = scaled.append_column("act_end", pa.array(new_ends, pa.int64()))
    # the key_hash column last, as export.py writes it
    order = [c for c in bundle.leads.column_names]
    scaled = scaled.select(order)
    root = dest / ONLINE_DIR
    folder = root / bundle.version
    if root.exists():
        shutil.rmtree(root)
    folder.mkdir(parents=True)
    _write_arrow(scaled, folder / "leads.arrow")
    _write_arrow(act_parts, folder / "activities.arrow")
    for name in ("domain_wins.arrow", "features.arrow", "bundle.json"):
        shutil.copy(bundle.folder / name, folder / name)
    (root / CURRENT_FILE).write_text(bundle.version + "\n")
    return dest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


class Server:
    """``leadscore serve`` on 127.0.0.1 in a subprocess; stopped on exit."""

    def __init__(self, exports: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "LEADSCORE_SERVE_TOKEN": ""}
        cmd = [str(LEADSCORE), "serve", "--port", str(self.port), "--exports", str(exports)]
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)  # fmt: skip

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=5).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("leadscore serve did not answer within 300 s")

    def __exit__(self, *exc: Any) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def rss_kib(self) -> int:
        return _rss_kib(self.proc.pid)


def _score_body(live: LiveState, row: int) -> dict[str, Any]:
    bundle = live.bundle
    lead = bundle.lead(row)
    start, end = lead["act_start"], lead["act_end"]
    acts = bundle.activities.slice(start, end - start).to_pylist()
    types = bundle.online.activity_types
    return {
        "lead": {"lead_id": lead["lead_id"], "created_at": lead["created_at"].isoformat(),
                 "lead_source": lead["lead_source"], "company_size": lead["company_size"],
                 "industry": lead["industry"], "country": lead["country"],
                 "job_title": lead["seniority"], "email": None},
        "activities": [{"activity_id": a["activity_id"], "activity_type": types[a["type_code"]],
                        "occurred_at": a["occurred_at"].isoformat()} for a in acts],
        "as_of": bundle.as_of.isoformat(),
    }  # fmt: skip


def _events_body(live: LiveState, rng: random.Random, serial: list[int]) -> dict[str, Any]:
    bundle = live.bundle
    n = bundle.leads.num_rows
    when = bundle.as_of + timedelta(hours=1)
    events = []
    for _ in range(EVENTS_PER_BATCH):
        serial[0] += 1
        lead_id = bundle.leads.column("lead_id")[rng.randrange(n)].as_py()
        events.append({"lead_id": lead_id, "activity_id": f"bench-{serial[0]}",
                       "activity_type": "pricing_page_view",
                       "occurred_at": when.isoformat()})  # fmt: skip
    return {"events": events, "as_of": (when + timedelta(minutes=1)).isoformat()}


def load_level(url: str, path: str, bodies: list[dict], clients: int) -> dict[str, Any]:
    """POST ``bodies`` from ``clients`` threads; latency percentiles and throughput."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    queue = list(reversed(bodies))
    deadline = time.monotonic() + LEVEL_SECONDS

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            while time.monotonic() < deadline:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                t = time.perf_counter()
                status = client.post(path, json=body).status_code
                elapsed = time.perf_counter() - t
                with lock:
                    latencies.append(elapsed)
                    failures[0] += status != 200

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    ms = np.array(latencies) * 1000
    return {
        "clients": clients, "requests": len(latencies), "failures": failures[0],
        "p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)),
        "per_second": len(latencies) / wall, "seconds": wall,
    }  # fmt: skip


def scoring_ratio(exports: Path, rows: list[int]) -> dict[str, Any]:
    """One in-process score (features, model, reasons, tier) against raw inplace_predict."""
    live = LiveState(exports)
    bundle = live.bundle
    artifact = bundle.artifact
    parts = [p for p, *_ in artifact.components] if artifact.model_type == "blend" else [artifact]
    trees = next((p for p in parts if p.model_type == "xgboost"), None)
    as_of = bundle.as_of
    calls = []
    for row in rows:
        t = time.perf_counter()
        live.current(bundle.lead(row)["lead_id"], as_of)
        calls.append(time.perf_counter() - t)
    raw = []
    if trees is not None:
        table = pa.Table.from_pylist(
            [bundle.feature_row(rows[0], as_of)], schema=bundle.feature_schema
        )
        x = trees.preprocessor.transform(table).matrix
        booster = trees.booster()
        for _ in rows:
            t = time.perf_counter()
            booster.inplace_predict(x, predict_type="margin", missing=np.nan)
            raw.append(time.perf_counter() - t)
    call_ms = float(np.median(calls) * 1000)
    raw_ms = float(np.median(raw) * 1000) if raw else None
    ratio = call_ms / raw_ms if raw_ms else None
    return {"model_type": artifact.model_type, "score_call_ms": call_ms,
            "inplace_predict_ms": raw_ms, "ratio": ratio}  # fmt: skip


def _bundle_bytes(exports: Path) -> int:
    root = exports / ONLINE_DIR
    folder = root / (root / CURRENT_FILE).read_text().strip()
    return sum(p.stat().st_size for p in folder.iterdir())


def run(args: argparse.Namespace) -> dict[str, Any]:
    src = args.exports
    dest = REPO / "data" / "bench" / "serving" / "exports"
    scale_bundle(src, dest, args.leads)
    live = LiveState(dest)
    rng = random.Random(7)
    n = live.bundle.leads.num_rows
    rows = [rng.randrange(n) for _ in range(args.requests)]
    score_bodies = [_score_body(live, r) for r in rows]
    serial = [0]
    event_bodies = [_events_body(live, rng, serial) for _ in range(args.requests // 10)]
    shown = src.resolve().relative_to(REPO) if src.resolve().is_relative_to(REPO) else src
    out: dict[str, Any] = {"started_at": datetime.now().isoformat(timespec="seconds"),
                           "leads": n, "source": str(shown),
                           "bundle_bytes": _bundle_bytes(dest)}  # fmt: skip
    with Server(src) as small:
        load_level(small.url, "/score", score_bodies[:200], 1)
        out["baseline_rss_kib"] = small.rss_kib()
    with Server(dest) as server:
        out["score"] = [load_level(server.url, "/score", score_bodies, c) for c in CONCURRENCY]
        out["events"] = [load_level(server.url, "/events", event_bodies, c) for c in CONCURRENCY]
        out["rss_kib"] = server.rss_kib()
    out["state_kib"] = out["rss_kib"] - out["baseline_rss_kib"]
    out["memory_ratio"] = out["state_kib"] * 1024 / out["bundle_bytes"]
    out["ratio"] = scoring_ratio(dest, rows[:300])
    return out


def _met(value: float | None, target: float) -> str:
    if value is None:
        return "n/a"
    return "met" if value <= target else "**missed**"


def render(result: dict[str, Any]) -> list[str]:
    score1 = result["score"][0]
    events1 = result["events"][0]
    r = result["ratio"]
    lines = [
        BEGIN,
        f"Run {result['started_at']}: `leadscore serve` on 127.0.0.1 with "
        f"{result['leads']:,} open leads of state (the bundle of {result['source']}, scaled by "
        "repeating its leads), load from client threads on the same 2 cores "
        "(`python -m benchmarks.serving`).",
        "",
        "| target | measured | |",
        "|---|---|---|",
        f"| `/score` p99 < {TARGETS['score_p99_ms']:.0f} ms (one lead, reasons, 1 client) | "
        f"{score1['p99_ms']:.1f} ms | {_met(score1['p99_ms'], TARGETS['score_p99_ms'])} |",
        f"| `/events` p99 < {TARGETS['events_p99_ms']:.0f} ms (a batch of 100, 1 client) | "
        f"{events1['p99_ms']:.1f} ms | {_met(events1['p99_ms'], TARGETS['events_p99_ms'])} |",
        f"| state memory ≤ {TARGETS['memory_ratio']}x its files | "
        f"{result['state_kib'] / 1024:,.0f} MiB for {result['bundle_bytes'] / 2**20:,.0f} MiB "
        f"({result['memory_ratio']:.2f}x) | "
        f"{_met(result['memory_ratio'], TARGETS['memory_ratio'])} |",
        "",
        "| endpoint | clients | requests | failed | p50 | p99 | per second |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, levels in (
        ("/score", result["score"]),
        ("/events (100 per request)", result["events"]),
    ):
        for lv in levels:
            lines.append(
                f"| {name} | {lv['clients']} | {lv['requests']:,} | {lv['failures']} | "
                f"{lv['p50_ms']:.1f} ms | {lv['p99_ms']:.1f} ms | {lv['per_second']:,.0f} |"
            )
    if r["inplace_predict_ms"] is not None:
        lines += [
            "",
            f"In process, one `LiveState.score` call (features, {r['model_type']} model, reasons, "
            f"tier) takes {r['score_call_ms']:.2f} ms (median), {r['ratio']:.0f}x one raw "
            f"`Booster.inplace_predict` of the same row ({r['inplace_predict_ms']:.3f} ms).",
        ]
    return [*lines, END]


def write_block(path: Path, lines: list[str]) -> None:
    """Replace the serving block of BENCHMARKS.md (or add it before ## Notes)."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = "\n".join(lines)
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        section = f"## Real-time serving\n\n{block}\n\n"
        text = (
            text.replace("## Notes\n", section + "## Notes\n", 1)
            if "## Notes\n" in text
            else text + "\n" + section
        )
    path.write_text(text)


def default_exports() -> Path:
    bench = REPO / "data" / "bench" / "1000000" / "exports"
    return bench if (bench / ONLINE_DIR / CURRENT_FILE).exists() else REPO / "exports"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.serving", description=__doc__.split("\n")[0]
    )
    p.add_argument("--exports", type=Path, default=None, help="export folder of a build")
    p.add_argument("--leads", type=int, default=1_000_000, help="open leads of state")
    p.add_argument("--requests", type=int, default=2000, help="/score requests per level")
    p.add_argument("--report", type=Path, default=REPO / "BENCHMARKS.md")
    args = p.parse_args(argv)
    args.exports = args.exports or default_exports()
    result = run(args)
    runs = REPO / "data" / "bench" / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    saved = runs / f"serving-{result['started_at'].replace(':', '')}.json"
    saved.write_text(json.dumps(result, indent=2))
    write_block(args.report, render(result))
    print(f"figures in {saved}; wrote the serving block of {args.report}")


if __name__ == "__main__":
    main()
