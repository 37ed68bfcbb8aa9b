"""Shim for ``python -m leadscore.generate``: runs leadscore.demo.generate.cli.main."""

import sys

from leadscore.demo.generate.cli import main

if __name__ == "__main__":
    sys.exit(main())
