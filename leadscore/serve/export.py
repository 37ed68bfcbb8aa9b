"""The serving bundle: what ``leadscore serve`` loads, written by the dbt Python model
``online_state`` at the end of every build that scores (never the DuckDB file, which dbt locks
while it builds).

Layout under ``<export_dir>/online/``: one folder per export, ``<as_of>-<token>/``, holding
- ``bundle.json``: as_of, the scoring model (the registry's JSON artifact of the model that
  scored this as_of, by ``registry.scoring_model_of``; or the rule fallback's calibration),
  the build's vars that decide features and tiers (``OnlineSettings``), the seeds the online
  enrichment, rules, tiers and actions read, the reason labels, the deal values, and the
  capacity cut-off of today's ranking (the lead ranked weekly_sales_capacity in lead_scores);
- ``leads.arrow``: the open leads (those of lead_features) with their int_leads_enriched
  columns, sorted by key hash, and the range of their rows in ``activities.arrow``;
- ``activities.arrow``: their activities before as_of (lead row, time, type code, id);
- ``domain_wins.arrow``: int_domain_wins_accumulated for the open leads' domains;
- ``features.arrow``: no rows, the schema of lead_features (column order and types).
Arrow IPC files, uncompressed, so the server memory-maps them (DECISIONS.md "The online
state is memory-mapped Arrow"). ``CURRENT`` names the folder to serve and is replaced
atomically after the folder is complete; the server swaps on ``POST /reload`` or when it sees
CURRENT change. Older folders beyond KEEP_VERSIONS are deleted. A run for an as_of before
the one being served (a backfill) exports nothing: the service serves the latest as_of.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from leadscore.dbt_inputs import resolved_as_of
from leadscore.exports import EXPORT_DIR_MODE, EXPORT_FILE_MODE, relation_name
from leadscore.registry import entries_of, scoring_model_of
from leadscore.scoring import LABELLED_SPLITS, labelled_rows, no_model_note, rule_calibration
from leadscore.serve.config import (
    CURRENT_FILE,
    FORMAT_VERSION,
    KEEP_VERSIONS,
    ONLINE_DIR,
    OnlineSettings,
)
from leadscore.serve.keys import key_hashes

SEEDS = (
    "company_size_bands",
    "country_regions",
    "free_mail_domains",
    "job_title_patterns",
    "scoring_rules",
    "rule_grades",
    "recommended_actions",
)
INPUTS = (
    "int_as_of_resolved",
    "lead_features",
    "int_leads_enriched",
    "stg_crm__activities",
    "int_domain_wins_accumulated",
    "model_registry",
    "lead_scores",
    "feature_labels",
    "int_deal_values",
    "int_labelled_snapshots",
    *SEEDS,
)
MANIFEST_SCHEMA = pa.schema(
    [
        ("version", pa.string()),
        ("file", pa.string()),
        ("n_rows", pa.int64()),
        ("n_bytes", pa.int64()),
        ("as_of", pa.timestamp("us")),
        ("model_version", pa.string()),
    ]
)


def _rows(rel: duckdb.DuckDBPyRelation) -> list[dict[str, Any]]:
    return rel.to_arrow_table().to_pylist()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} into bundle.json")


def _sorted_by_key(table: pa.Table, key: str, then: Sequence[str] = ()) -> pa.Table:
    """``table`` with a key_hash column, sorted by (key_hash, key, *then): rows of one key are
    contiguous (keys.rows_of)."""
    hashes = key_hashes(table.column(key).to_pylist())
    table = table.append_column("key_hash", pa.array(hashes, pa.uint64()))
    order = [("key_hash", "ascending"), (key, "ascending")] + [(c, "ascending") for c in then]
    return table.sort_by(order)


def _leads(con: duckdb.DuckDBPyConnection, refs: Mapping[str, Any]) -> pa.Table:
    enriched, features = refs["int_leads_enriched"], refs["lead_features"]
    sql = (
        f"select e.* from ({enriched.sql_query()}) as e "
        f"where e.lead_id in (select f.lead_id from ({features.sql_query()}) as f)"
    )
    return _sorted_by_key(con.sql(sql).to_arrow_table(), "lead_id")


def _activities(
    con: duckdb.DuckDBPyConnection,
    refs: Mapping[str, Any],
    leads: pa.Table,
    as_of: datetime,
    online: OnlineSettings,
) -> tuple[pa.Table, pa.Table]:
    """The open leads' activities before as_of, by lead row then time, and the leads table
    with each lead's range of rows (act_start, act_end)."""
    con.register(
        "online_lead_rows",
        pa.table(
            {
                "lead_id": leads.column("lead_id"),
                "lead_row": pa.array(range(leads.num_rows), pa.int32()),
            }
        ),
    )
    codes = pa.table(
        {
            "activity_type": list(online.activity_types),
            "type_code": pa.array(range(len(online.activity_types)), pa.int8()),
        }
    )
    con.register("online_type_codes", codes)
    try:
        table = con.execute(
            f"select r.lead_row, a.occurred_at, c.type_code, a.activity_id "
            f"from ({refs['stg_crm__activities'].sql_query()}) as a "
            "inner join online_lead_rows as r on a.lead_id = r.lead_id "
            "inner join online_type_codes as c on a.activity_type = c.activity_type "
            "where a.occurred_at < ?",
            [as_of],
        ).to_arrow_table()
        # sorted here: the build's DuckDB runs with preserve_insertion_order = false, and its
        # Arrow results need not keep an ORDER BY's order
        table = table.sort_by(
            [("lead_row", "ascending"), ("occurred_at", "ascending"), ("activity_id", "ascending")]
        )
    finally:
        con.unregister("online_lead_rows")
        con.unregister("online_type_codes")
    counts = np.bincount(table.column("lead_row").to_numpy(), minlength=leads.num_rows)
    ends = np.cumsum(counts)
    leads = leads.append_column("act_start", pa.array(ends - counts, pa.int64()))
    leads = leads.append_column("act_end", pa.array(ends, pa.int64()))
    return table, leads


