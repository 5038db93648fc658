"""How the API answers errors, whatever raised them.

- `exception_handler` (REST_FRAMEWORK["EXCEPTION_HANDLER"]): a service's `FieldErrors`
  answers 400 with DRF's usual body, ``{"field": ["message", ...]}``, the same shape as a
  serializer's own errors, so every API names refused fields one way.
- `page_not_found` (the root URLconf's handler404): a URL under /api/ that no pattern
  matches, e.g. a path parameter of the wrong type (/api/v1/tokens/abc/, which the `int`
  converter refuses), answers 404 in JSON like an API view's own 404, as the schema
  documents, instead of Django's HTML page. Test: tests/test_api_not_found.py."""

from __future__ import annotations

from django.http import JsonResponse
from django.views import defaults
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import FieldErrors

API_PREFIX = "/api/"


def exception_handler(exc, context):
    if isinstance(exc, FieldErrors):
        exc = ValidationError(exc.errors)
    return drf_exception_handler(exc, context)


def page_not_found(request, exception):
    if request.path_info.startswith(API_PREFIX):
        return JsonResponse({"detail": str(NotFound.default_detail)}, status=404)
    return defaults.page_not_found(request, exception)
