"""The environment: ``environment()`` is the only place in the package that reads environment
variables (the dbt side reads the same ones with ``env_var``, with the same defaults)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# ---------------------------------------------------------------------------------------------
# the environment

ENVIRONMENT_DEFAULTS: dict[str, str] = {
    "LEADSCORE_RAW_DIR": "data/raw",
    "LEADSCORE_DB": "leadscore.duckdb",
    "LEADSCORE_EXPORT_DIR": "exports",
    "LEADSCORE_MEMORY_LIMIT": "6GB",
    "LEADSCORE_TARGET": "dev",
    # leadscore serve: a bearer token every mutating endpoint requires when set (empty: none)
    "LEADSCORE_SERVE_TOKEN": "",
}


@dataclass(frozen=True)
class Environment:
    """Where the build reads and writes, as the environment says (defaults above)."""

    raw_dir: Path
    db: Path
    export_dir: Path
    memory_limit: str
    target: str
    serve_token: str


def environment(env: Mapping[str, str] | None = None) -> Environment:
    """The LEADSCORE_* variables of ``env`` (default: the process environment)."""
    source = os.environ if env is None else env

    def get(name: str) -> str:
        return source.get(name) or ENVIRONMENT_DEFAULTS[name]

    return Environment(
        raw_dir=Path(get("LEADSCORE_RAW_DIR")),
        db=Path(get("LEADSCORE_DB")),
        export_dir=Path(get("LEADSCORE_EXPORT_DIR")),
        memory_limit=get("LEADSCORE_MEMORY_LIMIT"),
        target=get("LEADSCORE_TARGET"),
        serve_token=get("LEADSCORE_SERVE_TOKEN"),
    )
