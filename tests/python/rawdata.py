"""Hand-made raw CRM tables for edge-case tests: small, explicit, every value visible."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from leadscore.demo.generate import SCHEMAS as GENERATOR_SCHEMAS

# the source contract's schemas, as the generator writes them
SCHEMAS: dict[str, pa.Schema] = {
    name: schema for name, schema in GENERATOR_SCHEMAS.items() if name != "lead_truth"
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
