"""Hand-made raw CRM tables for edge-case tests: small, explicit, every value visible."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

TS = pa.timestamp("us")

SCHEMAS: dict[str, pa.Schema] = {
    "leads": pa.schema(
        [
            ("lead_id", pa.string()),
            ("created_at", TS),
            ("lead_source", pa.string()),
            ("company_size", pa.int64()),
            ("industry", pa.string()),
            ("country", pa.string()),
            ("job_title", pa.string()),
            ("email", pa.string()),
        ]
    ),
    "activities": pa.schema(
        [
            ("activity_id", pa.string()),
            ("lead_id", pa.string()),
            ("occurred_at", TS),
            ("activity_type", pa.string()),
        ]
    ),
    "opportunities": pa.schema(
        [
            ("opportunity_id", pa.string()),
            ("lead_id", pa.string()),
            ("created_at", TS),
            ("closed_at", TS),
            ("is_won", pa.bool_()),
            ("amount", pa.float64()),
        ]
    ),
    "lead_status_changes": pa.schema(
        [
            ("lead_id", pa.string()),
            ("status", pa.string()),
            ("changed_at", TS),
        ]
    ),
}


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def default_leads() -> list[dict]:
    return [
        {
            "lead_id": "L1",
            "created_at": dt("2026-01-01 09:00"),
            "lead_source": "Organic",
            "company_size": 250,
            "industry": "Software",
            "country": "US",
            "job_title": "VP of Marketing",
            "email": "ann@acme.io",
        },
        {
            "lead_id": "L2",
            "created_at": dt("2026-02-01 10:00"),
            "lead_source": "paid_search",
            "company_size": None,
            "industry": "Select",
            "country": " de ",
            "job_title": "unknown",
            "email": "bob@gmail.com",
        },
        {
            "lead_id": "L3",
            "created_at": dt("2026-03-01 11:00"),
            "lead_source": "referral",
            "company_size": 5000,
            "industry": "finance",
            "country": "uk",
            "job_title": "CFO",
            "email": "cat@bank.co.uk",
        },
    ]


def write_raw(
    raw_dir: Path,
    tables: dict[str, list[dict]] | None = None,
    skip: tuple[str, ...] = (),
    schemas: dict[str, pa.Schema] | None = None,
) -> Path:
    """Write the four source tables as Parquet (rows default to a tiny consistent set;
    missing tables in `tables` are written empty). `skip` leaves a file out entirely."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    rows = {"leads": default_leads(), **(tables or {})}
    for name, schema in {**SCHEMAS, **(schemas or {})}.items():
        if name in skip:
            continue
        data = rows.get(name, [])
        table = pa.Table.from_pylist(data, schema=schema)
        pq.write_table(table, raw_dir / f"{name}.parquet")
    return raw_dir
