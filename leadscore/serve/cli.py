"""``leadscore serve [--host 127.0.0.1] [--port 8000] [--exports DIR]``: the real-time API on
uvicorn, serving the bundle the last build exported (docs/serving.md)."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from pathlib import Path

from leadscore.settings import environment


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    env = environment()
    parser = argparse.ArgumentParser(prog="leadscore serve", description=__doc__)
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to bind (default 127.0.0.1: this machine only)",
    )
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--exports",
        type=Path,
        default=env.export_dir,
        help=f"the build's export folder (default {env.export_dir})",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    import uvicorn

    from leadscore.serve.app import create_app
    from leadscore.serve.state import BundleError

    try:
        app = create_app(args.exports, environment().serve_token)
    except BundleError as err:
        print(f"leadscore serve: {err}", file=sys.stderr)
        return 2
    # the loaded state and libraries never become garbage: keep them out of the collector's
    # passes (each pass over them is a latency spike of a few ms)
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main())
