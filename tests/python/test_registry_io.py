"""What model_registry reads from the warehouse: the previous run's retrain recommendation
(the one feedback edge outside dbt's lineage) and the capped, rule-joined training rows."""

from __future__ import annotations

from datetime import datetime

import duckdb
import numpy as np

from leadscore.registry import previous_recommendation, training_rows


def test_previous_recommendation_is_the_latest_at_or_before_as_of_or_none():
    con = duckdb.connect()
    con.execute('create schema "my ""odd"" schema"')
    schema = 'my "odd" schema'
    assert previous_recommendation(con, schema, datetime(2026, 5, 1)) is None  # no table yet
    con.execute(
        'create table "my ""odd"" schema".retrain_recommendation as select * from (values '
        "(timestamp '2026-04-01', timestamp '2026-04-01 06:00', 'm1', true, 'a'), "
        "(timestamp '2026-04-08', timestamp '2026-04-08 06:00', 'm1', false, 'b'), "
        "(timestamp '2026-04-08', timestamp '2026-04-08 07:00', 'm1', true, 'c'), "
        "(timestamp '2026-04-15', timestamp '2026-04-15 06:00', 'm1', true, 'd')) "
        "as t(as_of, recommended_at, champion_version, should_retrain, reasons)"
    )
    row = previous_recommendation(con, schema, datetime(2026, 4, 10))
    # the latest as_of not after the run's, and of that day the latest recommendation
    assert row["reasons"] == "c" and row["should_retrain"] is True
    assert previous_recommendation(con, schema, datetime(2026, 3, 1)) is None
    assert previous_recommendation(con, "main", datetime(2026, 4, 10)) is None


def test_training_rows_cap_every_split_and_carry_the_rule_score():
    con = duckdb.connect()
    snapshots = con.sql(
        "select 'L' || i as lead_id, timestamp '2026-01-01' + to_days(i) as snapshot_at, "
        "case when i < 50 then 'train' when i < 60 then 'valid' when i < 70 then 'test' "
        "when i < 95 then 'purged' else 'unlabelled' end as split, i % 2 = 0 as is_converted, "
        "i from range(100) as r(i)"
    )
    # int_labelled_snapshots: the rule score (NULL for every third row) and the rank of each
    # row in its split (its dbt unit test pins the SQL); unlabelled rows are not in it
    labelled = snapshots.filter("split <> 'unlabelled'").select(
        "*, case when i % 3 <> 0 then i * 10 end as rule_score, "
        "row_number() over (partition by split order by hash(lead_id, snapshot_at)) "
        "as split_sample_rank"
    )
    table, scores = training_rows(labelled, max_rows_per_split=20)
    splits = table.column("split").to_pylist()
    assert {s: splits.count(s) for s in set(splits)} == {
        "train": 20,
        "valid": 10,
        "test": 10,
        "purged": 20,
    }
    assert "rule_score" not in table.column_names and "split_sample_rank" not in table.column_names
    ids = [int(i[1:]) for i in table.column("lead_id").to_pylist()]
    expected = np.array([0.0 if i % 3 == 0 else i * 10.0 for i in ids])  # no rule score: 0
    np.testing.assert_array_equal(scores, expected)
    # deterministic: the same sample on a second read
    again, _ = training_rows(labelled, max_rows_per_split=20)
    assert sorted(again.column("lead_id").to_pylist()) == sorted(
        table.column("lead_id").to_pylist()
    )


def test_resolved_as_of_reads_the_one_row_and_names_the_fix_otherwise():
    import pyarrow as pa
    import pytest

    from leadscore.dbt_inputs import resolved_as_of

    con = duckdb.connect()
    one = con.sql("select timestamp '2026-07-01' as as_of")
    assert resolved_as_of(one) == datetime(2026, 7, 1)
    assert resolved_as_of(one.to_arrow_table()) == datetime(2026, 7, 1)
    with pytest.raises(ValueError, match="int_as_of_resolved has 0 rows"):
        resolved_as_of(pa.table({"as_of": pa.array([], pa.timestamp("us"))}))
