"""The OpenAPI schema documents what every /api/v1/ operation answers: no success response
is a bare "some object", so clients (and tests/test_schemathesis.py, which checks answers
against the schema) know each field. A free-form object is allowed only as a field that says
what it holds (a description), like a timeline entry's kind-specific `data`."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from incidents.timeline.api import ACTIONS
from incidents.timeline.serializers import ActionBodyDoc

JSON = "application/json"


@pytest.fixture(scope="module")
def document() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = document["components"]["schemas"][name]
    return schema


def vague_parts(document: dict, schema: dict, where: str, seen: frozenset = frozenset()):
    """Where in `schema` an object has no properties and no typed values, undescribed."""
    ref = schema.get("$ref")
    if ref in seen:
        return
    seen = seen | {ref} if ref else seen
    described = "description" in schema and not ref  # a component's docstring does not count
    schema = _resolve(document, schema)
    composite = [key for key in ("allOf", "oneOf", "anyOf") if key in schema]
    for key in composite:
        for index, part in enumerate(schema[key]):
            yield from vague_parts(document, part, f"{where}.{key}[{index}]", seen)
    kind = schema.get("type")
    if kind == "array":
        yield from vague_parts(document, schema.get("items", {}), f"{where}[]", seen)
    elif kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        values = schema.get("additionalProperties")
        typed_values = isinstance(values, dict) and bool(values)
        if not properties and not typed_values and not described:
            yield where
        for name, field in properties.items():
            yield from vague_parts(document, field, f"{where}.{name}", seen)
        if typed_values:
            yield from vague_parts(document, values, f"{where}.*", seen)
    elif not kind and not composite and not schema.get("enum"):
        yield f"{where} (no type)"


def _success_responses(document: dict):
    for path, operations in document["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                if code.startswith("2"):
                    yield f"{method.upper()} {path} {code}", code, response


def test_every_api_success_response_is_described_field_by_field(document):
    operations = list(_success_responses(document))
    assert len(operations) > 50
    problems = []
    for name, code, response in operations:
        content = response.get("content", {})
        if code == "204":
            if content:
                problems.append(f"{name}: a 204 has no body")
            continue
        if not content:
            problems.append(f"{name}: no body documented")
        for media_type, body in content.items():
            schema = body.get("schema")
            if schema is None:
                problems.append(f"{name} {media_type}: no schema")
            elif media_type == JSON:
                if _resolve(document, schema).get("type") not in {"object", "array"}:
                    problems.append(f"{name}: not a JSON object or array")
                problems += [f"{name}: {part}" for part in vague_parts(document, schema, "body")]
            elif _resolve(document, schema).get("type") != "string":
                problems.append(f"{name} {media_type}: a file's body is a (binary) string")
    assert not problems, "\n".join(problems)


def test_the_check_finds_a_bare_object(document):
    generic = {"type": "object", "additionalProperties": {}}
    page = {"type": "object", "properties": {"results": {"type": "array", "items": generic}}}
    assert list(vague_parts(document, generic, "body")) == ["body"]
    assert list(vague_parts(document, page, "body")) == ["body.results[]"]
    free_form = {**generic, "description": "the event's own fields"}
    assert list(vague_parts(document, {"type": "array", "items": free_form}, "body")) == []
    strings = {"type": "object", "additionalProperties": {"type": "string"}}
    assert list(vague_parts(document, strings, "body")) == []


def test_paged_lists_document_their_page_parameters(document):
    paged = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body = operation["responses"].get("200", {}).get("content", {}).get(JSON, {})
            if "next" in _resolve(document, body.get("schema", {})).get("properties", {}):
                names = {parameter["name"] for parameter in operation.get("parameters", [])}
                paged[f"{method.upper()} {path}"] = names
    assert len(paged) >= 8
    assert not [name for name, parameters in paged.items() if "page" not in parameters]
    assert "page_size" in paged["GET /api/v1/incidents/"]


def _readers(help_text: str) -> dict[str, bool]:
    """{action: required?} from "resolve, reopen: optional, why; impact-start: required, ..."."""
    readers = {}
    for part in help_text.split(";"):
        actions, _, what = part.partition(":")
        for action in actions.split(","):
            readers[action.strip()] = what.strip().startswith("required")
    return readers


def test_the_action_body_names_the_actions_that_read_each_field():
    # The action's body is documented by one serializer; each action's own validates it.
    read = {}
    for action, spec in ACTIONS.items():
        for name, field in spec.serializer().fields.items():
            read.setdefault(name, {})[action] = field.required
    documented = ActionBodyDoc().fields
    assert {name: _readers(field.help_text) for name, field in documented.items()} == read
    assert not [name for name, field in documented.items() if field.required]


def test_operation_ids_are_unique(document):
    ids = [
        operation["operationId"]
        for operations in document["paths"].values()
        for operation in operations.values()
    ]
    assert len(ids) == len(set(ids))
    assert not [i for i in ids if i[-2:-1] == "_" and i[-1].isdigit()], "numbered duplicates"


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    # What `manage.py spectacular --validate --fail-on-warn` checks: no field type guessed,
    # no operationId or enum name collision, and a valid OpenAPI document.
    GENERATOR_STATS.reset()
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
