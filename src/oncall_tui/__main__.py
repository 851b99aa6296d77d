"""``python -m oncall_tui``."""

import sys

from oncall_tui.cli.launch import main

sys.exit(main())
