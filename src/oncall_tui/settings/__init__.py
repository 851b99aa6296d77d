"""The user's settings and files: config (read and written back), paths,
secrets (keyring and environment) and the small state file."""