def _domain_wins(
    con: duckdb.DuckDBPyConnection, refs: Mapping[str, Any], leads: pa.Table, as_of: datetime
) -> pa.Table:
    """int_domain_wins_accumulated before as_of for the domains of the open leads (the
    leads table already read: no second scan of int_leads_enriched)."""
    con.register("online_lead_domains", leads.select(["email_domain"]))
    try:
        table = con.execute(
            "select w.email_domain, w.closed_at, cast(w.cum_n_won as bigint) as cum_n_won, "
            f"w.cum_won_amount from ({refs['int_domain_wins_accumulated'].sql_query()}) as w "
            "where w.email_domain in (select d.email_domain from online_lead_domains as d) "
            "and w.closed_at < ?",
            [as_of],
        ).to_arrow_table()
    finally:
        con.unregister("online_lead_domains")
    return _sorted_by_key(table, "email_domain", then=["closed_at"])


def _cutoff(refs: Mapping[str, Any], capacity: int) -> dict[str, Any] | None:
    """The ranking key of the lead at priority_rank = capacity (None when fewer leads)."""
    rows = _rows(
        refs["lead_scores"]
        .filter(f"priority_rank = {int(capacity)}")
        .select("expected_value, logit, rule_score, lead_id")
    )
    return rows[0] if rows else None


def _model(refs: Mapping[str, Any], as_of: datetime) -> dict[str, Any]:
    entries = entries_of(refs["model_registry"].to_arrow_table())
    chosen, note = scoring_model_of(entries, as_of)
    if chosen is not None:
        return {
            "model_version": chosen.model_version,
            "model_type": chosen.model_type,
            "trained_at": chosen.trained_at,
            "data_as_of": chosen.data_as_of,
            "note": note,
            "artifact": json.loads(chosen.artifact_json),
            "rule_calibration": None,
        }
    calibrator = rule_calibration(labelled_rows(refs["int_labelled_snapshots"]), LABELLED_SPLITS)
    return {
        "model_version": "rules",
        "model_type": "rules",
        "trained_at": None,
        "data_as_of": None,
        "note": note or no_model_note(entries),
        "artifact": None,
        "rule_calibration": calibrator.to_dict() if calibrator else None,
    }


def _write_arrow(table: pa.Table, path: Path) -> int:
    """One record batch (every column one contiguous buffer: zero-copy numpy views)."""
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks(), max_chunksize=max(table.num_rows, 1))
    path.chmod(EXPORT_FILE_MODE)
    return path.stat().st_size


