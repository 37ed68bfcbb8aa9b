"""The HTML report: one self-contained page about the latest scoring run, from the exports.

Usage: ``python -m leadscore.report [--exports DIR] [--out FILE]`` or ``leadscore report``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from leadscore.registry_tables import write_atomic
from leadscore.report.page import render_report
from leadscore.settings import environment


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--exports",
        default=str(environment().export_dir),
        help="the export folder (default: $LEADSCORE_EXPORT_DIR or exports)",
    )
    parser.add_argument("--out", help="the HTML file (default: <exports>/report.html)")
    args = parser.parse_args(argv)
    folder = Path(args.exports)
    if not folder.is_dir():
        print(
            f"no exports folder at {folder}; run make demo or dbt build first (or pass --exports)",
            file=sys.stderr,
        )
        return 1
    out = Path(args.out) if args.out else folder / "report.html"
    write_atomic(out, render_report(folder))
    print(f"report written to {out}")
    return 0
