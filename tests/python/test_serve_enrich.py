"""leadscore.serve.enrich: one lead's int_leads_enriched row, computed in Python.

Unit tests on hand-made leads whose expected values were derived by reading
base_crm__leads.sql, stg_crm__leads.sql, int_leads_enriched.sql and their macros, with the
project's real seeds (seeds/*.csv, typed as DuckDB loads them); DuckDB's trim / lower
against DuckDB itself; and the parity test: every lead of a real build.
"""

from __future__ import annotations

import csv
import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import PROJECT_DIR, DbtRun

from leadscore.serve.enrich import LeadEnricher, duckdb_lower, duckdb_trim

SEEDS = ("company_size_bands", "country_regions", "free_mail_domains", "job_title_patterns")
# the seeds' column_types (seeds/_seeds.yml): empty cells are NULL
SEED_TYPES: dict[str, type] = {
    "min_employees": float, "max_employees": float, "midpoint_employees": float,
    "band_order": int, "level": int, "priority": int,
}  # fmt: skip
ENRICHED_COLUMNS = [
    "lead_id", "created_at", "lead_source", "company_size", "company_size_band",
    "company_size_log", "company_size_band_midpoint", "industry", "country", "region",
    "seniority", "seniority_level", "job_function", "email_domain", "is_corporate_email",
    "created_day_of_week", "created_hour",
]  # fmt: skip
CREATED = datetime(2025, 3, 2, 23, 30)  # a Sunday


def _seed_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="", encoding="utf-8") as f:
        return [
            {k: (None if v == "" else SEED_TYPES.get(k, str)(v)) for k, v in row.items()}
            for row in csv.DictReader(f)
        ]


@pytest.fixture(scope="module")
def enricher() -> LeadEnricher:
    return LeadEnricher({name: _seed_rows(PROJECT_DIR / "seeds" / f"{name}.csv") for name in SEEDS})


def _lead(**fields: Any) -> dict[str, Any]:
    return {"lead_id": "L-1", "created_at": CREATED, **fields}


def test_columns_in_int_leads_enriched_order(enricher: LeadEnricher) -> None:
    assert enricher.columns == ENRICHED_COLUMNS
    assert list(enricher.enrich(_lead())) == ENRICHED_COLUMNS


def test_empty_lead_is_all_null_but_key_and_time(enricher: LeadEnricher) -> None:
    row = enricher.enrich(_lead())
    assert row["lead_id"] == "L-1"
    assert (row["created_at"], row["created_day_of_week"], row["created_hour"]) == (CREATED, 7, 23)
    assert all(row[c] is None for c in ENRICHED_COLUMNS[2:-2])


def test_categories_trimmed_lowercased_placeholders_null(enricher: LeadEnricher) -> None:
    row = enricher.enrich(
        _lead(lead_source="  Referral ", industry="\u00a0SOFTWARE\u00a0", country=" USA ",
              job_title="N/A")
    )  # fmt: skip
    assert row["lead_source"] == "referral"
    assert row["industry"] == "software"  # DuckDB's trim strips the no-break space
    assert (row["country"], row["region"]) == ("usa", "north_america")
    assert row["seniority"] is None and row["job_function"] is None


def test_duckdb_trim_keeps_tabs_and_lower_has_no_final_sigma(enricher: LeadEnricher) -> None:
    assert enricher.enrich(_lead(industry="\tRetail "))["industry"] == "\tretail"
    assert enricher.enrich(_lead(industry="ΟΔΟΣ"))["industry"] == "οδοσ"
    assert enricher.enrich(_lead(industry="İZMİR"))["industry"] == "izmir"


@pytest.mark.parametrize(
    ("country", "region"),
    [("Germany", "europe"), ("Atlantis", "other"), (None, None), ("unknown", None)],
)
def test_region(enricher: LeadEnricher, country: str | None, region: str | None) -> None:
    assert enricher.enrich(_lead(country=country))["region"] == region


