"""leadscore serve against real builds: training-serving parity, events, the log, reloads.

One module fixture builds three times on ~3,000 generated leads:
1. `dbt build` as of D0 (trains the champion, exports the serving bundle) — copied aside;
2. `dbt build --selector daily` as of D1 = D0 + 1 day on the same raw data: the batch truth the
   online state must reach after being sent the activities of [D0, D1) as events;
3. the same daily build as of D1 on a copy of the D0 database, from a raw export that lacks
   those activities, reading them from the event log the server wrote instead: the batch and
   online views converge.
The API runs in process (Starlette's TestClient); one test starts the real `leadscore serve`.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from conftest import DbtRun, generate_raw, run_dbt
from fastapi.testclient import TestClient

from leadscore.serve.app import create_app
from leadscore.serve.config import CURRENT_FILE, ONLINE_DIR
from leadscore.serve.state import load_bundle

pytestmark = pytest.mark.e2e

D0 = datetime(2026, 9, 22)
D1 = D0 + timedelta(days=1)
FAST = "search_budget_seconds: 5"
TOKEN = "t0ken-for-tests"
LEAD_COLUMNS = ("lead_id", "created_at", "lead_source", "company_size", "industry", "country",
                "job_title", "email")  # fmt: skip
COMPARED = ("score", "tier", "rule_score", "rule_grade", "recommended_action", "model_version")
PROBABILITY_TOLERANCE = 1e-9


def _vars(as_of: datetime) -> list[str]:
    return ["--vars", "{" + f"{FAST}, as_of: '{as_of:%Y-%m-%d}'" + "}"]


def _dicts(db: Path, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rel = con.execute(sql, params or [])
        names = [d[0] for d in rel.description]
        return [dict(zip(names, row, strict=True)) for row in rel.fetchall()]
    finally:
        con.close()


def _build(args: list[str], raw: Path, work: Path) -> DbtRun:
    run = run_dbt(args, raw, work)
    assert run.returncode == 0, f"dbt {' '.join(args)} failed:\n{run.output[-6000:]}"
    return run


def _json_lead(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (row[k].isoformat() if isinstance(row[k], datetime) else row[k]) for k in LEAD_COLUMNS
    }


def _activity(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "activity_id": row["activity_id"],
        "activity_type": row["activity_type"],
        "occurred_at": row["occurred_at"].isoformat(),
    }


def _raw_without_day(raw: Path, dest: Path) -> Path:
    """A copy of the raw export without the activities of [D0, D1)."""
    shutil.copytree(raw, dest)
    acts = pq.read_table(dest / "activities.parquet")
    when = pc.cast(acts.column("occurred_at"), pa.timestamp("us"))
    keep = pc.invert(pc.and_(pc.greater_equal(when, pa.scalar(D0, pa.timestamp("us"))),
                             pc.less(when, pa.scalar(D1, pa.timestamp("us")))))  # fmt: skip
    pq.write_table(acts.filter(keep), dest / "activities.parquet")
    return dest


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("serve")
    raw = generate_raw(work / "gen", n_leads=3000, seed=23)
    first = _build(["build", *_vars(D0)], raw, work)
    out: dict[str, Any] = {"raw": raw, "work": work}
    out["exports_d0"] = work / "exports_d0"
    shutil.copytree(work / "exports", out["exports_d0"])
    shutil.copytree(work, work.parent / "serve_db_d0", ignore=shutil.ignore_patterns("exports*"))
    out["scores_d0"] = {r["lead_id"]: r for r in _dicts(first.db_path, "select * from lead_scores")}
    out["features_d0"] = _dicts(first.db_path, "select * from lead_features order by lead_id")
    out["leads"] = {r["lead_id"]: r for r in _dicts(first.db_path, "select * from stg_crm__leads")}
    out["activities"] = _dicts(
        first.db_path,
        "select lead_id, activity_id, activity_type_raw as activity_type, occurred_at "
        "from stg_crm__activities order by lead_id, occurred_at",
    )
    out["wins_day"] = {
        r["email_domain"]
        for r in _dicts(
            first.db_path,
            "select email_domain from int_domain_wins_accumulated "
            "where closed_at >= ? and closed_at < ?",
            [D0, D1],
        )
    }
    nxt = _build(["build", "--selector", "daily", *_vars(D1)], raw, work)
    out["scores_d1"] = {r["lead_id"]: r for r in _dicts(nxt.db_path, "select * from lead_scores")}
    return out


@pytest.fixture(scope="module")
def client(builds: dict[str, Any]) -> TestClient:
    return TestClient(create_app(builds["exports_d0"], token=TOKEN))


def _acts_before(builds: dict[str, Any], lead_id: str, end: datetime) -> list[dict[str, Any]]:
    return [
        _activity(a)
        for a in builds["activities"]
        if a["lead_id"] == lead_id and a["occurred_at"] < end
    ]


def _by_lead(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row["lead_id"], []).append(row)
    return out


def _assert_same(answer: dict[str, Any], batch: dict[str, Any], fields: tuple[str, ...]) -> None:
    diff = abs(answer["conversion_probability"] - batch["conversion_probability"])
    assert diff <= PROBABILITY_TOLERANCE, (answer["lead_id"], diff)
    for field in fields:
        assert answer[field] == batch[field], (
            answer["lead_id"],
            field,
            answer[field],
            batch[field],
        )


def test_bundle_features_equal_lead_features_for_every_open_lead(builds: dict[str, Any]) -> None:
    """The Python mirror of the feature macro, column by column, for every open lead at D0."""
    bundle = load_bundle(builds["exports_d0"])
    mismatches = []
    for expected in builds["features_d0"]:
        row = bundle.lead_row(expected["lead_id"])
        assert row is not None, expected["lead_id"]
        got = bundle.feature_row(row, D0)
        assert list(got) == list(expected)
        for column, want in expected.items():
            value = got[column]
            same = (
                math.isclose(value, want, rel_tol=1e-12, abs_tol=1e-12)
                if isinstance(want, float) and value is not None
                else value == want
            )
            if not same:
                mismatches.append((expected["lead_id"], column, want, value))
    assert len(builds["features_d0"]) > 1000
    assert not mismatches, mismatches[:10]


def test_score_equals_lead_scores_for_every_open_lead(builds: dict[str, Any], client) -> None:
    """POST /score with the lead's attributes and its activities before the build's as_of
    gives that lead's lead_scores row: probability to 1e-9, score, tier, rule score and grade,
    action, model. GET /leads/{id} gives the same from the state."""
    by_lead = _by_lead(builds["activities"])
    for lead_id, batch in builds["scores_d0"].items():
        activities = [_activity(a) for a in by_lead.get(lead_id, []) if a["occurred_at"] < D0]
        body = {"lead": _json_lead(builds["leads"][lead_id]), "activities": activities,
                "as_of": D0.isoformat()}  # fmt: skip
        answer = client.post("/score", json=body)
        assert answer.status_code == 200, answer.text
        _assert_same(answer.json(), batch, COMPARED)
        assert answer.json()["top_reasons"] == batch["top_reasons"]
        state = client.get(f"/leads/{lead_id}", params={"as_of": D0.isoformat()})
        _assert_same(state.json(), batch, COMPARED)


def _day_events(builds: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {**_activity(a), "lead_id": a["lead_id"]}
        for a in builds["activities"]
        if D0 <= a["occurred_at"] < D1
    ]


def _post_events(client, events: list[dict[str, Any]], as_of: datetime) -> list[dict]:
    answers = []
    for start in range(0, len(events), 500):
        r = client.post("/events", json={"events": events[start : start + 500],
                                         "as_of": as_of.isoformat()},
                        headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
        assert r.status_code == 200, r.text
        answers.append(r.json())
    return answers


def test_a_day_of_events_reaches_the_next_days_build(builds: dict[str, Any], client) -> None:
    """After the activities of [D0, D1) are posted as events, every lead open at both dates
    scores as the D1 build scored it (the model did not change; tiers rank against the D0
    cut-off, so only probability and rule score are compared). Leads whose domain won a deal
    in that day are left out: the state learns wins at the next build. A lead created in the
    day is scored by POST /score with its attributes and activities."""
    events = _day_events(builds)
    assert len(events) > 50
    answers = _post_events(client, events, D1)
    unknown = sum(1 for e in events if e["lead_id"] not in builds["scores_d0"])
    held = sum(a["accepted"] + a["duplicates"] for a in answers)
    assert held + unknown == len(events)
    assert {i for a in answers for i in a["unknown_lead_ids"]} == {
        e["lead_id"] for e in events if e["lead_id"] not in builds["scores_d0"]
    }
    d0, d1 = builds["scores_d0"], builds["scores_d1"]
    both = [i for i in d1 if i in d0 and builds["leads"][i]["email"] is not None]
    compared = 0
    for lead_id in both:
        domain = builds["leads"][lead_id]["email"].split("@")[-1]
        if domain in builds["wins_day"]:
            continue
        answer = client.get(f"/leads/{lead_id}", params={"as_of": D1.isoformat()}).json()
        _assert_same(answer, d1[lead_id], ("rule_score", "rule_grade", "model_version"))
        compared += 1
    assert compared >= 0.9 * len(both) > 500
    created = [i for i in d1 if i not in d0 and builds["leads"][i]["created_at"] >= D0]
    for lead_id in created:
        activities = _acts_before(builds, lead_id, D1)
        body = {"lead": _json_lead(builds["leads"][lead_id]), "activities": activities,
                "as_of": D1.isoformat()}  # fmt: skip
        _assert_same(client.post("/score", json=body).json(), d1[lead_id], ("rule_score",))
    # the same events again: nothing new, nothing logged twice
    again = _post_events(client, events, D1)
    assert sum(a["accepted"] for a in again) == 0
    logged = [
        json.loads(line)
        for path in (builds["exports_d0"] / "events").glob("events-*.jsonl")
        for line in path.read_text().splitlines()
    ]
    assert (
        len(logged) == len({e["activity_id"] for e in logged}) == sum(a["logged"] for a in answers)
    )


def test_the_event_log_feeds_the_next_build(builds: dict[str, Any], client) -> None:
    """A daily build as of D1 on the D0 database, from a raw export without the day's
    activities but with the server's event log, scores like the build that had them."""
    work = builds["work"].parent / "serve_db_d0"
    log = builds["exports_d0"] / "events"
    if not any(log.glob("*.jsonl")):
        _post_events(client, _day_events(builds), D1)
    shutil.copytree(log, work / "exports" / "events", dirs_exist_ok=True)
    raw = _raw_without_day(builds["raw"], work / "raw_without_day")
    run = _build(["build", "--selector", "daily", *_vars(D1)], raw, work)
    replayed = {r["lead_id"]: r for r in _dicts(run.db_path, "select * from lead_scores")}
    assert replayed.keys() == builds["scores_d1"].keys()
    for lead_id, batch in builds["scores_d1"].items():
        _assert_same(replayed[lead_id], batch, ("score", "tier", "rule_score"))


