"""The API's exception handler (REST_FRAMEWORK["EXCEPTION_HANDLER"]): a service's
`FieldErrors` answers 400 with DRF's usual body, ``{"field": ["message", ...]}``, the same
shape as a serializer's own errors, so every API names refused fields one way."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import FieldErrors


def exception_handler(exc, context):
    if isinstance(exc, FieldErrors):
        exc = ValidationError(exc.errors)
    return drf_exception_handler(exc, context)
