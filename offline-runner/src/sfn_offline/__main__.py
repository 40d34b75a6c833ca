"""``python -m sfn_offline``: the offline runner's command line (see :mod:`sfn_offline.cli`)."""

import sys

from sfn_offline.cli import main

sys.exit(main())
