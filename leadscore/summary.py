"""Shim for ``python -m leadscore.summary``: runs leadscore.demo.summary.main."""

import sys

from leadscore.demo.summary import main

if __name__ == "__main__":
    sys.exit(main())
