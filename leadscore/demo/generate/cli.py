"""``python -m leadscore.demo.generate`` (also ``leadscore generate``): the command line."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import date

from leadscore.demo.generate.build import _paths, generate_to, truth_dir
from leadscore.demo.generate.config import DEFAULT_CHUNK_SIZE, DEFAULT_END_DATE, GeneratorConfig
from leadscore.demo.generate.contract import DRIFT_KINDS, SCENARIOS
from leadscore.demo.generate.formats import EXPORT_FORMATS, rewrite_as


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m leadscore.generate",
        description="Generate a synthetic lead funnel (raw CRM tables as Parquet): the B2B demo "
        "or another --scenario.",
    )
    parser.add_argument("--leads", type=int, required=True, help="number of leads")
    parser.add_argument("--seed", type=int, required=True, help="random seed")
    parser.add_argument("--out", required=True, help="folder for the raw tables")
    parser.add_argument(
        "--faults", type=float, default=0.0, help="share of rows per fault kind (e.g. 0.002)"
    )
    parser.add_argument(
        "--end-date",
        type=date.fromisoformat,
        default=DEFAULT_END_DATE,
        help="last day of the period (YYYY-MM-DD)",
    )
    parser.add_argument("--months", type=int, default=18, help="length of the period")
    parser.add_argument(
        "--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, help="leads per chunk"
    )
    parser.add_argument(
        "--drift-after",
        type=_iso_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="inject drift from this day on (default: no drift)",
    )
    parser.add_argument(
        "--drift-kinds",
        default=None,
        metavar="KIND[,KIND...]",
        help=f"comma-separated drift kinds (default: all of {','.join(DRIFT_KINDS)})",
    )
    parser.add_argument(
        "--export-format",
        default="parquet",
        choices=EXPORT_FORMATS,
        help="how the raw tables are written: parquet (default), parquet_tz (TIMESTAMPTZ "
        "columns) or excel_csv (text as a spreadsheet export writes it: 1,000 / 51-200, "
        "$4,900.00, Y/N, timestamps with UTC offsets)",
    )
    parser.add_argument(
        "--scenario",
        default="b2b",
        help=f"data scenario, one of {', '.join(SCENARIOS)} (default b2b: the B2B demo; "
        "b2c_shift: B2C, no firmographics, a trending attribute and a base-rate jump)",
    )
    parser.add_argument(
        "--shift-after",
        type=_iso_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="b2c_shift: first day of the base-rate jump (default: four months before the end)",
    )
    return parser.parse_args(argv)


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-07-01"
        ) from None


def _drift_kinds(text: str | None) -> tuple[str, ...]:
    if text is None:
        return DRIFT_KINDS
    return tuple(k.strip() for k in text.split(",") if k.strip())


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    try:
        if args.drift_kinds is not None and args.drift_after is None:
            raise ValueError(
                "--drift-kinds needs --drift-after YYYY-MM-DD (the first day of the drift)"
            )
        cfg = GeneratorConfig(
            n_leads=args.leads,
            seed=args.seed,
            end_date=args.end_date,
            months=args.months,
            fault_rate=args.faults,
            chunk_size=args.chunk_size,
            drift_after=args.drift_after,
            drift_kinds=_drift_kinds(args.drift_kinds),
            scenario=args.scenario,
            shift_after=args.shift_after,
        )
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    rows = generate_to(cfg, args.out)
    written = {path.stem: path for path in rewrite_as(args.out, args.export_format, args.seed)}
    for name, path in _paths(args.out).items():
        print(f"{name}: {rows[name]:,} rows -> {written.get(name, path)}")
    if cfg.drift_after is not None:
        path = truth_dir(args.out) / "drift.json"
        print(f"drift from {cfg.drift_after}: {', '.join(cfg.drift_kinds)} -> {path}")
    if cfg.scenario != "b2b":
        path = truth_dir(args.out) / "scenario.json"
        report = json.loads(path.read_text())
        print(f"scenario {cfg.scenario} (base-rate jump from {cfg.shift_date}) -> {path}")
        print(f"dbt vars for its custom attributes: --vars '{report['dbt_vars']}'")
    print(f"generated in {time.perf_counter() - started:.1f} s")
    return 0