def test_restart_replays_the_log(builds: dict[str, Any], client) -> None:
    """A new server on the same folder replays the logged events: same answers."""
    _post_events(client, _day_events(builds)[:100], D1)
    lead_id = next(e["lead_id"] for e in _day_events(builds) if e["lead_id"] in builds["scores_d0"])
    before = client.get(f"/leads/{lead_id}", params={"as_of": D1.isoformat()}).json()
    fresh = TestClient(create_app(builds["exports_d0"], token=TOKEN))
    after = fresh.get(f"/leads/{lead_id}", params={"as_of": D1.isoformat()}).json()
    assert after["conversion_probability"] == before["conversion_probability"]
    assert after["features"] == before["features"]


def test_an_event_at_or_after_as_of_does_not_reach_the_score(builds, client) -> None:
    """Point in time online: an event at as_of or later changes nothing as of as_of, and
    counts once as_of has passed it."""
    live = client.app.state.live
    lead_id = next(iter(builds["scores_d0"]))
    t = D1 + timedelta(hours=6)

    def demo_requests(as_of: datetime) -> int:
        bundle = live.bundle
        return bundle.feature_row(bundle.lead_row(lead_id), as_of)["n_demo_request_all"]

    before = client.get(f"/leads/{lead_id}", params={"as_of": t.isoformat()}).json()
    n_before = demo_requests(t)
    event = {"lead_id": lead_id, "activity_id": f"pit-{lead_id}", "activity_type": "Demo_Request ",
             "occurred_at": t.isoformat()}  # fmt: skip
    _post_events(client, [event], t)
    same = client.get(f"/leads/{lead_id}", params={"as_of": t.isoformat()}).json()
    assert same["features"] == before["features"]
    assert same["conversion_probability"] == before["conversion_probability"]
    assert demo_requests(t) == n_before
    assert demo_requests(t + timedelta(microseconds=1)) == n_before + 1


