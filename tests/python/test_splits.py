"""Purged, lead-disjoint splits on a real build: no lead in two splits, no label window of one
split reaching into the next, and the dbt tests that guard this do fail on a leak."""

from __future__ import annotations

import re

import duckdb
import pytest

pytestmark = pytest.mark.e2e

WINDOW_DAYS = 90  # var conversion_window_days of the build


def _compiled(small_build, name: str) -> str:
    target = small_build.db_path.parent / "target" / "compiled" / "leadscore"
    return (target / "tests" / "singular" / f"{name}.sql").read_text()


def test_each_lead_sits_in_one_split_and_label_windows_stop_before_the_next(small_build):
    rows = small_build.query(
        """
        select split, count(*), count(distinct lead_id), min(snapshot_at),
               max(snapshot_at + interval 90 day), sum(is_converted::int)
        from training_snapshots where split in ('train', 'valid', 'test', 'purged')
        group by split
        """
    )
    stats = {r[0]: r[1:] for r in rows}
    assert {"train", "valid", "test", "purged"} <= set(stats)  # the purge is active here
    for split in ("train", "valid", "test"):
        assert stats[split][0] > 0 and stats[split][4] > 0, split
    assert stats["train"][3] <= stats["valid"][2]
    assert stats["valid"][3] <= stats["test"][2]
    shared = small_build.scalar(
        """
        select count(*) from (
            select lead_id from training_snapshots where split in ('train', 'valid', 'test')
            group by lead_id having count(distinct split) > 1
        )
        """
    )
    assert shared == 0
    # a lead is in the split of its first snapshot: every row of it is there or purged
    misplaced = small_build.scalar(
        """
        select count(*) from training_snapshots as s
        inner join (
            select lead_id, min(split) as split from training_snapshots
            where split in ('train', 'valid', 'test') group by lead_id
        ) as l using (lead_id)
        where s.split not in (l.split, 'purged', 'unlabelled')
        """
    )
    assert misplaced == 0


@pytest.mark.parametrize(
    ("test_name", "leak"),
    [
        # rows the embargo purged, put back into train: their windows reach into valid
        ("training_splits_are_embargoed", "case when split = 'purged' then 'train' else split end"),
        # the first test lead's rows copied into valid as well
        ("training_splits_are_lead_disjoint", None),
    ],
)
def test_the_split_tests_fail_on_a_leak(small_build, test_name, leak):
    sql = _compiled(small_build, test_name)
    relation = re.search(r'"[^"]+"\."[^"]+"\."training_snapshots"', sql).group(0)
    con = duckdb.connect(str(small_build.db_path), read_only=True)
    try:
        assert con.execute(sql).fetchall() == []  # passes on the build as it is
        if leak is None:
            leaky = (
                f"(select * from {relation} union all "
                f"select * replace ('valid' as split) from {relation} where lead_id = "
                f"(select min(lead_id) from {relation} where split = 'test'))"
            )
        else:
            leaky = f"(select * replace ({leak} as split) from {relation})"
        assert con.execute(sql.replace(relation, leaky)).fetchall() != []
    finally:
        con.close()
