"""What an API view answers to OPTIONS (REST_FRAMEWORK's DEFAULT_METADATA_CLASS, so every view).

DRF's SimpleMetadata describes the fields of POST and PUT with `view.get_serializer()`,
which a GenericAPIView that declares no `serializer_class` (one used for its pagination
only, that validates its input itself) cannot give: an AssertionError, a 500. Here such a
view is described like a plain APIView: name, description, renders, parses. The OpenAPI
schema (/api/schema/) is the full description of every operation's input.
"""

from __future__ import annotations

from rest_framework.metadata import SimpleMetadata


def declares_serializer(view) -> bool:
    """True when the view can build its input serializer with `get_serializer()`."""
    if not hasattr(view, "get_serializer"):
        return False
    if getattr(view, "serializer_class", None) is not None:
        return True
    # A view may choose its serializer in code rather than name one. (Imported here: DRF
    # imports this module while it defines APIView, which rest_framework.generics needs.)
    from rest_framework.generics import GenericAPIView

    return type(view).get_serializer_class is not GenericAPIView.get_serializer_class


class ApiMetadata(SimpleMetadata):
    def determine_actions(self, request, view):
        if not declares_serializer(view):
            return {}
        return super().determine_actions(request, view)