def test_reload_swaps_the_bundle_without_a_failed_request(builds, tmp_path: Path) -> None:
    """A new export named in CURRENT is served from the next request on (the file watch),
    or at once by POST /reload; requests during the swap all succeed."""
    exports = tmp_path / "exports"
    shutil.copytree(builds["exports_d0"], exports, ignore=shutil.ignore_patterns("events"))
    app = TestClient(create_app(exports, token=TOKEN))
    first = app.get("/health").json()["bundle"]
    new_version = "20990101T000000-feedbeef"
    shutil.copytree(exports / ONLINE_DIR / first, exports / ONLINE_DIR / new_version)
    lead_id = next(iter(builds["scores_d0"]))
    statuses = [app.get(f"/leads/{lead_id}").status_code for _ in range(3)]
    (exports / ONLINE_DIR / CURRENT_FILE).write_text(new_version + "\n")
    assert app.post("/reload").status_code == 401
    reloaded = app.post("/reload", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert reloaded == {"reloaded": True, "bundle": new_version}
    statuses += [app.get(f"/leads/{lead_id}").status_code for _ in range(3)]
    # the file watch: no /reload, the next request after a second serves the newer export
    watched = "20990101T000001-cafecafe"
    shutil.copytree(exports / ONLINE_DIR / first, exports / ONLINE_DIR / watched)
    (exports / ONLINE_DIR / CURRENT_FILE).write_text(watched + "\n")
    time.sleep(1.1)
    statuses.append(app.get(f"/leads/{lead_id}").status_code)
    assert app.get("/health").json()["bundle"] == watched
    assert statuses == [200] * 7
    # a broken export leaves the old bundle serving and says why
    (exports / ONLINE_DIR / "20990102T000000-broken00").mkdir()
    (exports / ONLINE_DIR / CURRENT_FILE).write_text("20990102T000000-broken00\n")
    r = app.post("/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 409 and "bundle.json" in r.json()["detail"]
    health = app.get("/health").json()
    assert health["bundle"] == watched and "broken00" in health["last_reload_error"]
    assert app.get(f"/leads/{lead_id}").status_code == 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_leadscore_serve_answers_on_localhost(builds: dict[str, Any]) -> None:
    """The console script binds 127.0.0.1 and answers; it is stopped by the test."""
    port = _free_port()
    env = {**os.environ, "LEADSCORE_SERVE_TOKEN": ""}
    cmd = [str(Path(sys.executable).parent / "leadscore"), "serve", "--port", str(port),
           "--exports", str(builds["exports_d0"])]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and health is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json()
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None, "leadscore serve did not answer within 60 s"
        assert health["status"] == "ok" and health["n_leads"] == len(builds["scores_d0"])
        model = httpx.get(f"http://127.0.0.1:{port}/model", timeout=5).json()
        assert model["model_version"] == next(iter(builds["scores_d0"].values()))["model_version"]
        assert model["features"] and len(model["features"]) == len(set(model["features"]))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    output = proc.stdout.read().decode() if proc.stdout else ""
    assert "127.0.0.1" in output


def test_serve_without_a_bundle_says_what_to_run(tmp_path: Path) -> None:
    cmd = [str(Path(sys.executable).parent / "leadscore"), "serve", "--exports", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert "run the build first" in proc.stderr


# --- bad input, security ------------------------------------------------------------------

SECRET_EMAIL = "jane.secret-person@example.org"


def _a_lead(builds: dict[str, Any]) -> dict[str, Any]:
    lead = _json_lead(next(iter(builds["leads"].values())))
    return {**lead, "email": SECRET_EMAIL}


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        (lambda b: b["lead"].pop("created_at"), ["body", "lead", "created_at"]),
        (lambda b: b["lead"].update(created_at="last tuesday"), ["body", "lead", "created_at"]),
        (lambda b: b["lead"].update(company_size="many"), ["body", "lead", "company_size"]),
        (lambda b: b["lead"].update(industry=7), ["body", "lead", "industry"]),
        (lambda b: b["lead"].update(lead_id=""), ["body", "lead", "lead_id"]),
        (lambda b: b.update(as_of="2020-01-01T00:00:00"), ["body", "lead", "created_at"]),
        (lambda b: b.update(activities=[{"activity_id": "a1", "activity_type": "page_view"}]),
         ["body", "activities", 0, "occurred_at"]),
        (lambda b: b.update(activities=[{"activity_id": "a1", "activity_type": "page_view",
                                         "occurred_at": "2026-09-01T00:00:00", "x": 1}]),
         ["body", "activities", 0, "x"]),
        (lambda b: b.update(unexpected=True), ["body", "unexpected"]),
    ],
)  # fmt: skip
def test_a_bad_score_payload_is_a_422_naming_the_field(builds, client, change, loc) -> None:
    body = {"lead": _a_lead(builds), "activities": [], "as_of": D0.isoformat()}
    change(body)
    r = client.post("/score", json=body)
    assert r.status_code == 422, r.text
    assert loc in [d["loc"] for d in r.json()["detail"]], r.json()
    assert SECRET_EMAIL not in r.text and "many" not in r.text and "last tuesday" not in r.text


def test_a_bad_event_rejects_the_request_and_stores_nothing(builds, client) -> None:
    log = builds["exports_d0"] / "events"
    before = sorted((p.name, p.stat().st_size) for p in log.glob("*.jsonl"))
    n_events = client.get("/health").json()["n_received_events"]
    lead_id = next(iter(builds["scores_d0"]))
    good = {"lead_id": lead_id, "activity_id": "bad-batch-1", "activity_type": "page_view",
            "occurred_at": D1.isoformat()}  # fmt: skip
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for bad in ({**good, "occurred_at": "soon"}, {**good, "lead_id": " "},
                {**good, "occurred_at": "2999-01-01T00:00:00Z"},
                {k: v for k, v in good.items() if k != "activity_id"}):  # fmt: skip
        r = client.post("/events", json={"events": [good, bad]}, headers=auth)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"][:3] == ["body", "events", 1]
    assert client.post("/events", json={"events": []}, headers=auth).status_code == 422
    too_many = {"events": [{**good, "activity_id": f"x{i}"} for i in range(1001)]}
    assert client.post("/events", json=too_many, headers=auth).status_code == 422
    assert sorted((p.name, p.stat().st_size) for p in log.glob("*.jsonl")) == before
    assert client.get("/health").json()["n_received_events"] == n_events


def test_the_token_guards_the_mutating_endpoints(builds, client) -> None:
    event = {"events": [{"lead_id": "L1", "activity_id": "tok-1", "activity_type": "page_view",
                         "occurred_at": D1.isoformat()}]}  # fmt: skip
    assert client.post("/events", json=event).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert client.post("/events", json=event, headers=wrong).status_code == 401
    assert client.post("/reload", headers=wrong).status_code == 401
    body = {"lead": _a_lead(builds), "as_of": D0.isoformat()}
    assert client.post("/score", json=body).status_code == 200


def test_limits_unknown_leads_and_errors_never_leak(builds, tmp_path, caplog) -> None:
    exports = tmp_path / "exports"
    shutil.copytree(builds["exports_d0"], exports, ignore=shutil.ignore_patterns("events"))
    app = TestClient(create_app(exports), raise_server_exceptions=False)
    huge = b'{"lead": {"lead_id": "x", "created_at": "2026-01-01", "pad": "' + b"a" * 2_000_000
    assert app.post("/score", content=huge + b'"}}').status_code == 413
    assert app.get("/leads/no-such-lead").status_code == 404
    live = app.app.state.live

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"internal detail {SECRET_EMAIL}")

    live.score = boom
    r = app.post("/score", json={"lead": _a_lead(builds), "as_of": D0.isoformat()})
    assert r.status_code == 500
    assert SECRET_EMAIL not in r.text and "Traceback" not in r.text and "internal" in r.text
    assert "RuntimeError" in caplog.text and SECRET_EMAIL not in caplog.text
    body = {"lead": _a_lead(builds), "as_of": D0.isoformat()}
    TestClient(create_app(exports)).post("/score", json=body)
    assert SECRET_EMAIL not in caplog.text


