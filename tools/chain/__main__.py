import sys

from tools.chain.cli import main

sys.exit(main())
