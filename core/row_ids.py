"""Row ids as they come in from outside (paths, bodies, forms): positive and within the key columns' range. Pure."""

from __future__ import annotations

# The keys are INTEGER columns: 32 bits on PostgreSQL (SQLite's 64 are no wider in practice).
MAX_ROW_ID = 2**31 - 1


def is_row_id(value: object) -> bool:
    """True for an int (not a bool) that a row's id can be."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ROW_ID


def row_id_of_text(text: str) -> int | None:
    """The id written in `text` (ASCII digits only), or None when it cannot be one."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ROW_ID)):
        return None
    value = int(text)
    return value if is_row_id(value) else None
