"""leadscore serve's small parts without a build: key lookups, the event log, the score."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pyarrow as pa
import pytest

from leadscore.serve import events_log, keys
from leadscore.serve.features import fractional_days
from leadscore.serve.service import lead_score


def _table(ids: list[str]) -> tuple[np.ndarray, pa.Array]:
    hashes = keys.key_hashes(ids)
    order = np.lexsort((np.array(ids), hashes))
    return hashes[order], pa.array(ids).take(pa.array(order))


def test_rows_of_finds_every_row_of_a_key_and_none_of_another():
    hashes, column = _table(["b", "a", "c", "a", "d"])
    rows = keys.rows_of(hashes, column, "a")
    assert [column[i].as_py() for i in rows] == ["a", "a"]
    assert keys.rows_of(hashes, column, "zz") == range(0)


def test_rows_of_is_right_when_every_key_collides(monkeypatch):
    monkeypatch.setattr(keys, "key_hash", lambda key: 7)
    hashes, column = _table(["b", "a", "c", "a"])
    assert [column[i].as_py() for i in keys.rows_of(hashes, column, "c")] == ["c"]
    assert len(keys.rows_of(hashes, column, "a")) == 2


def test_key_hash_is_stable_across_processes():
    # BLAKE2b, not Python's salted hash(): the export and the server must agree
    assert keys.key_hash("L00000001") == keys.key_hash("L00000001")
    assert keys.key_hash("L00000001") == 11821960723213530561  # pinned: bundles on disk use it


EVENT = {"activity_id": "a1", "lead_id": "L1", "activity_type": "page_view",
         "occurred_at": datetime(2026, 10, 1, 9, 30)}  # fmt: skip


def test_the_log_round_trips_and_skips_a_line_a_crash_cut_short(tmp_path):
    now = datetime(2026, 10, 1, 12)
    path = events_log.append(tmp_path, [EVENT], now)
    with path.open("a") as handle:
        handle.write('{"activity_id": "half')  # a write cut short: never acknowledged
    assert [e["activity_id"] for e in events_log.read_since(tmp_path, date(2026, 10, 1))] == ["a1"]
    events_log.append(tmp_path, [{**EVENT, "activity_id": "a2"}], now)
    read = list(events_log.read_since(tmp_path, date(2026, 10, 1)))
    assert [e["activity_id"] for e in read] == ["a1", "a2"]
    assert read[0]["occurred_at"] == EVENT["occurred_at"]
    assert list(events_log.read_since(tmp_path, date(2026, 10, 2))) == []


def test_a_corrupt_log_line_stops_with_its_file_and_line(tmp_path):
    path = events_log.append(tmp_path, [EVENT], datetime(2026, 10, 1, 12))
    path.write_text("not json\n" + path.read_text())
    with pytest.raises(ValueError, match=r"events-2026-10-01.jsonl:1 is not an event line"):
        list(events_log.read_since(tmp_path, date(2026, 10, 1)))


def test_lead_score_is_the_macro():
    assert lead_score(0.0001, 0, 0, 200) == 1
    assert lead_score(0.351, 0, 0, 200) == 36
    assert lead_score(1.0, 0, 0, 200) == 100
    # no probability: 1 + round(99 * (r - min) / (max - min)), DuckDB rounds half away from 0
    assert lead_score(None, 100, 0, 200) == 51  # 49.5 -> 50
    assert lead_score(None, 0, 0, 200) == 1
    assert lead_score(None, 200, 0, 200) == 100


def test_fractional_days_counts_second_boundaries_as_duckdb_datediff():
    us = 1_000_000
    assert fractional_days(900_000, 1_100_000) == 1 / 86400.0  # 0.9 s -> 1.1 s crosses one
    assert fractional_days(100_000, 900_000) == 0.0
    assert fractional_days(None, us) is None
