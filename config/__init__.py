"""Packaged default configuration (default.toml)."""
