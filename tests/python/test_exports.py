"""leadscore.exports: atomic Parquet exports, Hive partitions, incremental rewrites, errors."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from leadscore import exports
from leadscore.exports import ExportSpec, export_tables, partition_label

SCORES = ExportSpec("lead_scores")
HISTORY = ExportSpec("lead_score_history", partition_by="as_of")
SOURCES = {"lead_scores": '"main"."scores"', "lead_score_history": '"main"."history"'}
AS_OFS = ("2026-09-16", "2026-09-23", "2026-09-30")


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute(
        "create table scores as select range::integer as lead_id, range / 10 as probability, "
        "case when range % 3 = 0 then 'hot' else 'cold' end as tier from range(10)"
    )
    con.execute(
        "create table history as select lead_id, as_of, lead_id / 100 as probability "
        "from range(5) leads(lead_id), "
        "(values (timestamp '2026-09-16'), (timestamp '2026-09-23'), (timestamp '2026-09-30')) "
        "dates(as_of)"
    )
    yield con
    con.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "bi 'exports'"  # a quote and a space must not break any SQL


def rows(con, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def history_file(folder: Path, as_of: str) -> Path:
    return folder / "lead_score_history" / f"as_of={as_of}" / "data.parquet"


def stat_of(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


def temp_files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.name.endswith(".tmp")]


def rewritten(manifest, name: str = "lead_score_history") -> dict[str, bool]:
    return {
        row["partition_value"]: row["was_rewritten"]
        for row in manifest.to_pylist()
        if row["export_name"] == name
    }


@pytest.mark.parametrize("as_relation", [False, True], ids=["name", "relation"])
def test_whole_table_round_trip(con, folder, as_relation):
    source = con.sql("select * from scores") if as_relation else SOURCES["lead_scores"]
    manifest = export_tables(con, {"lead_scores": source}, [SCORES], folder)

    path = folder / "lead_scores.parquet"
    assert rows(con, "select * from read_parquet(?) order by lead_id", [str(path)]) == rows(
        con, "select * from scores order by lead_id"
    )
    assert rows(con, "describe select * from read_parquet(?)", [str(path)]) == rows(
        con, "describe scores"
    )
    [entry] = manifest.to_pylist()
    assert entry["export_name"] == "lead_scores"
    assert entry["path"] == "lead_scores.parquet"
    assert entry["partition_value"] is None
    assert entry["n_rows"] == 10
    assert entry["was_rewritten"] is True
    assert temp_files(folder) == []


def test_partitioned_round_trip_via_hive_partitioning(con, folder):
    export_tables(con, SOURCES, [HISTORY], folder)

    assert sorted(p.name for p in (folder / "lead_score_history").iterdir()) == [
        f"as_of={as_of}" for as_of in AS_OFS
    ]
    # Hive convention: the value lives in the folder name, not in the file
    assert pq.read_schema(history_file(folder, AS_OFS[0])).names == ["lead_id", "probability"]

    glob = str(folder / "lead_score_history" / "*" / "*.parquet")
    exact = rows(
        con,
        "select lead_id, as_of, probability from read_parquet(?, hive_partitioning = true, "
        "hive_types = {'as_of': timestamp}) order by all",
        [glob],
    )
    assert exact == rows(con, "select lead_id, as_of, probability from history order by all")
    # without hive_types, DuckDB types midnight folder values as DATE
    types = dict(
        (name, kind)
        for name, kind, *_ in rows(
            con, "describe select * from read_parquet(?, hive_partitioning = true)", [glob]
        )
    )
    assert types["as_of"] == "DATE"


def test_timestamp_partitions_keep_their_time(con, folder):
    con.execute("create table events as select 1 as n, timestamp '2026-09-30 12:30:00' as seen_at")
    export_tables(con, {"events": '"events"'}, [ExportSpec("events", "seen_at")], folder)

    path = folder / "events" / "seen_at=2026-09-30T12:30:00" / "data.parquet"
    read_back = "select n, seen_at from read_parquet(?, hive_partitioning = true)"
    assert rows(con, read_back, [str(path)]) == [(1, datetime(2026, 9, 30, 12, 30))]


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (date(2026, 9, 30), "2026-09-30"),
        (datetime(2026, 9, 30), "2026-09-30"),
        (datetime(2026, 9, 30, 8, 5, 1), "2026-09-30T08:05:01"),
        (datetime(2026, 9, 30, 8, 5, 1, 250), "2026-09-30T08:05:01.000250"),
    ],
)
def test_partition_label(value, label):
    assert partition_label(value) == label


def test_second_run_without_changes_rewrites_nothing(con, folder):
    export_tables(con, SOURCES, [SCORES, HISTORY], folder)
    before = {as_of: stat_of(history_file(folder, as_of)) for as_of in AS_OFS}

    manifest = export_tables(con, SOURCES, [SCORES, HISTORY], folder)

    assert rewritten(manifest) == dict.fromkeys(AS_OFS, False)
    assert {as_of: stat_of(history_file(folder, as_of)) for as_of in AS_OFS} == before
    assert rewritten(manifest, "lead_scores") == {None: True}  # whole tables are always fresh


def test_changed_count_and_listed_partition_are_rewritten(con, folder):
    export_tables(con, SOURCES, [HISTORY], folder)
    before = {as_of: stat_of(history_file(folder, as_of)) for as_of in AS_OFS}
    con.execute("insert into history values (99, timestamp '2026-09-16', 0.5)")

    manifest = export_tables(
        con, SOURCES, [HISTORY], folder, rewrite_partitions=[datetime(2026, 9, 30)]
    )

    assert rewritten(manifest) == {"2026-09-16": True, "2026-09-23": False, "2026-09-30": True}
    after = {as_of: stat_of(history_file(folder, as_of)) for as_of in AS_OFS}
    assert after["2026-09-23"] == before["2026-09-23"]
    assert after["2026-09-16"] != before["2026-09-16"]
    assert after["2026-09-30"] != before["2026-09-30"]
    assert pq.read_metadata(history_file(folder, "2026-09-16")).num_rows == 6
    counts = {row["partition_value"]: row["n_rows"] for row in manifest.to_pylist()}
    assert counts == {"2026-09-16": 6, "2026-09-23": 5, "2026-09-30": 5}


def test_added_column_rewrites_every_partition(con, folder):
    export_tables(con, SOURCES, [HISTORY], folder)
    con.execute("alter table history add column tier varchar default 'hot'")

    manifest = export_tables(con, SOURCES, [HISTORY], folder)

    assert rewritten(manifest) == dict.fromkeys(AS_OFS, True)
    for as_of in AS_OFS:
        assert pq.read_schema(history_file(folder, as_of)).names == [
            "lead_id",
            "probability",
            "tier",
        ]


def test_same_count_change_is_rewritten_when_listed(con, folder):
    export_tables(con, SOURCES, [HISTORY], folder)
    con.execute("update history set probability = 0.77 where as_of = '2026-09-30'")

    export_tables(con, SOURCES, [HISTORY], folder, rewrite_partitions=[date(2026, 9, 30)])

    stored = pq.read_table(history_file(folder, "2026-09-30")).column("probability")
    assert set(stored.to_pylist()) == {0.77}


def test_removed_partition_folder_disappears(con, folder):
    export_tables(con, SOURCES, [HISTORY], folder)
    con.execute("delete from history where as_of = '2026-09-23'")

    manifest = export_tables(con, SOURCES, [HISTORY], folder)

    assert not history_file(folder, "2026-09-23").parent.exists()
    assert history_file(folder, "2026-09-16").exists()
    assert set(rewritten(manifest)) == {"2026-09-16", "2026-09-30"}


def test_manifest_file_matches_returned_table(con, folder):
    manifest = export_tables(con, SOURCES, [SCORES, HISTORY], folder)

    written = json.loads((folder / "_manifest.json").read_text())
    by_name = {entry["name"]: entry for entry in written["exports"]}
    assert by_name["lead_scores"]["rows"] == 10
    assert by_name["lead_score_history"]["rows"] == 15
    assert by_name["lead_score_history"]["partition_by"] == "as_of"
    listed = [
        (entry["name"], file["path"], file["rows"], file["was_rewritten"])
        for entry in written["exports"]
        for file in entry["files"]
    ]
    returned = [
        (row["export_name"], row["path"], row["n_rows"], row["was_rewritten"])
        for row in manifest.to_pylist()
    ]
    assert listed == returned
    assert returned[1][1] == "lead_score_history/as_of=2026-09-16/data.parquet"
    assert all((folder / path).is_file() for _, path, _, _ in returned)
    assert written["generated_at"].endswith("+00:00")


def test_writer_error_keeps_previous_file_and_no_temp(con, folder, monkeypatch):
    export_tables(con, SOURCES, [SCORES, HISTORY], folder)
    old_scores = (folder / "lead_scores.parquet").read_bytes()
    old_history = history_file(folder, "2026-09-30").read_bytes()
    con.execute("delete from scores where lead_id > 2")

    def write_half_then_fail(relation, path):
        path.write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(exports, "_write_parquet", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        export_tables(con, SOURCES, [SCORES], folder)
    with pytest.raises(OSError, match="disk full"):
        export_tables(con, SOURCES, [HISTORY], folder, rewrite_partitions=[date(2026, 9, 30)])

    assert (folder / "lead_scores.parquet").read_bytes() == old_scores
    assert history_file(folder, "2026-09-30").read_bytes() == old_history
    assert temp_files(folder) == []


def test_query_error_mid_copy_keeps_previous_file(con, folder):
    con.execute("create view scores_view as select * from scores")
    sources = {"lead_scores": "scores_view"}
    export_tables(con, sources, [SCORES], folder)
    old = (folder / "lead_scores.parquet").read_bytes()
    con.execute(
        "create or replace view scores_view as select lead_id, "
        "case when lead_id = 7 then error('broken row') else probability end as probability, "
        "tier from scores"
    )

    with pytest.raises(duckdb.Error, match="broken row"):
        export_tables(con, sources, [SCORES], folder)

    assert (folder / "lead_scores.parquet").read_bytes() == old
    assert temp_files(folder) == []


def test_open_reader_keeps_old_content_after_replace(con, folder):
    export_tables(con, SOURCES, [SCORES], folder)
    path = folder / "lead_scores.parquet"
    with path.open("rb") as handle:
        reader = pq.ParquetFile(handle)
        con.execute("delete from scores where lead_id >= 4")
        export_tables(con, SOURCES, [SCORES], folder)

        assert reader.read().num_rows == 10  # the old file, still whole
    assert pq.read_metadata(path).num_rows == 4  # new readers see the new file


@pytest.mark.parametrize(
    ("specs", "setup", "message"),
    [
        ([ExportSpec("lead_tiers")], None, r"export 'lead_tiers' has no source; add sources"),
        (
            [ExportSpec("lead_score_history", partition_by="scored_on")],
            None,
            r"partition_by column 'scored_on' is not in the table \(columns: lead_id, as_of, "
            r"probability\); fix ExportSpec.partition_by",
        ),
        (
            [HISTORY],
            "insert into history values (7, null, 0.1), (8, null, 0.2)",
            r"export 'lead_score_history': 2 rows have NULL as_of; .*fix lead_score_history",
        ),
        (
            [ExportSpec("lead_scores", partition_by="tier")],
            None,
            r"partition column tier is VARCHAR; partition_by needs a DATE or TIMESTAMP",
        ),
        ([SCORES, SCORES], None, r"export names must be unique; lead_scores repeat"),
        ([ExportSpec("../lead_scores")], None, r"'../lead_scores' is not a plain file name"),
    ],
    ids=["no-source", "no-column", "null-partition", "varchar-partition", "dupe", "path-name"],
)
def test_bad_inputs_name_the_problem_and_write_nothing(con, folder, specs, setup, message):
    if setup:
        con.execute(setup)
    with pytest.raises(ValueError, match=message):
        export_tables(con, SOURCES, specs, folder)
    assert not folder.exists()


def test_missing_source_table_says_build_it(con, folder):
    with pytest.raises(ValueError, match=r"(?s)cannot read source \"main\".\"nope\".*build that"):
        export_tables(con, {"lead_scores": '"main"."nope"'}, [SCORES], folder)


def test_unwritable_folder_says_set_export_dir(con, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError, match=r"set LEADSCORE_EXPORT_DIR to a writable folder"):
        export_tables(con, SOURCES, [SCORES], blocker / "exports")


def test_rewrite_partitions_must_be_dates(con, folder):
    with pytest.raises(ValueError, match=r"'2026-09-30' is a str; partition values must be"):
        export_tables(con, SOURCES, [HISTORY], folder, rewrite_partitions=["2026-09-30"])


def test_an_export_is_named_by_the_table_its_ref_reads_and_anything_else_is_refused():
    from leadscore.exports import relation_name

    con = duckdb.connect()
    con.execute('create table "odd ""name""" as select 1 as a')
    con.execute("create table lead_scores as select 1 as a")
    # what dbt-duckdb hands a Python model for dbt.ref(...)
    assert relation_name(con.query('select * from "memory"."main"."lead_scores"')) == "lead_scores"
    assert relation_name(con.query('select * from "memory"."main"."odd ""name"""')) == 'odd "name"'
    with pytest.raises(ValueError, match=r"pass dbt\.ref"):
        relation_name(con.query("select a from lead_scores where a > 0"))
