"""Serializer fields the APIs share: numbers that end up in database lookups or columns are
bounded here, so an absurd value is a 400 naming the field, never a database overflow (500)."""

from __future__ import annotations

from rest_framework import serializers

MAX_ID = 2**63 - 1  # the largest bigint: no row has a larger id, and the database refuses one
MAX_STORED_INT = 2**31 - 1  # the largest value a (Positive)IntegerField column holds everywhere


class ObjectIdField(serializers.IntegerField):
    """The id of an object, e.g. {"incident": 42}: a positive bigint."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)
