"""Small pure helpers shared by the source parsers."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime

from incidents.alerts import Severity

_RFC3339 = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<time>\d{2}:\d{2}:\d{2})"
    r"(?:\.(?P<frac>\d+))?(?P<tz>[Zz]|[+-]\d{2}:?\d{2})?$"
)

# Alertmanager and Grafana send Go's zero time for "not set" (e.g. endsAt while firing).
_ZERO_YEAR = 1


def parse_time(value: object, field: str, errors: list[str]) -> datetime | None:
    """Parse an RFC 3339 timestamp (any fraction length) into aware UTC, or record an error.

    A missing or zero-valued time returns None. Naive timestamps are taken as UTC, the
    convention every sender we parse uses.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors.append(f"{field}: expected an RFC 3339 timestamp string")
        return None
    match = _RFC3339.match(value.strip())
    if not match:
        errors.append(f"{field}: {value[:64]!r} is not an RFC 3339 timestamp")
        return None
    frac = (match["frac"] or "0")[:6].ljust(6, "0")
    tz = match["tz"] or "Z"
    tz = "+00:00" if tz in {"Z", "z"} else tz if ":" in tz else f"{tz[:3]}:{tz[3:]}"
    try:
        parsed = datetime.fromisoformat(f"{match['date']}T{match['time']}.{frac}{tz}")
    except ValueError:
        errors.append(f"{field}: {value[:64]!r} is not a valid date and time")
        return None
    if parsed.year <= _ZERO_YEAR:
        return None
    return parsed.astimezone(UTC)


_SEVERITY_ALIASES = {
    "critical": Severity.CRITICAL,
    "crit": Severity.CRITICAL,
    "page": Severity.CRITICAL,
    "high": Severity.CRITICAL,
    "p1": Severity.CRITICAL,
    "error": Severity.ERROR,
    "err": Severity.ERROR,
    "major": Severity.ERROR,
    "p2": Severity.ERROR,
    "warning": Severity.WARNING,
    "warn": Severity.WARNING,
    "minor": Severity.WARNING,
    "medium": Severity.WARNING,
    "p3": Severity.WARNING,
    "info": Severity.INFO,
    "informational": Severity.INFO,
    "low": Severity.INFO,
    "none": Severity.INFO,
    "p4": Severity.INFO,
}


def severity_from(value: object, default: Severity = Severity.ERROR) -> Severity:
    if isinstance(value, str):
        return _SEVERITY_ALIASES.get(value.strip().lower(), default)
    return default


def string_map(value: object, field: str, errors: list[str]) -> dict[str, str]:
    """A JSON object of strings (labels, annotations); other scalars are stringified."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(f"{field}: expected an object")
        return {}
    result = {}
    for key, item in value.items():
        if isinstance(item, dict | list):
            result[str(key)] = json.dumps(item, sort_keys=True)
        else:
            result[str(key)] = "" if item is None else str(item)
    return result


def stable_fingerprint(*parts: object) -> str:
    """A deterministic id for senders that do not send one (sorted JSON, SHA-256, 16 hex)."""
    raw = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def bounded(value: str, limit: int) -> str:
    """`value` cut to at most `limit` characters (a database column's length).

    A cut value ends with a hash of the whole, so two long keys that share a prefix stay
    two keys instead of merging into one incident or alert.
    """
    if len(value) <= limit:
        return value
    digest = stable_fingerprint(value)
    return f"{value[: limit - len(digest) - 1]}~{digest}"


def without_nul(value: object) -> object:
    """`value` with NUL characters removed from every string and key.

    PostgreSQL text and jsonb cannot store NUL: one stray `\\u0000` from a sender would make
    its delivery fail with a database error on every retry.
    """
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value
