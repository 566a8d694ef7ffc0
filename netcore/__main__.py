"""``python -m netcore``: the command line."""

import sys

from netcore.cli import main

sys.exit(main())
