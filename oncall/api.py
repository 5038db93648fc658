"""Schedules API (DRF, session auth), under /api/v1/schedules/.

Viewers read, responders add and remove overrides for themselves, managers configure schedules
and override for anyone; a schedule of someone else's team is a 404. Instants are UTC ISO 8601,
durations seconds, layer handoffs local wall-clock times in the schedule's zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.instants import utc_instant
from core.pagination import PaginatedList
from oncall import permissions, selectors, services
from oncall.models import Override, Schedule
from oncall.serializers import (
    OncallOut,
    OverrideInputSerializer,
    OverrideOut,
    ScheduleInputSerializer,
    ScheduleOut,
    SchedulePatchSerializer,
    override_json,
    schedule_json,
    shift_json,
    utc_iso,
)

MAX_RANGE = timedelta(days=366)
DEFAULT_RANGE = timedelta(days=14)


def _visible(request, schedule_id: int) -> Schedule:
    try:
        return selectors.schedule_for(request.user, schedule_id)
    except Schedule.DoesNotExist:
        raise NotFound("No such schedule.") from None


def _detail(schedule_id: int) -> dict:
    schedule = selectors.with_layers(Schedule.objects.select_related("team")).get(pk=schedule_id)
    return schedule_json(schedule)


def _instant(request, name: str, default: datetime | None = None) -> datetime:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        if default is None:
            raise ValidationError({name: ["This parameter is required."]})
        return default
    # An unencoded "+02:00" arrives as " 02:00"; put the sign back rather than fail.
    candidates = [raw, raw.replace(" ", "+")] if " " in raw else [raw]
    for candidate in candidates:
        try:
            value = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationError(
                {name: ["Add a UTC offset (e.g. Z or +02:00); a time without one is ambiguous."]}
            )
        utc = utc_instant(value)
        if utc is None:
            raise ValidationError({name: ["Give a time between 1970 and 2999."]})
        return utc
    raise ValidationError(
        {name: ["Use an ISO 8601 time with a UTC offset, e.g. 2026-03-29T07:00:00Z."]}
    )


def _instants(*names: str) -> list[OpenApiParameter]:
    return [
        OpenApiParameter(name, OpenApiTypes.DATETIME, description="ISO 8601 with a UTC offset")
        for name in names
    ]


_SHIFTS = inline_serializer(
    "Shift",
    fields={
        "user": serializers.CharField(allow_null=True, help_text="username"),
        "start": serializers.DateTimeField(),
        "end": serializers.DateTimeField(),
        "source": serializers.CharField(),
    },
    many=True,
)
_GAPS = inline_serializer(
    "Gap",
    fields={
        "start": serializers.DateTimeField(),
        "end": serializers.DateTimeField(),
        "duration_seconds": serializers.FloatField(),
    },
    many=True,
)


def _range(request) -> tuple[datetime, datetime]:
    start = _instant(request, "start", timezone.now())
    end = _instant(request, "end", start + DEFAULT_RANGE)
    if end <= start:
        raise ValidationError({"end": ["Must be after start."]})
    if end - start > MAX_RANGE:
        raise ValidationError({"end": [f"The range may span at most {MAX_RANGE.days} days."]})
    return start, end


class ScheduleList(GenericAPIView):
    def get_queryset(self) -> QuerySet[Schedule]:
        return selectors.with_layers(selectors.schedules_for(self.request.user))

    @extend_schema(
        responses=ScheduleOut(many=True),  # paged by pagination_class, which the schema shows
        operation_id="v1_schedules_list",
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([schedule_json(s) for s in page])

    @extend_schema(request=ScheduleInputSerializer, responses={201: ScheduleOut})
    def post(self, request):
        body = ScheduleInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        slug = data.get("team")
        if not slug:
            raise ValidationError({"team": ["This field is required."]})
        team = selectors.teams_for(request.user).filter(slug=slug).first()
        if team is None:
            raise ValidationError({"team": [f"Unknown team: {slug}."]})
        if not permissions.can_manage(request.user, team):
            raise PermissionDenied("Only managers of the team can create schedules.")
        options = {}
        if "handoff_notice_seconds" in data:
            options["handoff_notice_seconds"] = data["handoff_notice_seconds"]
        schedule = services.schedule_create(
            team=team,
            name=data["name"],
            time_zone=data["time_zone"],
            layers=data["layer_specs"],
            **options,
        )
        return Response(_detail(schedule.pk), status=status.HTTP_201_CREATED)


class ScheduleDetail(APIView):
    @extend_schema(responses=ScheduleOut)
    def get(self, request, schedule_id: int):
        return Response(_detail(_visible(request, schedule_id).pk))

    @extend_schema(request=ScheduleInputSerializer, responses=ScheduleOut)
    def put(self, request, schedule_id: int):
        return self._update(request, schedule_id, partial=False)

    @extend_schema(request=SchedulePatchSerializer, responses=ScheduleOut)
    def patch(self, request, schedule_id: int):
        return self._update(request, schedule_id, partial=True)

    @extend_schema(responses={204: None})
    def delete(self, request, schedule_id: int):
        schedule = self._managed(request, schedule_id)
        services.schedule_delete(schedule=schedule)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _managed(self, request, schedule_id: int) -> Schedule:
        schedule = _visible(request, schedule_id)
        if not permissions.can_manage(request.user, schedule.team_id):
            raise PermissionDenied("Only managers of the team can change schedules.")
        return schedule

    def _update(self, request, schedule_id: int, *, partial: bool):
        schedule = self._managed(request, schedule_id)
        serializer = SchedulePatchSerializer if partial else ScheduleInputSerializer
        body = serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data.get("team", schedule.team.slug) != schedule.team.slug:
            raise ValidationError({"team": ["A schedule cannot move to another team."]})
        services.schedule_update(
            schedule=schedule,
            name=data.get("name"),
            time_zone=data.get("time_zone"),
            handoff_notice_seconds=data.get(
                "handoff_notice_seconds",
                None if partial else services.DEFAULT_HANDOFF_NOTICE_SECONDS,
            ),
            layers=data.get("layer_specs"),
        )
        return Response(_detail(schedule.pk))


class ScheduleShifts(PaginatedList, APIView):
    """Final shifts in [start, end) (default: the next 14 days), cut at the range, in order."""

    @extend_schema(parameters=_instants("start", "end"), responses=_SHIFTS)
    def get(self, request, schedule_id: int):
        schedule = _visible(request, schedule_id)
        start, end = _range(request)
        page = self.paginate_queryset(selectors.schedule_shifts(schedule, start=start, end=end))
        return self.get_paginated_response([shift_json(shift) for shift in page])


class ScheduleGaps(PaginatedList, APIView):
    """Stretches of [start, end) (default: the next 14 days) with nobody on call, in order."""

    @extend_schema(parameters=_instants("start", "end"), responses=_GAPS)
    def get(self, request, schedule_id: int):
        schedule = _visible(request, schedule_id)
        start, end = _range(request)
        page = self.paginate_queryset(selectors.schedule_gaps(schedule, start=start, end=end))
        return self.get_paginated_response(
            [
                {
                    "start": utc_iso(gap.start),
                    "end": utc_iso(gap.end),
                    "duration_seconds": (gap.end - gap.start).total_seconds(),
                }
                for gap in page
            ]
        )


class ScheduleOncall(APIView):
    """Who is on call at ``at`` (default now), with the whole shift they are in."""

    @extend_schema(parameters=_instants("at"), responses=OncallOut)
    def get(self, request, schedule_id: int):
        schedule = _visible(request, schedule_id)
        at = _instant(request, "at", timezone.now())
        shift = selectors.schedule_oncall(schedule, at=at)
        return Response(
            {
                "at": utc_iso(at),
                "user": shift.user if shift else None,
                "source": shift.source if shift else None,
                "shift_start": utc_iso(shift.start) if shift else None,
                "shift_end": utc_iso(shift.end) if shift else None,
            }
        )


class OverrideList(GenericAPIView):
    """GET: overrides overlapping [start, end) (default: those not yet over). POST: add one."""

    @extend_schema(
        parameters=_instants("start", "end"),
        responses=OverrideOut(many=True),  # paged by pagination_class, which the schema shows
        operation_id="v1_schedules_overrides_list",
    )
    def get(self, request, schedule_id: int):
        schedule = _visible(request, schedule_id)
        start = _instant(request, "start", timezone.now())
        end = _instant(request, "end", datetime.max.replace(tzinfo=UTC))
        if end <= start:
            raise ValidationError({"end": ["Must be after start."]})
        page = self.paginate_queryset(selectors.override_list(schedule, start=start, end=end))
        return self.get_paginated_response([override_json(o) for o in page])

    @extend_schema(request=OverrideInputSerializer, responses={201: OverrideOut})
    def post(self, request, schedule_id: int):
        schedule = _visible(request, schedule_id)
        body = OverrideInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = data.get("user", request.user)
        if not permissions.can_override_for(request.user, schedule.team_id, user):
            raise PermissionDenied(
                "Responders may add overrides for themselves only; managers for anyone."
            )
        override = services.override_create(
            schedule=schedule,
            user=user,
            start=data["start"],
            end=data["end"],
            replaces=data.get("replaces"),
            created_by=request.user,
        )
        override = Override.objects.select_related("user", "replaces", "created_by").get(
            pk=override.pk
        )
        return Response(override_json(override), status=status.HTTP_201_CREATED)


class OverrideDetail(APIView):
    def _get(self, request, schedule_id: int, override_id: int) -> Override:
        schedule = _visible(request, schedule_id)
        return get_object_or_404(
            Override.objects.select_related("user", "replaces", "created_by"),
            schedule=schedule,
            pk=override_id,
        )

    @extend_schema(responses=OverrideOut)
    def get(self, request, schedule_id: int, override_id: int):
        return Response(override_json(self._get(request, schedule_id, override_id)))

    @extend_schema(responses={204: None})
    def delete(self, request, schedule_id: int, override_id: int):
        override = self._get(request, schedule_id, override_id)
        team_id = Schedule.objects.filter(pk=schedule_id).values_list("team_id", flat=True).get()
        if not permissions.can_override_for(request.user, team_id, override.user):
            raise PermissionDenied(
                "Responders may remove their own overrides only; managers anyone's."
            )
        services.override_delete(override=override)
        return Response(status=status.HTTP_204_NO_CONTENT)
