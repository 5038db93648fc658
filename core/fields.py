"""Serializer fields the APIs share: numbers that end up in database lookups or columns are
bounded here, so an absurd value is a 400 naming the field, never a database overflow (500);
text with a NUL character, which PostgreSQL cannot store or compare, is refused the same way.
The query and form parameters of the APIs and pages are read by the helpers at the end."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.exceptions import BadRequest
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from core.instants import utc_instant
from core.text import NUL_MESSAGE, has_nul

MAX_ID = 2**63 - 1  # the largest bigint: no row has a larger id, and the database refuses one
MAX_STORED_INT = 2**31 - 1  # the largest value a (Positive)IntegerField column holds everywhere


class ObjectIdField(serializers.IntegerField):
    """The id of an object, e.g. {"incident": 42}: a positive bigint."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


def utc_iso(instant: datetime) -> str:
    """How the API writes an instant: UTC, ISO 8601, with a Z."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


@extend_schema_field(OpenApiTypes.DATETIME)
class AwareDateTimeField(serializers.Field):
    """An instant: ISO 8601 with an offset or Z. Naive values are refused, never guessed."""

    default_error_messages = {
        "invalid": "Use an ISO 8601 time with a UTC offset, e.g. 2026-03-29T07:00:00Z.",
        "naive": "Give an ISO 8601 time with a zone offset (e.g. Z or +02:00); "
        "a time without one is ambiguous.",
        "range": "Give a time between 1970 and 2999.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            value = datetime.fromisoformat(data)
        except ValueError:
            self.fail("invalid")
        if value.tzinfo is None or value.utcoffset() is None:
            self.fail("naive")
        utc = utc_instant(value)
        if utc is None:
            self.fail("range")
        return utc

    def to_representation(self, value: datetime) -> str:
        return utc_iso(value)


class SlugLookupField(serializers.SlugRelatedField):
    """A related object by its slug. A value with a NUL character is "no such object" before
    any lookup: PostgreSQL cannot compare text with one (a 500 otherwise)."""

    def to_internal_value(self, data):
        if has_nul(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)


def query_text(request, name: str) -> str:
    """The query parameter `name` ("" when absent), for a lookup such as `?team=<slug>`; one
    with a NUL character is a 400 naming it."""
    value = request.query_params.get(name, "")
    if has_nul(value):
        raise ValidationError({name: [NUL_MESSAGE]})
    return value


def query_number(
    request, name: str, *, minimum: int = 1, maximum: int = MAX_STORED_INT
) -> int | None:
    """The query parameter `name` as a whole number from `minimum` to `maximum` (None when
    absent), e.g. `?version=2`; anything else is a 400 naming it."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    value = whole_number(raw, maximum=maximum)
    if value is None or value < minimum:
        raise ValidationError({name: [f"must be a whole number from {minimum} to {maximum}"]})
    return value


def whole_number(raw: object, *, maximum: int = MAX_ID) -> int | None:
    """`raw` (a query parameter, a URL part) as a whole number from 0 to `maximum`, or None.
    Only ASCII digits count: "²" passes str.isdigit() yet int() refuses it (a 500 once), and
    "٣" is no id or version anybody types. A value beyond `maximum` names no row, and int()
    refuses thousands of digits: both are None too."""
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit():
        return None
    digits = raw.lstrip("0") or "0"
    if len(digits) > len(str(maximum)):
        return None
    value = int(digits)
    return value if value <= maximum else None


def form_text(data, name: str) -> str:
    """A page's form or query value `name` ("" when absent; `data` is request.POST or
    request.GET), for a lookup such as a team's slug: one with a NUL character is a 400
    (BadRequest), as query_text is for the APIs."""
    value = data.get(name, "")
    if has_nul(value):
        raise BadRequest(f"{name}: {NUL_MESSAGE}")
    return value
