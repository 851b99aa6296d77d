"""``python -m oncall_tui``."""

import sys

from oncall_tui.cli import main

sys.exit(main())
