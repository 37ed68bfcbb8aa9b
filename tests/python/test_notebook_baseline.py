"""The plain-notebook baseline harness (benchmarks.notebook_baseline) on hand-made data whose
every lead sits at an edge of the protocol's windows (as_of 2026-07-01, window 90 days)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from benchmarks import notebook_baseline as nb

AS_OF = datetime(2026, 7, 1)
PROTOCOL = nb.Protocol(AS_OF)  # newest: [2026-06-03, 2026-07-01); training: before 2026-04-02


def _lead(lead_id: str, created: str, basket: float, device: str | None = "desktop") -> dict:
    return {
        "lead_id": lead_id,
        "created_at": pd.Timestamp(created),
        "lead_source": "organic",
        "country": "Germany",
        "basket_value": basket,
        "time_on_site_seconds": None if basket < 18 else int(basket * 2),
        "device": device,
    }


def _raw_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    leads, opps = [], []
    # training: 20 older leads, a big basket converts 10 days after sign-up, a small one never
    for i in range(1, 21):
        created = pd.Timestamp("2025-10-01") + pd.Timedelta(days=5 * i)
        positive = i % 2 == 0
        device = "mobile" if i % 4 in (0, 1) else "tablet"  # no signal
        leads.append(_lead(f"T{i:02d}", str(created), 150.0 + i if positive else 20.0 + i, device))
        if positive:
            opps.append((f"T{i:02d}", created + pd.Timedelta(days=10)))
    leads += [
        _lead("T21", "2026-01-05", 25.0),  # converts 105 days after sign-up: negative
        _lead("T22", "2026-04-01 23:00", 160.0),  # last training day, converts 9 days later
        _lead("T23", "2026-04-02 00:00", 170.0),  # as_of - 90 days: too new for training
        _lead("M1", "2026-05-20", 180.0),  # neither training nor newest
        # the newest leads
        _lead("N1", "2026-06-21", 200.0),  # opportunity 5 days after as_of: positive
        _lead("N2", "2026-06-20", 190.0),  # opportunity before as_of: not open, excluded
        _lead("N3", "2026-06-15", 20.0),  # opportunity 100 days after as_of: negative
        _lead("N4", "2026-06-03 00:00", 15.0, None),  # as_of - 28 days exactly; never converts
        _lead("N5", "2026-07-01 00:00", 210.0),  # created at as_of: not yet a lead
        _lead("N6", "2026-06-30", 175.0, "smartwatch"),  # opportunity at as_of: positive
        _lead("N7", "2026-06-25", 30.0),  # opportunity at as_of + 90 days: negative
        _lead("Z1", "2026-10-05 12:00", 50.0),  # the latest sign-up: data end 2026-10-06
    ]
    opps += [
        ("T21", pd.Timestamp("2026-04-20")),
        ("T22", pd.Timestamp("2026-04-10 23:00")),
        ("M1", pd.Timestamp("2026-07-10")),
        ("N1", pd.Timestamp("2026-07-06")),
        ("N2", pd.Timestamp("2026-06-25")),
        ("N3", pd.Timestamp("2026-10-09")),
        ("N6", pd.Timestamp("2026-07-01 00:00")),
        ("N7", pd.Timestamp("2026-09-29 00:00")),
    ]
    opportunities = pd.DataFrame(opps, columns=["lead_id", "created_at"])
    opportunities.insert(0, "opportunity_id", [f"O{i}" for i in range(len(opportunities))])
    return pd.DataFrame(leads), opportunities


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    leads, opportunities = _raw_tables()
    leads.to_parquet(raw / "leads.parquet")
    opportunities.to_parquet(raw / "opportunities.parquet")
    return raw


def _lead_scores_db(path: Path, as_of: datetime = AS_OF) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create table lead_scores (lead_id varchar, as_of timestamp, "
                "conversion_probability double)")  # fmt: skip
    rows = [("N1", 0.9), ("N3", 0.2), ("N6", 0.1), ("M1", 0.5)]  # N4, N7 not scored
    con.executemany("insert into lead_scores values (?, ?, ?)", [(i, as_of, p) for i, p in rows])
    con.close()
    return path


def test_newest_leads_are_open_leads_of_the_last_28_days_labelled_in_the_window(raw_dir):
    newest = nb.newest_leads(nb.load_raw(raw_dir), PROTOCOL)
    labels = dict(zip(newest.lead_id, newest.label, strict=True))
    # N2 converted before as_of, N5 is created at as_of, M1 is older than 28 days
    assert labels == {"N1": 1, "N3": 0, "N4": 0, "N6": 1, "N7": 0}


def test_training_set_is_older_leads_labelled_within_the_window_of_their_creation(raw_dir):
    train = nb.training_leads(nb.load_raw(raw_dir), PROTOCOL)
    labels = dict(zip(train.lead_id, train.label, strict=True))
    assert set(labels) == {f"T{i:02d}" for i in range(1, 23)}  # not T23, M1 or the newest
    assert labels["T21"] == 0  # its opportunity came 105 days after sign-up
    assert labels["T22"] == 1
    assert sum(labels.values()) == 11


def test_data_end_and_as_of_too_close_to_it(raw_dir):
    raw = nb.load_raw(raw_dir)
    assert raw.data_end == datetime(2026, 10, 6)
    assert nb.default_as_of(raw) == datetime(2026, 7, 8)
    nb.check_as_of(raw, nb.Protocol(datetime(2026, 7, 8)))
    with pytest.raises(ValueError, match=r"2026-07-09 is less than 90 days before the data end "
                       r"2026-10-06.*choose 2026-07-08 or earlier"):  # fmt: skip
        nb.check_as_of(raw, nb.Protocol(datetime(2026, 7, 9)))


def test_feature_columns_are_the_static_columns_of_leads():
    leads, _ = _raw_tables()
    assert nb.feature_columns(leads) == (
        ["lead_source", "country", "device"],
        ["basket_value", "time_on_site_seconds"],
    )
    b2b = pd.DataFrame(
        {"lead_id": ["a"], "created_at": [AS_OF], "lead_source": ["x"], "company_size": [10],
         "industry": ["Software"], "email": ["a@b.c"]}
    )  # fmt: skip
    assert nb.feature_columns(b2b) == (["lead_source", "industry"], ["company_size"])


def test_evaluate_scores_the_same_newest_leads_three_ways(raw_dir, tmp_path):
    db = _lead_scores_db(tmp_path / "scores.duckdb")
    result = nb.evaluate(nb.load_raw(raw_dir), PROTOCOL, db)
    assert (result.n_train, result.n_train_positives) == (22, 11)
    assert (result.n_newest, result.n_newest_positives) == (5, 2)
    # N1 and N6 (positive) and N3 (negative) are in lead_scores; N4 and N7 are not
    assert (result.n_scored, result.n_scored_positives) == (3, 2)
    assert result.leadscore_auc == 0.5  # 0.9 > 0.2 but 0.1 < 0.2
    # basket value separates the classes in training and among the newest leads (N6's
    # unseen device is ignored, N4's missing values imputed)
    assert result.logreg_auc == 1.0
    assert result.xgboost_auc == 1.0
    assert result.logreg_auc_scored == 1.0
    assert result.features == (
        "lead_source", "country", "device", "basket_value", "time_on_site_seconds"
    )  # fmt: skip
    calendar = nb.evaluate(nb.load_raw(raw_dir), nb.Protocol(AS_OF, calendar_features=True))
    assert calendar.features[-2:] == ("created_month", "created_weekday")
    assert calendar.leadscore_auc is None and calendar.n_scored is None


def test_lead_scores_of_another_as_of_is_rejected(raw_dir, tmp_path):
    db = _lead_scores_db(tmp_path / "scores.duckdb", as_of=datetime(2026, 10, 6))
    with pytest.raises(ValueError, match=r"is as of 2026-10-06 00:00, not 2026-07-01"):
        nb.evaluate(nb.load_raw(raw_dir), PROTOCOL, db)


def test_cli_prints_the_table(raw_dir, tmp_path, capsys):
    db = _lead_scores_db(tmp_path / "scores.duckdb")
    code = nb.main(["--raw", str(raw_dir), "--db", str(db), "--as-of", "2026-07-01"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "as_of 2026-07-01 (data end 2026-10-06, window 90 d)" in out
    lines = {line.split("  ")[0]: line.split() for line in out.splitlines()}
    assert lines["leadscore lead_scores"][-3:] == ["0.500", "3", "2"]
    assert lines["notebook logistic regr."][-3:] == ["1.000", "5", "2"]
    assert nb.main(["--raw", str(raw_dir), "--as-of", "2026-08-01"]) == 2
    assert "choose 2026-07-08 or earlier" in capsys.readouterr().err
