"""The embedded demo: seeded data and wire-format fake backends."""
