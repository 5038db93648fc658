"""Fuzz the API from its OpenAPI schema (schemathesis) against the WSGI app in-process, as a
team manager with a personal API token, on a populated world: no 5xx, and every response
keeps what the schema promises (status codes, content types, bodies).

One test per operation. The world and the schema are loaded once per module inside a
transaction that is rolled back at the end; each operation runs in a savepoint inside it, so
one operation's writes (a DELETE of the shared integration...) never reach the next. Path
parameters name the world's objects (KWARGS, as in the access matrix). Each operation draws
from valid generated requests, invalid ones (which must get a 4xx), and the known-valid
request of the access matrix (BODIES, QUERIES), so its success answer is checked too.

The budget is fixed and the run derandomized, so a failure reproduces:
SCHEMATHESIS_MAX_EXAMPLES (default 25) examples per operation.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from incidents.timeline import api as incidents_api
from tests.access_world import BODIES, KWARGS, QUERIES, World, module_world

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Path parameters with more than one value worth trying.
CHOICES = {"action": sorted(incidents_api.ACTIONS)}


def _operations() -> list:
    """Every operation in the schema, read from the generator (no request, no database)."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return [
        pytest.param(method.upper(), path, id=f"{method.upper()} {path}")
        for path, operations in document["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def _auth(world: World) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.api_token_plain}"}


@pytest.fixture(scope="module")
def api(django_db_setup, django_db_blocker):
    """The world, and the schema as served to the world's manager, loaded once."""
    # Requests reach Django through its real WSGI handler, which closes "old" connections at
    # each request's start and end; inside the test transaction that would drop the world.
    # Django's own test client disconnects the same receiver.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with module_world(django_db_blocker) as world:
            schema = schemathesis.openapi.from_wsgi(
                "/api/schema/", application, headers=_auth(world)
            )
            yield world, schema
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _strategies(world: World, operation, method: str, path: str, fixed: dict):
    yield operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed)
    yield operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=fixed)
    match = resolve(path.format(**fixed))
    valid_body = BODIES.get((match.url_name, fixed.get("action", method)))
    valid_query = QUERIES.get(match.url_name)
    if valid_body or valid_query:
        known = {"path_parameters": fixed}
        if valid_body:
            known["body"] = valid_body(world)
            known["media_type"] = "application/json"
        if valid_query and method == "GET":
            known["query"] = valid_query(world)
        yield operation.as_strategy(GenerationMode.POSITIVE, **known)


@pytest.mark.parametrize(("method", "path"), _operations())
def test_the_api_keeps_its_schema(api, db, method, path):
    world, schema = api
    operation = schema[path][method]
    names = [parameter.name for parameter in operation.path_parameters]
    unknown = [name for name in names if name not in KWARGS and name not in CHOICES]
    assert not unknown, f"{method} {path}: map {unknown} to the world's objects in KWARGS"
    variants = [{}]
    for name in names:
        values = CHOICES.get(name) or [KWARGS[name](world)]
        variants = [{**variant, name: value} for variant in variants for value in values]
    strategy = st.one_of(
        [s for fixed in variants for s in _strategies(world, operation, method, path, fixed)]
    )

    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def call(case):
        case.call_and_validate(headers=_auth(world), checks=CHECKS)

    call()
