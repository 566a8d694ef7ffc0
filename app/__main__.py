"""``python -m app``: start the GUI."""

import sys

from app.main import main

sys.exit(main())
