"""What the OpenAPI schema says that no single view should repeat: the personal API token as a
bearer scheme, and the error answers any operation may give.

Every list is paged alike (core.pagination) and documents its page (the envelope, and the
`page` / `page_size` query parameters) through its view's `pagination_class` and a
`many=True` response: drf-spectacular asks the pagination class for both, so a view that
builds its paginator by hand, or describes the envelope itself, shows no parameters."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "core.auth.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (pl_...), created at /account/tokens/.",
        }


_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# Every 400 has one shape, whichever app refused the input (a serializer, or a service's
# core.errors.FieldErrors through core.api_errors): DRF's own.
FIELD_ERRORS = {
    "type": "object",
    "description": (
        'Each refused field with its messages: {"field": ["message", ...]}. Nested input nests '
        '({"layers": {"1": {"participants": ["..."]}}}, a list of objects answers a list); '
        'errors about the input as a whole are under "non_field_errors". A body that cannot '
        'be read at all answers {"detail": "..."}.'
    ),
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
            {"type": "object", "description": "the nested fields' (or items') errors"},
        ]
    },
}

ERRORS = {
    "400": ("Invalid input; the body names each refused field.", "FieldErrors", FIELD_ERRORS),
    "401": ("No valid session or API token.", "Error", _DETAIL),
    "403": ("Your role in the team does not allow this.", "Error", _DETAIL),
    "404": ("No such object among your teams' (or no such page).", "Error", _DETAIL),
    "429": ("Too many requests; retry after the Retry-After header's seconds.", "Error", _DETAIL),
}
# Only operations that take a body: one the parsers cannot read (e.g. broken multipart).
UNREADABLE = ("415", ("The body's content type or encoding cannot be read.", "Error", _DETAIL))
CONFLICT = {409: inline_serializer("Conflict", fields={"detail": serializers.CharField()})}


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation may answer the ERRORS codes."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for _code, (_text, name, schema) in ERRORS.items():
        schemas.setdefault(name, schema)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            errors = [*ERRORS.items(), *([UNREADABLE] if "requestBody" in operation else [])]
            for code, (text, name, _schema) in errors:
                responses.setdefault(
                    code,
                    {
                        "description": text,
                        "content": {
                            "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                        },
                    },
                )
    return result
