"""The driver: a run's chunks, the generated tables with their reports, and writing them."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from leadscore.demo.generate import b2c
from leadscore.demo.generate.activities import _activities_table, _observed
from leadscore.demo.generate.config import DEFAULT_CHUNK_SIZE, DEFAULT_END_DATE, GeneratorConfig
from leadscore.demo.generate.contract import (
    DRIFT_KINDS,
    DRIFT_METADATA_KEY,
    FAULT_KINDS,
    FAULTS_METADATA_KEY,
    RAW_TABLES,
    SCENARIO_METADATA_KEY,
    SCHEMAS,
    TRUTH_TABLE,
)
from leadscore.demo.generate.drift import (
    DRIFT_COUNTS,
    DRIFT_STREAM,
    _drift_leads,
    _drift_report,
    _no_drift_report,
    _redrawn_leads,
    _shift_engagement,
)
from leadscore.demo.generate.faults import _activity_faults, _lead_faults, _opportunity_faults
from leadscore.demo.generate.lifecycle import Chunk, _simulate
from leadscore.demo.generate.numeric import _rng
from leadscore.demo.generate.opportunities import _opportunities_table, _status_table, _truth_table
from leadscore.demo.generate.population import _leads, _leads_table


def _chunk(
    cfg: GeneratorConfig, index: int, first: int, n: int, activity_id: int, opportunity_id: int
) -> Chunk:
    if cfg.scenario == "b2c_shift":
        return b2c.chunk(cfg, index, first, n, activity_id, opportunity_id)
    rng = _rng(cfg.seed, index)
    leads = _leads(rng, cfg, first, n)
    drift = dict.fromkeys(DRIFT_COUNTS, 0)
    late = _redrawn_leads(cfg, leads, drift)
    if late.size == 0:
        life = _simulate(rng, leads)
    else:  # a chunk whose leads are all drawn again (drifted) needs no undrifted draw
        undrifted = _simulate(rng, leads) if late.size < n else None
        life = _drift_leads(cfg, index, leads, undrifted, late, drift)
    activities = _observed(life.activities, cfg.end_us)
    if cfg.drifts("engagement_shift"):
        activities = _shift_engagement(
            _rng(cfg.seed, index, DRIFT_STREAM, 1), activities, cfg.drift_from_us, cfg.end_us, drift
        )
    leads, funnel = life.leads, life.funnel
    tables = {
        "leads": _leads_table(leads, life.emails),
        "activities": _activities_table(leads.lead_id, activities, activity_id),
        "opportunities": _opportunities_table(
            leads.lead_id, funnel, life.deals, cfg.end_us, opportunity_id
        ),
        "lead_status_changes": _status_table(leads, funnel, cfg.end_us),
        "lead_truth": _truth_table(leads),
    }
    faults = dict.fromkeys(FAULT_KINDS, 0)
    if cfg.fault_rate > 0:
        f_rng = _rng(cfg.seed, index, 1)
        rate = cfg.fault_rate
        tables["leads"] = _lead_faults(f_rng, tables["leads"], rate, faults)
        tables["activities"] = _activity_faults(
            f_rng, tables["activities"], rate, cfg.n_leads, faults
        )
        tables["opportunities"] = _opportunity_faults(f_rng, tables["opportunities"], rate, faults)
    return Chunk(tables, faults, drift)


def iter_chunks(cfg: GeneratorConfig) -> Iterator[Chunk]:
    """The chunks of a run in order; ids continue across chunks."""
    activity_id = opportunity_id = 1
    for index, (first, n) in enumerate(cfg.chunks()):
        chunk = _chunk(cfg, index, first, n, activity_id, opportunity_id)
        # ids are numbered before duplicates are injected: count the distinct ones
        activity_id += _clean_rows(chunk, "activities", "duplicate_activity")
        opportunity_id += chunk.tables["opportunities"].num_rows
        yield chunk


def _clean_rows(chunk: Chunk, table: str, duplicate_kind: str) -> int:
    return chunk.tables[table].num_rows - chunk.faults[duplicate_kind]


def _sum_counts(chunks: Sequence[Mapping[str, int]], keys: Sequence[str]) -> dict[str, int]:
    return {key: sum(c[key] for c in chunks) for key in keys}


def generate(
    n_leads: int,
    seed: int,
    end_date: date = DEFAULT_END_DATE,
    months: int = 18,
    fault_rate: float = 0.0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    drift_after: date | None = None,
    drift_kinds: Sequence[str] = DRIFT_KINDS,
    scenario: str = "b2b",
    shift_after: date | None = None,
) -> dict[str, pa.Table]:
    """All tables in memory: the four raw tables and lead_truth.

    The fault counts, the drift report and (other than b2b) the scenario report ride along as
    JSON in the schema metadata of lead_truth (read them with :func:`fault_counts`,
    :func:`drift_report` and :func:`scenario_report`).
    """
    cfg = GeneratorConfig(
        n_leads,
        seed,
        end_date,
        months,
        fault_rate,
        chunk_size,
        drift_after,
        tuple(drift_kinds),
        scenario,
        shift_after,
    )
    chunks = list(iter_chunks(cfg))
    tables = {name: pa.concat_tables([c.tables[name] for c in chunks]) for name in SCHEMAS}
    faults = _sum_counts([c.faults for c in chunks], FAULT_KINDS)
    drift = _drift_report(cfg, _sum_counts([c.drift for c in chunks], DRIFT_COUNTS))
    metadata = {FAULTS_METADATA_KEY: json.dumps(faults), DRIFT_METADATA_KEY: json.dumps(drift)}
    if cfg.scenario != "b2b":
        report = _scenario_report(cfg, [c.scenario for c in chunks])
        metadata[SCENARIO_METADATA_KEY] = json.dumps(report)
    tables[TRUTH_TABLE] = tables[TRUTH_TABLE].replace_schema_metadata(metadata)
    return tables


def _scenario_report(cfg: GeneratorConfig, chunks: Sequence[Mapping[str, int]]) -> dict:
    return b2c.scenario_report(cfg, _sum_counts(chunks, b2c.COUNTS))


def schemas(cfg: GeneratorConfig) -> dict[str, pa.Schema]:
    """The schema of every table a run writes (the leads columns depend on the scenario)."""
    if cfg.scenario == "b2c_shift":
        return {**SCHEMAS, "leads": b2c.LEADS_SCHEMA}
    return dict(SCHEMAS)


def fault_counts(tables: dict[str, pa.Table]) -> dict[str, int]:
    """Injected faults per kind of tables returned by :func:`generate`."""
    metadata = tables[TRUTH_TABLE].schema.metadata or {}
    if FAULTS_METADATA_KEY not in metadata:
        return dict.fromkeys(FAULT_KINDS, 0)
    return json.loads(metadata[FAULTS_METADATA_KEY])


def drift_report(tables: dict[str, pa.Table]) -> dict[str, object]:
    """The drift injected into tables returned by :func:`generate` (what drift.json holds)."""
    metadata = tables[TRUTH_TABLE].schema.metadata or {}
    if DRIFT_METADATA_KEY not in metadata:
        return _no_drift_report()
    return json.loads(metadata[DRIFT_METADATA_KEY])


def scenario_report(tables: dict[str, pa.Table]) -> dict[str, object]:
    """The scenario of tables returned by :func:`generate` (what scenario.json holds; b2b has
    no scenario.json)."""
    metadata = tables[TRUTH_TABLE].schema.metadata or {}
    if SCENARIO_METADATA_KEY not in metadata:
        return {"scenario": "b2b"}
    return json.loads(metadata[SCENARIO_METADATA_KEY])


def _write_scenario_json(out_dir: str | os.PathLike[str], report: Mapping) -> Path | None:
    """scenario.json beside the truth; a b2b run removes a stale one (and writes none, so b2b
    output stays what it was before scenarios existed)."""
    path = truth_dir(out_dir) / "scenario.json"
    if report.get("scenario", "b2b") == "b2b":
        path.unlink(missing_ok=True)
        return None
    return _write_json(out_dir, "scenario.json", report)


def truth_dir(out_dir: str | os.PathLike[str]) -> Path:
    """Where the ground truth goes: ``<out_dir>/../truth`` (never inside out_dir)."""
    return Path(os.path.abspath(out_dir)).parent / "truth"


def _paths(out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    paths = {name: Path(out_dir) / f"{name}.parquet" for name in RAW_TABLES}
    paths[TRUTH_TABLE] = truth_dir(out_dir) / f"{TRUTH_TABLE}.parquet"
    return paths


def _write_json(out_dir: str | os.PathLike[str], name: str, content: Mapping) -> Path:
    path = truth_dir(out_dir) / name
    path.write_text(json.dumps(content, indent=2) + "\n")
    return path


def write(tables: dict[str, pa.Table], out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Writes the raw tables to out_dir; lead_truth, faults.json and drift.json (always, so no
    stale report stays behind) to out_dir/../truth."""
    paths = _paths(out_dir)
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    for name, path in paths.items():
        table = tables[name].replace_schema_metadata(None)
        pq.write_table(table, path, compression="zstd")
    paths["faults"] = _write_json(out_dir, "faults.json", fault_counts(tables))
    paths["drift"] = _write_json(out_dir, "drift.json", drift_report(tables))
    scenario = _write_scenario_json(out_dir, scenario_report(tables))
    if scenario is not None:
        paths["scenario"] = scenario
    return paths


