"""Rainfall and snow/ice events: grouping warnings, response-level decisions and the append-only journal."""
