"""Notification channels (not built yet)."""
