"""Fuzz the API from its OpenAPI schema (schemathesis) against the WSGI app in-process, as a
team manager with a personal API token, on a populated world: no 5xx, and every response
keeps what the schema promises (status codes, content types, bodies).

One test per operation. The world and the schema are loaded once per module inside a
transaction that is rolled back at the end; each operation runs in a savepoint inside it, so
one operation's writes (a DELETE of the shared integration...) never reach the next. Path
parameters name the world's objects (as in the access matrix); queries and bodies are
generated. The budget is fixed and the run derandomized, so a failure reproduces:
SCHEMATHESIS_MAX_EXAMPLES (default 25) examples per operation.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from schemathesis import GenerationMode
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from hypothesis import settings as hypothesis_settings
from rest_framework.views import APIView
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from tests.access_world import KWARGS, World, build_world

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# The URL kwargs whose OpenAPI name differs from the one in KWARGS.
PATH_PARAMETERS = {**KWARGS, "action": lambda w: "acknowledge"}


def _operations() -> list:
    """(method, path) of every operation in the schema, read from the generator (no request)."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return [
        pytest.param(method.upper(), path, id=f"{method.upper()} {path}")
        for path, operations in document["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    ]


@pytest.fixture(scope="module")
def api(django_db_setup, django_db_blocker):
    """The world and the schema as served to the world's manager, loaded once."""
    # Requests reach Django through its real WSGI handler, which closes "old" connections at
    # each request's start and end; inside the test transaction that would drop the world.
    # Django's own test client disconnects the same receiver.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            world = build_world()
            schema = schemathesis.openapi.from_wsgi(
                "/api/schema/", application, headers=_auth(world)
            )
            yield world, schema
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


@pytest.fixture
def no_throttling(monkeypatch):
    """Throttle counters live in the shared cache keyed by user id; a fuzzing run must neither
    trip them nor leave them tripped for the rest of the suite."""
    monkeypatch.setattr(APIView, "throttle_classes", ())


def _auth(world: World) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.api_token_plain}"}


@pytest.mark.parametrize(("method", "path"), _operations())
def test_the_api_keeps_its_schema(api, db, no_throttling, method, path):
    world, schema = api
    operation = schema[path][method]
    names = [p.name for p in operation.path_parameters]
    unknown = [name for name in names if name not in PATH_PARAMETERS]
    assert not unknown, f"{method} {path}: map {unknown} to the world's objects in KWARGS"
    fixed = {name: PATH_PARAMETERS[name](world) for name in names}
    # Valid requests and invalid ones (which must be refused with a 4xx, never a 5xx).
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed),
        operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=fixed),
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
