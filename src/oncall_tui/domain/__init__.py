"""Pure domain logic: plain data and functions, no I/O, no clock, no Textual."""
