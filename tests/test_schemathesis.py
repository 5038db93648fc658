"""Fuzz the API from its OpenAPI schema (schemathesis) against the WSGI app in-process, as a
team manager with a personal API token, on a populated world: no 5xx, and every response
keeps what the schema promises (status codes, content types, bodies). Two phases of
schemathesis, each one test per operation:

- generative (test_the_api_keeps_its_schema): valid generated requests, invalid ones, and
  the known-valid request of the access matrix (BODIES, QUERIES), so each operation's
  success answer is checked too. The budget is fixed and the run derandomized, so a failure
  reproduces: SCHEMATHESIS_MAX_EXAMPLES (default 25) examples per operation.
- coverage (test_the_api_answers_its_coverage_cases): what `schemathesis run`'s coverage
  phase sends, deterministically: boundary values (minimum and maximum lengths, numbers and
  items, and one past each), wrong types, values outside an enum or format, missing required
  fields, unknown methods and content types, for every parameter and body field. Each case
  starts from the world as built (a savepoint rolled back after it).

The world and the schema are loaded once per module inside a transaction that is rolled back
at the end; each operation runs in a savepoint inside it, so one operation's writes (a DELETE
of the shared integration...) never reach the next. Path parameters name the world's objects
(KWARGS, as in the access matrix), except in a coverage case about that parameter itself.
The per-user API rate limit is lifted for the run (module_world), and no answer may be a 429:
no operation is left untested behind one.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.urls import resolve
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.exceptions import Throttled
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.meta import CoveragePhaseData
from schemathesis.generation.overrides import Override

from config.wsgi import application
from incidents.timeline import api as incidents_api
from tests.access_world import (
    BODIES,
    QUERIES,
    World,
    api_operations,
    module_world,
    path_variants,
)

pytestmark = pytest.mark.fuzz

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
THROTTLED = str(Throttled.default_detail)  # "Request was throttled."


def not_throttled(ctx, response, case):
    """DRF's throttling would leave the operation untested behind a 429: the per-user rate
    limit must be off for the run. (A 429 of the operation's own, such as a contact method
    tested twice within 30 seconds, is an answer like any other.)"""
    if response.status_code == 429 and THROTTLED in response.text:
        raise AssertionError("throttled (429): lift the API rate limit for the fuzzing")


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    not_throttled,
]
OPERATIONS = [
    pytest.param(method, path, id=f"{method} {path}") for method, path, _ in api_operations()
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


def _variants(world: World, operation) -> list[dict]:
    return path_variants(world, [parameter.name for parameter in operation.path_parameters])


# --- generative phase ---------------------------------------------------------------------------


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


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_the_api_keeps_its_schema(api, db, method, path):
    world, schema = api
    operation = schema[path][method]
    strategy = st.one_of(
        [
            s
            for fixed in _variants(world, operation)
            for s in _strategies(world, operation, method, path, fixed)
        ]
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


# --- coverage phase -----------------------------------------------------------------------------


FORMS = {"application/x-www-form-urlencoded", "multipart/form-data"}
# The body fields each incident action reads (the operation's body documents them all).
READS = {name: set(action.serializer().fields) for name, action in incidents_api.ACTIONS.items()}


def _coverage_cases(operation):
    """The cases of schemathesis's coverage phase for `operation`, valid and invalid."""
    generation = operation.schema.config.generation_for(operation=operation, phase="coverage")
    return CoverageGenerator(
        operation=operation,
        generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        generation_config=generation,
        auth_storage=None,
        override=Override(),
        feedback=FeedbackSources(),
    )


def _about(case) -> tuple[ParameterLocation | None, str | None]:
    """What a coverage case is about: a path parameter (its name), a body field (its name,
    e.g. "layers" for /properties/layers/items/...), or neither (None, None)."""
    # `_meta`, as schemathesis's own coverage_scenario() reads it: `meta` would revalidate.
    data = case._meta.phase.data if case._meta else None
    if not isinstance(data, CoveragePhaseData):
        return None, None
    if data.parameter_location == ParameterLocation.PATH:
        return ParameterLocation.PATH, data.parameter
    location = (data.location or "").split("/")
    if data.parameter_location == ParameterLocation.BODY and location[1:2] == ["properties"]:
        return ParameterLocation.BODY, location[2]
    return None, None


def _sent_as_another_form(case, sent: set) -> bool:
    """True when the other form encoding already sent this case's values: DRF's FormParser
    and MultiPartParser both hand the serializer a QueryDict, so the twin would test nothing
    new; skipping the twins spares about 600 of 4,500 requests."""
    if case.media_type not in FORMS:
        return False
    key = repr((case.method, case.path_parameters, case.query, case.headers, case.body))
    if key in sent:
        return True
    sent.add(key)
    return False


def _coverage_requests(world: World, operation):
    """Each coverage case with the world's objects as path parameters. A case about a path
    parameter keeps its generated value, once; a case about a body field goes to each
    incident action that reads the field; any other case to each action."""
    variants = _variants(world, operation)
    forms_sent: set = set()
    for case in _coverage_cases(operation):
        if _sent_as_another_form(case, forms_sent):
            continue
        generated = dict(case.path_parameters or {})
        where, name = _about(case)
        if where == ParameterLocation.PATH:
            targets = [{**variants[0], name: generated.get(name, variants[0][name])}]
        elif where == ParameterLocation.BODY:
            reading = [v for v in variants if name in READS.get(v.get("action"), {name})]
            targets = reading or variants[:1]
        else:
            targets = variants
        for fixed in targets:
            case.path_parameters = fixed
            yield case


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_the_api_answers_its_coverage_cases(api, db, method, path):
    world, schema = api
    operation = schema[path][method]
    failures, sent = [], 0
    for case in _coverage_requests(world, operation):
        sent += 1
        with transaction.atomic():
            try:
                case.call_and_validate(headers=_auth(world), checks=CHECKS)
            except FailureGroup as failure:
                failures.append(str(failure))
            transaction.set_rollback(True)
    assert sent, f"{method} {path}: the coverage phase made no case"
    assert not failures, f"{len(failures)} of {sent} cases failed:\n" + "\n".join(failures)
