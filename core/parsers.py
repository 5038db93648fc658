"""JSON bodies nested no deeper than MAX_DEPTH levels: the API's JSON parser
(REST_FRAMEWORK's DEFAULT_PARSER_CLASSES, so every API view) and the alert webhooks
(incidents.intake.webhooks) refuse a deeper one with a 400 saying so.

Why: Python's json module recurses once per level. A body of 100,000 "[" raises
RecursionError while it is decoded, which DRF's JSONParser does not catch (it turns only
ValueError into a 400): a 500. A body a few hundred levels deep decodes, and then exhausts
the recursion limit in whatever walks it next (a serializer, a NUL check, json.dumps on
save). No input of ours is more than a few levels deep, so a bound well above that costs
nothing. Tests: tests/test_json_depth.py, and the webhook tests' "too deep" cases.
"""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32
TOO_DEEP = f"JSON nested deeper than {MAX_DEPTH} levels"


def json_depth(value: object, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of a decoded JSON value (a scalar is 1), counted level by level without
    recursion, and stopping early once past `limit`. Pure."""
    level, depth = [value], 0
    while level:
        depth += 1
        if depth > limit:
            return depth
        children = []
        for item in level:
            if isinstance(item, dict):
                children.extend(item.values())
            elif isinstance(item, list):
                children.extend(item)
        level = children
    return depth


class BoundedJSONParser(JSONParser):
    """DRF's JSONParser, refusing a body nested deeper than MAX_DEPTH with a 400
    ({"detail": "JSON parse error - JSON nested deeper than 32 levels"})."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - {TOO_DEEP}") from None
        if json_depth(data) > MAX_DEPTH:
            raise ParseError(f"JSON parse error - {TOO_DEEP}")
        return data
