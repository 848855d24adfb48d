"""The roles an account or a token may hold (reporter: reads, and writes journal entries for its own department when
the token names one)."""

ROLES = ("viewer", "reporter", "editor", "admin")
