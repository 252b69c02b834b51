"""Entry point for ``python -m diagnostics``."""

import sys

from diagnostics.cli import main

sys.exit(main())
