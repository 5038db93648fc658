"""API for maintenance windows: /api/v1/maintenance-windows/. Viewers read, managers plan
and end windows; the rules are in incidents.maintenance.windows."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from core.fields import ObjectIdField
from core.pagination import PaginatedList
from incidents.maintenance import selectors
from incidents.maintenance import windows as maintenance_windows
from incidents.models import MaintenanceWindow, Service
from oncall.permissions import can_manage
from oncall.selectors import teams_for


class WindowOut(serializers.ModelSerializer):
    services = serializers.SerializerMethodField()
    created_by = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()

    class Meta:
        model = MaintenanceWindow
        fields = [
            "id",
            "team",
            "services",
            "starts_at",
            "ends_at",
            "reason",
            "status",
            "created_by",
            "created_at",
            "cancelled_at",
        ]

    def get_services(self, window) -> list[int]:
        return [s.pk for s in window.services.all()]

    def get_created_by(self, window) -> str | None:
        return window.created_by.username if window.created_by else None

    def get_status(self, window) -> str:
        return window.status_at(self.context.get("now") or timezone.now())


class WindowIn(serializers.Serializer):
    team = ObjectIdField()
    services = serializers.ListField(child=ObjectIdField(), allow_empty=False)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    reason = serializers.CharField(max_length=500)


def _window(request, window_id: int) -> MaintenanceWindow:
    window = selectors.maintenance_windows_for(request.user).filter(pk=window_id).first()
    if window is None:
        raise NotFound("no such maintenance window")
    return window


class MaintenanceWindowList(PaginatedList, APIView):
    @extend_schema(
        responses=WindowOut(many=True),
        operation_id="v1_maintenance_windows_list",
    )
    def get(self, request):
        windows = selectors.maintenance_windows_for(request.user).order_by("-starts_at", "-id")
        page = self.paginate_queryset(windows)
        data = WindowOut(page, many=True, context={"now": timezone.now()}).data
        return self.get_paginated_response(data)

    @extend_schema(request=WindowIn, responses={201: WindowOut})
    def post(self, request):
        incoming = WindowIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        team = teams_for(request.user).filter(pk=data["team"]).first()
        if team is None:
            return Response({"team": ["no such team"]}, status=status.HTTP_400_BAD_REQUEST)
        if not can_manage(request.user, team):
            raise PermissionDenied("only team managers plan maintenance")
        services = list(Service.objects.filter(pk__in=data["services"]))
        missing = sorted(set(data["services"]) - {s.pk for s in services})
        if missing:
            return Response(
                {"services": [f"unknown service ids: {missing}"]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        window = maintenance_windows.maintenance_create(
            team=team,
            services=services,
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            reason=data["reason"],
            created_by=request.user,
        )
        return Response(WindowOut(_window(request, window.pk)).data, status=status.HTTP_201_CREATED)


class MaintenanceWindowDetail(APIView):
    @extend_schema(responses=WindowOut)
    def get(self, request, window_id: int):
        return Response(WindowOut(_window(request, window_id)).data)


class MaintenanceWindowEnd(APIView):
    @extend_schema(request=None, responses=WindowOut)
    def post(self, request, window_id: int):
        window = _window(request, window_id)
        if not can_manage(request.user, window.team_id):
            raise PermissionDenied("only team managers end maintenance")
        maintenance_windows.maintenance_end(window_id=window.pk, user=request.user)
        return Response(WindowOut(_window(request, window_id)).data)
