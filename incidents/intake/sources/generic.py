"""Generic JSON: one alert per POST, from any sender that can be told what to send.

The default shape is `{title, dedup_key?, status?, severity?, source?, started_at?,
details?, links?}`. An integration whose sender has its own shape maps each field to a
dotted path in `options["mapping"]` (`{"title": "data.alert.name", "dedup_key":
"items.0.id"}`) and may translate the sender's status words with `options["status_map"]`
(`{"ok": "resolved", "alerting": "firing"}`). Errors name the path that was read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime

from incidents.alerts import AlertEvent, AlertStatus, Link, PayloadError
from incidents.intake.sources.common import (
    bounded,
    parse_time,
    severity_from,
    stable_fingerprint,
    string_map,
    without_nul,
)

SOURCE = "generic"
# The integration's field mapping decides what is read, so webhooks find it before validating.
VALIDATE_USES_OPTIONS = True
FIELDS = ("title", "dedup_key", "status", "severity", "source", "started_at", "details", "links")
MAX_TEXT = 1000
MAX_FINGERPRINT = 200
# Unix times at or above this are taken as milliseconds (as seconds it is the year 5138).
MILLISECONDS_FROM = 100_000_000_000
_MISSING = object()


def validate(payload: object, options: Mapping | None = None) -> list[str]:
    """Field errors that make the payload unusable; empty when it can be accepted."""
    _, errors = _read(without_nul(payload), options)
    return errors


def parse(payload: object, options: Mapping | None = None) -> list[AlertEvent]:
    values, errors = _read(without_nul(payload), options)
    if errors:
        raise PayloadError(errors)
    title = values["title"]
    dedup_key = values["dedup_key"] or stable_fingerprint(title, values["source"])
    labels = {"source": values["source"]} if values["source"] else {}
    if values["severity"]:
        labels["severity"] = values["severity"]
    return [
        AlertEvent(
            source=SOURCE,
            incident_key=bounded(dedup_key, MAX_TEXT),
            fingerprint=bounded(dedup_key, MAX_FINGERPRINT),
            status=values["status"],
            title=title[:MAX_TEXT],
            severity=severity_from(values["severity"]),
            labels=labels,
            annotations=values["details"],
            starts_at=values["started_at"],
            links=values["links"],
        )
    ]


def _read(document: object, options: Mapping | None) -> tuple[dict, list[str]]:
    """Every field's value, read through the mapping, and the errors met on the way."""
    errors: list[str] = []
    paths = _paths(options, errors)
    status_map = _status_map(options, errors)
    if not isinstance(document, dict | list):
        return {}, ["body: expected a JSON object", *errors]

    def get(field: str) -> tuple[object, str]:
        path = paths[field]
        where = path if path == field else f"{path} (mapped to {field})"
        return _lookup(document, path), where

    title, where = get("title")
    values: dict = {"title": _text(title, where, errors, required=True)}
    for field in ("dedup_key", "source", "severity"):
        value, where = get(field)
        values[field] = _text(value, where, errors, required=False, numbers=field != "severity")
    values["status"] = _status(*get("status"), status_map, errors)
    values["started_at"] = _time(*get("started_at"), errors)
    details, where = get("details")
    values["details"] = string_map(None if details is _MISSING else details, where, errors)
    values["links"] = _links(*get("links"), errors)
    return values, errors


def _paths(options: Mapping | None, errors: list[str]) -> dict[str, str]:
    paths = {field: field for field in FIELDS}
    mapping = options.get("mapping") if isinstance(options, Mapping) else None
    if mapping is None:
        return paths
    if not isinstance(mapping, dict):
        errors.append("options.mapping: expected an object of field -> dotted path")
        return paths
    for field, path in mapping.items():
        if field not in FIELDS:
            errors.append(f"options.mapping.{field}: unknown field; known: {', '.join(FIELDS)}")
        elif not isinstance(path, str) or not path:
            errors.append(f"options.mapping.{field}: expected a dotted path such as data.id")
        else:
            paths[field] = path
    return paths


def _status_map(options: Mapping | None, errors: list[str]) -> dict[str, str]:
    status_map = options.get("status_map") if isinstance(options, Mapping) else None
    if status_map is None:
        return {}
    if not isinstance(status_map, dict):
        errors.append("options.status_map: expected an object of word -> firing or resolved")
        return {}
    for word, status in status_map.items():
        if status not in ("firing", "resolved"):
            errors.append(f"options.status_map.{word}: expected 'firing' or 'resolved'")
    return status_map


def _lookup(document: object, path: str) -> object:
    """The value at a dotted path (`items.0.name`); _MISSING when absent or null."""
    current = document
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isascii() and part.isdigit():
            index = int(part)
            if index >= len(current):
                return _MISSING
            current = current[index]
        else:
            return _MISSING
    return _MISSING if current is None else current


def _text(
    value: object, where: str, errors: list[str], *, required: bool, numbers: bool = True
) -> str:
    """A string (or, where ids may be numeric, a number) as text; "" when absent."""
    if value is _MISSING or (isinstance(value, str) and not value.strip()):
        if required:
            errors.append(f"{where}: is required")
        return ""
    if isinstance(value, str):
        return value.strip()
    if numbers and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    errors.append(f"{where}: expected a string" + (" or a number" if numbers else ""))
    return ""


def _status(value: object, where: str, status_map: dict, errors: list[str]) -> AlertStatus:
    if value is _MISSING:
        return AlertStatus.FIRING
    if isinstance(value, dict | list):
        errors.append(f"{where}: expected a string")
        return AlertStatus.FIRING
    # status_map keys are JSON object keys: a sender's true or 0 is looked up as "true", "0".
    word = value if isinstance(value, str) else json.dumps(value)
    status = status_map.get(word, word.strip().lower())
    if status not in ("firing", "resolved"):
        errors.append(
            f"{where}: {word[:64]!r} is not 'firing' or 'resolved'; translate it in "
            "options.status_map"
        )
        return AlertStatus.FIRING
    return AlertStatus(status)


def _time(value: object, where: str, errors: list[str]) -> datetime | None:
    """An RFC 3339 timestamp, or a Unix time in seconds or milliseconds."""
    if value is _MISSING:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if abs(value) >= MILLISECONDS_FROM else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            errors.append(f"{where}: {value} is not a valid Unix time")
            return None
    return parse_time(value, where, errors)


def _links(value: object, where: str, errors: list[str]) -> tuple[Link, ...]:
    if value is _MISSING:
        return ()
    if not isinstance(value, list):
        errors.append(f"{where}: expected a list of {{href, text}} objects")
        return ()
    links = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            errors.append(f"{where}[{index}]: expected an object")
            continue
        href, text = item.get("href"), item.get("text")
        if not isinstance(href, str) or not href:
            errors.append(f"{where}[{index}].href: expected a non-empty string")
        elif text is not None and not isinstance(text, str):
            errors.append(f"{where}[{index}].text: expected a string")
        else:
            links.append(Link(href, text or ""))
    return tuple(links)
