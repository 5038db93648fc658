"""A JSON body nested deeper than core.parsers.MAX_DEPTH levels is a 400 that says so, on every
API operation that takes a body, never a 500: 100,000 "[" once raised RecursionError inside
DRF's JSONParser, which turns only ValueError into a 400. The operations are read from the
OpenAPI schema, not listed by hand. (The alert webhooks answer the same bodies with a 400 of
their own: incidents/tests/intake/test_webhook.py.)"""

from __future__ import annotations

import io
import json

import pytest
from rest_framework.exceptions import ParseError
from rest_framework.settings import api_settings

from core.parsers import MAX_DEPTH, TOO_DEEP, BoundedJSONParser, json_depth
from tests.access_world import api_operations, module_world, path_variants

# Far past the recursion limit: Python's json module gives up with RecursionError.
FAR_TOO_DEEP = "[" * 100_000 + "]" * 100_000


def nested(levels: int) -> object:
    """A JSON value `levels` deep (a scalar is one level), lists and objects in turn."""
    value: object = "x"
    for level in range(levels - 1):
        value = [value] if level % 2 else {"a": value}
    return value


def test_it_counts_the_levels_of_a_json_value():
    assert json_depth("x") == 1
    assert json_depth({}) == 1
    assert json_depth({"a": [1, {"b": None}], "c": 2}) == 4
    assert json_depth(nested(MAX_DEPTH)) == MAX_DEPTH
    # It stops counting once past the limit, however deep the value goes.
    assert json_depth(nested(500), limit=10) == 11


def _parse(text: str):
    return BoundedJSONParser().parse(io.BytesIO(text.encode()), "application/json", {})


def test_the_parser_takes_max_depth_levels_and_refuses_one_more():
    assert _parse(json.dumps(nested(MAX_DEPTH))) == nested(MAX_DEPTH)
    for text in (json.dumps(nested(MAX_DEPTH + 1)), FAR_TOO_DEEP, '{"a":' * 50_000):
        with pytest.raises(ParseError, match=TOO_DEEP):
            _parse(text)


def test_it_still_refuses_what_drf_refuses():
    with pytest.raises(ParseError, match="JSON parse error"):
        _parse('{"a": NaN}')


def test_every_api_view_parses_json_with_it():
    assert api_settings.DEFAULT_PARSER_CLASSES[0] is BoundedJSONParser


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with module_world(django_db_blocker) as built:
        yield built


def _taking_a_body() -> list:
    found = [
        pytest.param(method, path, id=f"{method} {path}")
        for method, path, operation in api_operations()
        if "requestBody" in operation
    ]
    assert len(found) > 20, "the schema lists the operations that take a body"
    return found


@pytest.mark.parametrize(("method", "path"), _taking_a_body())
def test_every_operation_refuses_a_body_nested_too_deep(client, db, world, method, path):
    client.force_login(world.users["manager"])
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    for variant in path_variants(world, names):
        url = path.format(**variant)
        for body in (FAR_TOO_DEEP, json.dumps(nested(MAX_DEPTH + 1))):
            response = client.generic(method, url, body, content_type="application/json")
            assert response.status_code == 400, f"{method} {url}: {response.content[:300]}"
            assert response.json() == {"detail": f"JSON parse error - {TOO_DEEP}"}, url
