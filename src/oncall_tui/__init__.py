"""oncall-tui: a keyboard-driven terminal app for on-call customer-support engineers."""

__version__ = "0.1.0"
