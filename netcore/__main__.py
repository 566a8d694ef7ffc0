"""``python -m netcore``: the command line."""

import sys

from netcore.cli.commands import main

sys.exit(main())
