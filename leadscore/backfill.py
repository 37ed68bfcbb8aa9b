"""Shim for ``python -m leadscore.backfill``: runs leadscore.demo.backfill.main."""

import sys

from leadscore.demo.backfill import main

if __name__ == "__main__":
    sys.exit(main())
