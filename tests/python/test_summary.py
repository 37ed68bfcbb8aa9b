"""The build summary printed by `make demo`."""

from __future__ import annotations

from pathlib import Path

import duckdb

from leadscore.demo.summary import main, render


def _db(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create table stg_crm__leads as select range as lead_id from range(3)")
    con.execute(
        "create table stg_crm__rejected_rows as select * from (values "
        "('activities', 'A1', 'orphan_lead_id', null), "
        "('activities', 'A2', 'orphan_lead_id', null), "
        "('leads', null, 'null_key', null)) t(source_table, record_key, rejection_reason, ts)"
    )
    con.close()
    return path


def test_render_counts_tables_and_quarantine(tmp_path: Path):
    text = render(_db(tmp_path / "x.duckdb"), tmp_path / "exports")
    assert "stg_crm__leads" in text and "3 rows" in text
    assert "training_snapshots" not in text  # absent tables are skipped
    lines = [line.split() for line in text.splitlines()]
    assert ["activities", "orphan_lead_id", "2"] in lines
    assert ["leads", "null_key", "1"] in lines


def test_the_operating_threshold_is_chosen_on_valid_and_shown_with_its_test_figures(tmp_path):
    db = _db(tmp_path / "x.duckdb")
    con = duckdb.connect(str(db))
    con.execute(
        "create table score_thresholds as select * from (values "
        "(20, 0.30, 0.70, 0.28, 0.66, false), (40, 0.50, 0.55, 0.35, 0.50, true)) "
        "t(threshold_score, valid_precision, valid_recall, precision, recall, is_recommended)"
    )
    con.close()
    text = render(db, tmp_path / "exports")
    assert (
        "operating threshold: score >= 40 (score_thresholds), chosen on valid (precision 50%, "
        "recall 55%); on test, what to expect: precision 35%, recall 50%"
    ) in text


def test_exports_are_listed_as_they_are(tmp_path: Path):
    db = _db(tmp_path / "x.duckdb")
    cards = tmp_path / "exports" / "model_cards"
    cards.mkdir(parents=True)
    (cards / "m0001.md").write_text("# card")
    assert "model_cards/m0001.md" in render(db, tmp_path / "exports")
    assert "Exports" not in render(db, tmp_path / "none")


def test_missing_database_says_how_to_make_one(tmp_path: Path, capsys):
    assert main(["--db", str(tmp_path / "none.duckdb")]) == 1
    assert "make demo" in capsys.readouterr().err