def generate_to(cfg: GeneratorConfig, out_dir: str | os.PathLike[str]) -> dict[str, int]:
    """Generates and writes chunk by chunk (bounded memory); returns rows per table."""
    paths = _paths(out_dir)
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    table_schemas = schemas(cfg)
    writers = {
        name: pq.ParquetWriter(path, table_schemas[name], compression="zstd")
        for name, path in paths.items()
    }
    rows = dict.fromkeys(paths, 0)
    faults: list[dict[str, int]] = []
    drift: list[dict[str, int]] = []
    scenario: list[dict[str, int]] = []
    try:
        for chunk in iter_chunks(cfg):
            for name, writer in writers.items():
                writer.write_table(chunk.tables[name])
                rows[name] += chunk.tables[name].num_rows
            faults.append(chunk.faults)
            drift.append(chunk.drift)
            scenario.append(chunk.scenario)
    finally:
        for writer in writers.values():
            writer.close()
    _write_json(out_dir, "faults.json", _sum_counts(faults, FAULT_KINDS))
    _write_json(out_dir, "drift.json", _drift_report(cfg, _sum_counts(drift, DRIFT_COUNTS)))
    report = {"scenario": "b2b"} if cfg.scenario == "b2b" else _scenario_report(cfg, scenario)
    _write_scenario_json(out_dir, report)
    return rows
