"""``python -m tools.offline``: the offline runner's command line (see :mod:`tools.offline.cli`)."""

import sys

from tools.offline.cli import main

sys.exit(main())
