"""API for provisioning: POST /api/v1/provisioning/plan and /apply with a document (YAML, or
its JSON equivalent) of teams the caller manages (staff: any team, and new ones). The rules
are incidents.provisioning.apply's, the same as `manage.py provision apply`'s."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError, PermissionDenied
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.parsers import BoundedJSONParser
from incidents.provisioning import apply as provisioning_apply
from incidents.provisioning import diff, document
from incidents.provisioning.plan import Plan
from oncall.models import Team
from oncall.permissions import can_manage


class YamlParser(BaseParser):
    """The document as sent; incidents.provisioning.document reads it."""

    media_type = "application/yaml"

    def parse(self, stream, media_type=None, parser_context=None):
        # Read straight from the stream, Django's body-size limit would not apply: the same
        # bound, here.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        data = stream.read(limit + 1) if limit else stream.read()
        if limit and len(data) > limit:
            raise ParseError(f"The document is larger than {limit} bytes.")
        return data.decode("utf-8", errors="replace")


class ChangeOut(serializers.Serializer):
    action = serializers.ChoiceField(choices=["create", "update", "delete", "keep"])
    object = serializers.CharField(
        help_text="kind and natural key, e.g. `schedule payments/Primary`"
    )
    fields = serializers.DictField(
        help_text="create/delete: the values; update: {field: [old, new]}"
    )
    note = serializers.CharField(help_text="why a `keep` is not deleted")


class PlanOut(serializers.Serializer):
    applied = serializers.BooleanField()
    invited = serializers.ListField(child=serializers.EmailField())
    changes = ChangeOut(many=True)
    lines = serializers.ListField(child=serializers.CharField(), help_text="the plan as text")


FLAGS = [
    OpenApiParameter("prune", OpenApiTypes.BOOL, description="delete what the document omits"),
    OpenApiParameter("invite", OpenApiTypes.BOOL, description="invite unknown emails"),
]
DOCUMENT = {
    "application/json": {"type": "object", "description": "docs/provisioning.schema.json"},
    "application/yaml": {"type": "string", "description": "docs/provisioning.schema.json"},
}


def _flag(request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in {"1", "true", "yes"}


def _out(found: Plan, *, applied: bool, invite: bool) -> dict:
    return {
        "applied": applied,
        "invited": found.unknown_users if invite else [],
        "changes": [
            {
                "action": c.action,
                "object": diff.label(c.key),
                "fields": c.fields,
                "note": c.note,
            }
            for c in found.changes
        ],
        "lines": found.lines(invite=invite),
    }


class _ProvisioningView(APIView):
    parser_classes = [BoundedJSONParser, YamlParser]
    apply = False

    def post(self, request):
        body = request.data
        try:
            raw = document.parse_text(body) if isinstance(body, str) else body
            if not isinstance(raw, dict):
                raise document.DocumentError(["document: expected an object"])
            document.check(raw)
            desired = document.canonical(raw)
        except document.DocumentError as exc:
            return Response({"document": exc.problems}, status=status.HTTP_400_BAD_REQUEST)
        slugs = [team["slug"] for team in desired["teams"]]
        existing = {team.slug: team for team in Team.objects.filter(slug__in=slugs)}
        for slug in slugs:
            team = existing.get(slug)
            allowed = can_manage(request.user, team) if team else request.user.is_staff
            if not allowed:
                # The same answer whether the team exists or not: nothing is learnt of others.
                raise PermissionDenied(f"You do not manage team {slug!r}; nothing was changed.")
        prune, invite = _flag(request, "prune"), _flag(request, "invite")
        step = provisioning_apply.apply if self.apply else provisioning_apply.check
        try:
            found = step(desired, actor=request.user, prune=prune, invite=invite)
        except document.DocumentError as exc:
            return Response({"document": exc.problems}, status=status.HTTP_400_BAD_REQUEST)
        return Response(_out(found, applied=self.apply, invite=invite))


class ProvisioningPlan(_ProvisioningView):
    @extend_schema(
        operation_id="v1_provisioning_plan",
        request=DOCUMENT,
        parameters=FLAGS,
        responses=PlanOut,
        description="What applying the document would change; changes nothing.",
    )
    def post(self, request):
        return super().post(request)


class ProvisioningApply(_ProvisioningView):
    apply = True

    @extend_schema(
        operation_id="v1_provisioning_apply",
        request=DOCUMENT,
        parameters=FLAGS,
        responses=PlanOut,
        description="Make the document's changes in one transaction (all or nothing), audited.",
    )
    def post(self, request):
        return super().post(request)
