"""python -m leadscore.settings: write (or --check) the files generated from the table."""

import sys

from leadscore.settings.generate import main

sys.exit(main())
