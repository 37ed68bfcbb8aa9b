"""``python -m leadscore.report``: the HTML report's command line."""

import sys

from leadscore.report.cli import main

sys.exit(main())
