"""``python -m oncall_tui``."""

import sys

from oncall_tui.cli.main import main

sys.exit(main())