@pytest.mark.parametrize(
    ("size", "band", "midpoint"),
    [
        (1, "1-10", 5.0), (10, "1-10", 5.0), (10.5, "1-10", 5.0), (11, "11-50", 30.0),
        (200, "51-200", 120.0), (201, "201-1000", 500.0), (1000, "201-1000", 500.0),
        (1000.5, "201-1000", 500.0), (1001, "1001-5000", 2500.0), (5000, "1001-5000", 2500.0),
        (5001, "5000+", 10000.0), (250000, "5000+", 10000.0), ("42", "11-50", 30.0),
        (0.5, None, None),  # positive, so kept, but below every band
    ],
)  # fmt: skip
def test_size_band_edges(enricher: LeadEnricher, size: Any, band: str, midpoint: float) -> None:
    row = enricher.enrich(_lead(company_size=size))
    assert row["company_size"] == float(size) and isinstance(row["company_size"], float)
    assert (row["company_size_band"], row["company_size_band_midpoint"]) == (band, midpoint)
    assert row["company_size_log"] == math.log(float(size))


@pytest.mark.parametrize("size", [0, -4, None, "unknown", " ", ""])
def test_size_not_positive_or_unknown_is_null(enricher: LeadEnricher, size: Any) -> None:
    row = enricher.enrich(_lead(company_size=size))
    assert row["company_size"] is None and row["company_size_band"] is None
    assert row["company_size_log"] is None and row["company_size_band_midpoint"] is None


@pytest.mark.parametrize(
    ("title", "seniority", "level", "function"),
    [
        ("VP of Sales", "vp", 5, "sales"),
        # senior (priority 6) and director (4) match: the lowest priority wins
        ("Senior Director of Marketing", "director", 4, "marketing"),
        ("Chief Revenue Officer", "c_level", 6, "sales"),
        ("CEO & Founder", "c_level", 6, "executive"),
        ("Marketing Intern", "junior", 0, "marketing"),
        ("CTO", "c_level", 6, "engineering"),
        ("IT Manager", "manager", 3, "it"),
        ("Consultant", "individual", 1, "other"),  # only the catch-all '.' patterns
        ("Directorá", "director", 4, "other"),  # RE2's \b is ASCII: á is no word character
        ("  ", None, None, None),  # empty after trim: a placeholder
    ],
)
def test_title_patterns(
    enricher: LeadEnricher, title: str, seniority: str, level: int, function: str
) -> None:
    row = enricher.enrich(_lead(job_title=title))
    assert (row["seniority"], row["seniority_level"], row["job_function"]) == (
        seniority, level, function,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("email", "domain", "corporate"),
    [
        (" John.Doe@Gmail.COM ", "gmail.com", False),
        ("ana@Acme.io", "acme.io", True),
        ("a@b@c.com", "b", True),  # split_part(email, '@', 2)
        ("a@@b", "", True),  # matches '%_@_%'; the domain is the empty text between the @s
        ("not-an-email", None, None),
        ("@acme.io", None, None),
        ("ana@", None, None),
        ("   ", None, None),
        (None, None, None),
    ],
)
def test_email_domain(
    enricher: LeadEnricher, email: str | None, domain: str | None, corporate: bool | None
) -> None:
    row = enricher.enrich(_lead(email=email))
    assert (row["email_domain"], row["is_corporate_email"]) == (domain, corporate)


