"""``leadscore <verb> [options]``: the console script (``[project.scripts]`` in pyproject.toml).

Each verb runs the ``main`` of one module with the remaining arguments; ``leadscore <verb> -h``
shows that verb's options. A verb's module is imported only when it runs.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

#: verb -> (module whose ``main(argv)`` runs it, one-line help)
VERBS: dict[str, tuple[str, str]] = {
    "build": ("leadscore.build", "dbt build, one at a time per database, with private files"),
    "generate": ("leadscore.demo.generate.cli", "write synthetic demo CRM data (raw tables)"),
    "backfill": ("leadscore.demo.backfill", "score the demo at earlier as_of dates"),
    "report": ("leadscore.report.cli", "write the HTML report from the Parquet exports"),
    "summary": ("leadscore.demo.summary", "print the demo's summary of the database"),
    "serve": ("leadscore.serve.cli", "the real-time scoring API on the build's exports"),
}


def usage() -> str:
    width = max(map(len, VERBS))
    lines = [f"  {verb:<{width}}  {text}" for verb, (_, text) in VERBS.items()]
    return "usage: leadscore <verb> [options]\n\nverbs:\n" + "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage(), file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    verb, rest = args[0], args[1:]
    if verb not in VERBS:
        print(f"error: unknown verb {verb!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(VERBS[verb][0])
    return module.main(rest) or 0


if __name__ == "__main__":
    sys.exit(main())
