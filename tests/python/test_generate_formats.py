"""leadscore generate --export-format: the same facts written as real exports write them."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from leadscore.demo.generate.formats import SIZE_RANGES


def _generate(out: Path, export_format: str) -> Path:
    raw = out / export_format / "raw"
    subprocess.run(
        [sys.executable, "-m", "leadscore.generate", "--leads", "400", "--seed", "5",
         "--end-date", "2026-09-30", "--out", str(raw), "--export-format", export_format],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return raw


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("formats")
    return {f: _generate(out, f) for f in ("parquet", "parquet_tz", "excel_csv")}


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


def test_excel_csv_holds_the_same_facts_as_text_a_spreadsheet_writes(exports):
    leads = pq.read_table(exports["parquet"] / "leads.parquet").to_pylist()
    opps = pq.read_table(exports["parquet"] / "opportunities.parquet").to_pylist()
    xl_leads = _csv(exports["excel_csv"] / "leads.csv")
    xl_opps = _csv(exports["excel_csv"] / "opportunities.csv")
    assert not (exports["excel_csv"] / "leads.parquet").exists()
    assert [r["lead_id"] for r in xl_leads] == [r["lead_id"] for r in leads]
    offsets = {r["created_at"][19:] for r in xl_leads}
    assert {"Z", "+05:30", "-05:00"} <= offsets  # offsets and Z notation both occur
    assert [_instant(x["created_at"]) for x in xl_leads] == [r["created_at"] for r in leads]
    ranges = 0
    for x, r in zip(xl_leads, leads, strict=True):
        text, size = x["company_size"], r["company_size"]
        if size is None:
            assert text == ""
        elif "-" in text:
            low, high = map(int, text.split("-"))
            assert (low, high) in SIZE_RANGES and low <= size <= high
            ranges += 1
        else:
            assert text == f"{size:,}"
    assert 0 < ranges < len(leads) / 4
    assert any("," in x["company_size"] for x in xl_leads)  # 1,000 and up
    for x, r in zip(xl_opps, opps, strict=True):
        assert x["is_won"] == {True: "Y", False: "N", None: ""}[r["is_won"]]
        assert x["amount"] == ("" if r["amount"] is None else f"${r['amount']:,.2f}")


def test_parquet_tz_holds_the_same_instants_as_timestamptz(exports):
    for name in ("leads", "activities", "opportunities", "lead_status_changes"):
        naive = pq.read_table(exports["parquet"] / f"{name}.parquet")
        aware = pq.read_table(exports["parquet_tz"] / f"{name}.parquet")
        for field in aware.schema:
            if field.type != naive.schema.field(field.name).type:
                assert str(field.type) == "timestamp[us, tz=UTC]"
                assert (
                    aware.column(field.name)
                    .cast(naive.schema.field(field.name).type)
                    .equals(naive.column(field.name))
                )
        assert aware.num_rows == naive.num_rows
