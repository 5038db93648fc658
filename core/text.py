"""Text a database can hold. PostgreSQL text and jsonb cannot store the NUL character, and
cannot compare text with one in a lookup: input carrying one is refused (a 400 naming the
field) before it reaches a column or a query, instead of failing there (a 500). Pure."""

from __future__ import annotations

NUL_MESSAGE = "a NUL character is not allowed"


def has_nul(value: object) -> bool:
    """True when a string anywhere in `value` (a JSON-like value: keys too) holds a NUL."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(item) for item in value)
    return False