def _bundle(refs: Mapping[str, Any], as_of: datetime, online: OnlineSettings) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "as_of": as_of,
        "exported_at": datetime.now(UTC).replace(tzinfo=None),
        "model": _model(refs, as_of),
        "settings": online.to_dict(),
        "seeds": {name: _rows(refs[name]) for name in SEEDS},
        "feature_labels": _rows(refs["feature_labels"]),
        "deal_values": _rows(
            refs["int_deal_values"].select("company_size_band, value_per_conversion")
        ),
        "capacity_cutoff": _cutoff(refs, online.weekly_sales_capacity),
    }


def _swap_current(root: Path, version: str) -> None:
    temp = root / f".{CURRENT_FILE}.{secrets.token_hex(6)}.tmp"
    temp.write_text(version + "\n")
    temp.chmod(EXPORT_FILE_MODE)
    os.replace(temp, root / CURRENT_FILE)


def _prune(root: Path, keep: str) -> None:
    """Delete bundle folders beyond the newest KEEP_VERSIONS (and half-written ones); a server
    still reading an older one keeps its memory-mapped files (POSIX unlink semantics)."""
    folders = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True)
    complete = [p.name for p in folders if not p.name.startswith(".")]
    kept = {keep, *complete[:KEEP_VERSIONS]}
    for path in folders:
        if path.name not in kept:
            shutil.rmtree(path, ignore_errors=True)


def served_as_of(root: Path) -> datetime | None:
    """The as_of of the bundle CURRENT names, None when there is none (or it is unreadable:
    then this export replaces it)."""
    try:
        version = (root / CURRENT_FILE).read_text().strip()
        bundle = json.loads((root / version / "bundle.json").read_text())
        return datetime.fromisoformat(bundle["as_of"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def export_online_state(
    con: duckdb.DuckDBPyConnection,
    folder: str | Path,
    relations: Sequence[duckdb.DuckDBPyRelation],
    online_vars: Mapping[str, Any],
) -> pa.Table:
    """online_state: write the bundle of this run (module docstring); returns one row per
    file written."""
    refs = {relation_name(r): r for r in relations}
    missing = sorted(set(INPUTS) - set(refs))
    if missing:
        raise ValueError(f"online_state: missing refs {missing}; pass dbt.ref() of each")
    online = OnlineSettings.from_vars(online_vars)
    as_of = resolved_as_of(refs["int_as_of_resolved"])
    root = Path(folder) / ONLINE_DIR
    served = served_as_of(root)
    if served is not None and as_of < served:
        return MANIFEST_SCHEMA.empty_table()
    bundle = _bundle(refs, as_of, online)
    leads = _leads(con, refs)
    activities, leads = _activities(con, refs, leads, as_of, online)
    tables = {
        "leads.arrow": leads,
        "activities.arrow": activities,
        "domain_wins.arrow": _domain_wins(con, refs, leads, as_of),
        "features.arrow": refs["lead_features"].limit(0).to_arrow_table(),
    }
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(EXPORT_DIR_MODE)
    version = f"{as_of:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
    staging = root / f".{version}.tmp"
    staging.mkdir(mode=EXPORT_DIR_MODE)
    try:
        sizes = {name: _write_arrow(table, staging / name) for name, table in tables.items()}
        text = json.dumps(bundle, default=_json_default, allow_nan=False, indent=1)
        (staging / "bundle.json").write_text(text)
        (staging / "bundle.json").chmod(EXPORT_FILE_MODE)
        staging.chmod(EXPORT_DIR_MODE)
        os.replace(staging, root / version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_current(root, version)
    _prune(root, version)
    model_version = bundle["model"]["model_version"]
    rows = [
        {
            "version": version,
            "file": name,
            "n_rows": t.num_rows,
            "n_bytes": sizes[name],
            "as_of": as_of,
            "model_version": model_version,
        }
        for name, t in tables.items()
    ]
    rows.append(
        {
            "version": version,
            "file": "bundle.json",
            "n_rows": 1,
            "n_bytes": len(text.encode()),
            "as_of": as_of,
            "model_version": model_version,
        }
    )
    return pa.Table.from_pylist(rows, schema=MANIFEST_SCHEMA)
