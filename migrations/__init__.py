"""Alembic schema migrations."""