def test_tz_aware_created_at_is_converted_to_utc(enricher: LeadEnricher) -> None:
    aware = datetime(2025, 3, 3, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    row = enricher.enrich(_lead(created_at=aware))
    assert row["created_at"] == CREATED and row["created_at"].tzinfo is None
    assert (row["created_day_of_week"], row["created_hour"]) == (7, 23)
    monday = enricher.enrich(_lead(created_at=datetime(2025, 3, 3, 0, 5, tzinfo=UTC)))
    assert (monday["created_day_of_week"], monday["created_hour"]) == (1, 0)


@pytest.mark.parametrize(
    ("lead_id", "key"),
    [(" L-1 ", "L-1"), ("42.0", "42"), (42, "42"), ("00042", "00042"), ("L-1.50", "L-1.50")],
)
def test_lead_id_clean_key(enricher: LeadEnricher, lead_id: Any, key: str) -> None:
    assert enricher.enrich(_lead(lead_id=lead_id))["lead_id"] == key


def test_case_insensitive_ids() -> None:
    seeds = {name: [] for name in SEEDS}
    assert LeadEnricher(seeds, case_insensitive_ids=True).enrich(_lead())["lead_id"] == "l-1"


def test_custom_attributes() -> None:
    enricher = LeadEnricher({name: [] for name in SEEDS}, ["Plan"], ["ARR", "seats"])
    assert enricher.columns[-3:] == ["plan", "arr", "seats"]
    row = enricher.enrich(_lead(Plan=" PRO ", ARR="1200.5", seats=-3))
    assert (row["plan"], row["arr"], row["seats"]) == ("pro", 1200.5, -3.0)
    assert enricher.enrich(_lead(plan="N/A", arr=None))["plan"] is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"lead_id": None}, "lead_id"),
        ({"lead_id": "  "}, "lead_id"),
        ({"company_size": "abc"}, "company_size: expected a finite number"),
        ({"company_size": "51-200"}, "company_size"),
        ({"company_size": "1,000"}, "company_size"),
        ({"company_size": True}, "company_size"),
        ({"company_size": float("nan")}, "company_size"),
        ({"created_at": "2025-03-02"}, "created_at: expected a datetime"),
        ({"created_at": None}, "created_at"),
        ({"created_at": datetime(2999, 1, 1)}, "created_at: .* is in the future"),
        ({"industry": 5}, "industry: expected a string"),
        ({"email": ["a@b.c"]}, "email"),
    ],
)
def test_errors_name_the_field(
    enricher: LeadEnricher, fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        enricher.enrich(_lead(**fields))


def test_missing_lead_id_and_created_at_are_errors(enricher: LeadEnricher) -> None:
    with pytest.raises(ValueError, match="lead_id"):
        enricher.enrich({"created_at": CREATED})
    with pytest.raises(ValueError, match="created_at"):
        enricher.enrich({"lead_id": "L-1"})


def test_duckdb_text_functions_match_duckdb() -> None:
    """duckdb_trim / duckdb_lower against DuckDB on every code point (and a final sigma)."""
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    con = duckdb.connect()
    con.execute("create table t as select unnest($1) as ch", [chars])
    rows = con.execute("select ch, lower(ch), trim(ch || 'x' || ch) from t").fetchall()
    assert [r for r in rows if (duckdb_lower(r[0]), duckdb_trim(r[0] + "x" + r[0])) != r[1:]] == []
    assert con.execute("select lower('ΟΔΟΣ')").fetchone() == (duckdb_lower("ΟΔΟΣ"),)


def _dicts(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.mark.e2e
def test_parity_with_int_leads_enriched(small_build: DbtRun) -> None:
    """enrich(row) of every stg_crm__leads row equals its int_leads_enriched row, exactly."""
    con = duckdb.connect(str(small_build.db_path), read_only=True)
    try:
        enricher = LeadEnricher({name: _dicts(con, f"select * from {name}") for name in SEEDS})
        staged = _dicts(con, "select * from stg_crm__leads order by lead_id")
        expected = {r["lead_id"]: r for r in _dicts(con, "select * from int_leads_enriched")}
    finally:
        con.close()
    assert len(staged) == len(expected) > 2000
    mismatches = []
    for lead in staged:
        got, want = enricher.enrich(lead), expected[lead["lead_id"]]
        if list(got) != list(want) or got != want:
            diff = {
                k: (got.get(k), want.get(k)) for k in {*got, *want} if got.get(k) != want.get(k)
            }
            mismatches.append(f"{lead['lead_id']}: {diff} (got, want)")
    assert not mismatches, f"{len(mismatches)} of {len(staged)} leads differ:\n" + "\n".join(
        mismatches[:10]
    )
