"""API for named heartbeats: an Opsgenie integration's heartbeats that senders ping at
`/v2/heartbeats/<name>/ping` (incidents.intake.heartbeats, whose services also serve the
integration's page, `POST /v2/heartbeats` and provisioning). Members of the integration's
team read; its managers write; outsiders get 404, as for the integrations themselves."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import FieldErrors
from core.fields import MAX_STORED_INT, ObjectIdField, query_number
from core.pagination import PaginatedList
from incidents.catalog.api import _integrations, _require_manager
from incidents.intake import heartbeats
from incidents.models import NamedHeartbeat

NAME_HELP = "what senders ping: /v2/heartbeats/<name>/ping, with the integration's GenieKey"
INTERVAL_HELP = "no ping for longer than this opens a critical incident; at least 60"
ENABLED_HELP = "false: not watched (no incident opens), pings still recorded"


class HeartbeatSerializer(serializers.ModelSerializer):
    integration = serializers.IntegerField(source="integration_id", read_only=True)

    class Meta:
        model = NamedHeartbeat
        fields = [
            "id",
            "integration",
            "name",
            "description",
            "interval_seconds",
            "enabled",
            "created_at",
            "last_ping_at",
        ]
        read_only_fields = fields


class HeartbeatCreateSerializer(serializers.Serializer):
    integration = ObjectIdField(help_text="the id of an Opsgenie integration")
    name = serializers.CharField(max_length=200, help_text=NAME_HELP)
    interval_seconds = serializers.IntegerField(
        min_value=60, max_value=MAX_STORED_INT, help_text=INTERVAL_HELP
    )
    description = serializers.CharField(max_length=1000, allow_blank=True, default="")
    enabled = serializers.BooleanField(default=True, help_text=ENABLED_HELP)


class HeartbeatUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(
        required=False,
        help_text="cannot change (senders ping by it): create another heartbeat instead",
    )
    interval_seconds = serializers.IntegerField(
        min_value=60, max_value=MAX_STORED_INT, required=False, help_text=INTERVAL_HELP
    )
    description = serializers.CharField(max_length=1000, allow_blank=True, required=False)
    enabled = serializers.BooleanField(required=False, help_text=ENABLED_HELP)

    def validate_name(self, value: str) -> str:
        if value != self.context["heartbeat"].name:
            raise ValidationError(
                "cannot be changed: senders ping the heartbeat by its name; create one by the "
                "new name and delete this one"
            )
        return value


def _refused(exc: FieldErrors) -> FieldErrors:
    """The service's errors under this API's field names (it says `interval`, as
    `POST /v2/heartbeats` does)."""
    renamed = {"interval": "interval_seconds"}
    return FieldErrors({renamed.get(key, key): value for key, value in exc.errors.items()})


def _heartbeats(request):
    return NamedHeartbeat.objects.filter(integration__in=_integrations(request)).select_related(
        "integration__service"
    )


def _heartbeat(request, heartbeat_id: int) -> NamedHeartbeat:
    heartbeat = _heartbeats(request).filter(pk=heartbeat_id).first()
    if heartbeat is None:
        raise Http404("no such heartbeat")
    return heartbeat


_INTEGRATION = OpenApiParameter(
    "integration", OpenApiTypes.INT, description="only this integration's (id)"
)


class HeartbeatList(PaginatedList, APIView):
    @extend_schema(parameters=[_INTEGRATION], responses=HeartbeatSerializer(many=True))
    def get(self, request):
        found = _heartbeats(request)
        integration_id = query_number(request, "integration")
        if integration_id is not None:
            found = found.filter(integration_id=integration_id)
        page = self.paginate_queryset(found.order_by("integration_id", "name", "pk"))
        return self.get_paginated_response(HeartbeatSerializer(page, many=True).data)

    @extend_schema(request=HeartbeatCreateSerializer, responses={201: HeartbeatSerializer})
    def post(self, request):
        serializer = HeartbeatCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        integration = _integrations(request).filter(pk=fields.pop("integration")).first()
        if integration is None:
            raise ValidationError({"integration": ["no such integration"]})
        _require_manager(request.user, integration.service.team_id)
        try:
            heartbeat = heartbeats.named_heartbeat_create(
                actor=request.user, integration=integration, **fields
            )
        except FieldErrors as exc:
            raise _refused(exc) from None
        return Response(HeartbeatSerializer(heartbeat).data, status=status.HTTP_201_CREATED)


class HeartbeatDetail(APIView):
    @extend_schema(responses=HeartbeatSerializer)
    def get(self, request, heartbeat_id: int):
        return Response(HeartbeatSerializer(_heartbeat(request, heartbeat_id)).data)

    @extend_schema(request=HeartbeatUpdateSerializer, responses=HeartbeatSerializer)
    def patch(self, request, heartbeat_id: int):
        heartbeat = _heartbeat(request, heartbeat_id)
        _require_manager(request.user, heartbeat.integration.service.team_id)
        serializer = HeartbeatUpdateSerializer(data=request.data, context={"heartbeat": heartbeat})
        serializer.is_valid(raise_exception=True)
        wanted = serializer.validated_data
        try:
            heartbeats.named_heartbeat_update(
                actor=request.user,
                heartbeat=heartbeat,
                interval_seconds=wanted.get("interval_seconds", heartbeat.interval_seconds),
                description=wanted.get("description", heartbeat.description),
                enabled=wanted.get("enabled", heartbeat.enabled),
            )
        except FieldErrors as exc:
            raise _refused(exc) from None
        return Response(HeartbeatSerializer(heartbeat).data)

    @extend_schema(responses={204: None})
    def delete(self, request, heartbeat_id: int):
        heartbeat = _heartbeat(request, heartbeat_id)
        _require_manager(request.user, heartbeat.integration.service.team_id)
        heartbeats.named_heartbeat_delete(actor=request.user, heartbeat=heartbeat)
        return Response(status=status.HTTP_204_NO_CONTENT)