def test_a_bundle_of_the_rule_fallback_scores_with_the_calibrated_rule_score(builds, tmp_path):
    """A build without a champion exports the rule fallback: the API's probability is the
    Platt calibration of the rule score, its reasons the rules, model_version 'rules'."""
    exports = tmp_path / "exports"
    shutil.copytree(builds["exports_d0"], exports, ignore=shutil.ignore_patterns("events"))
    version = (exports / ONLINE_DIR / CURRENT_FILE).read_text().strip()
    meta_path = exports / ONLINE_DIR / version / "bundle.json"
    meta = json.loads(meta_path.read_text())
    platt = {"method": "platt", "a": 0.03, "b": -5.0}
    meta["model"] = {"model_version": "rules", "model_type": "rules", "trained_at": None,
                     "data_as_of": None, "note": "no champion model in model_registry",
                     "artifact": None, "rule_calibration": platt}  # fmt: skip
    meta_path.write_text(json.dumps(meta))
    app = TestClient(create_app(exports))
    lead_id = next(iter(builds["scores_d0"]))
    answer = app.get(f"/leads/{lead_id}", params={"as_of": D0.isoformat()}).json()
    assert answer["model_version"] == "rules" and answer["logit"] is None
    expected = 1 / (1 + math.exp(-(0.03 * answer["rule_score"] - 5.0)))
    assert abs(answer["conversion_probability"] - expected) < 1e-12
    assert answer["rule_score"] == builds["scores_d0"][lead_id]["rule_score"]
    assert all(r[:2] in ("+ ", "- ") for r in answer["top_reasons"])
    assert "no champion" in answer["scoring_notes"]
    assert app.get("/model").json()["features"] == []
