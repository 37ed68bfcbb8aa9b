"""``python -m leadscore.demo.generate``: the demo generator's command line."""

import sys

from leadscore.demo.generate.cli import main

sys.exit(main())
