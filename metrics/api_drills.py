"""REST API for failover drills and weekly reports (DRF, session auth); routes in
metrics/urls.py. Kept apart from metrics/api.py (the MTTx figures) by area.

Durations are seconds (numbers), instants UTC ISO 8601. Outsiders get 404, bad input 400
naming the field, an action that does not fit the current state 409.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.fields import (
    MAX_STORED_INT,
    AwareDateTimeField,
    ObjectIdField,
    query_number,
    query_text,
    whole_number,
)
from core.openapi import CONFLICT
from core.pagination import PaginatedList
from incidents.models import Service
from metrics import definitions, drills, selectors_drills
from metrics.models import Drill, DrillService, WeeklyReport
from metrics.serializers import DrillOut, DrillReviewOut, WeeklyReportOut
from oncall import permissions
from oncall.selectors import teams_for


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


class DrillTargetIn(serializers.Serializer):
    service = serializers.SlugField()
    max_mttd_seconds = serializers.IntegerField(
        min_value=0, max_value=MAX_STORED_INT, required=False, allow_null=True
    )
    max_mttr_seconds = serializers.IntegerField(
        min_value=0, max_value=MAX_STORED_INT, required=False, allow_null=True
    )


class DrillCreateIn(serializers.Serializer):
    team = serializers.SlugField()
    name = serializers.CharField(max_length=200)
    scenario = serializers.CharField(required=False, allow_blank=True, default="")
    grace_seconds = serializers.IntegerField(min_value=0, max_value=7 * 86400, required=False)
    services = DrillTargetIn(many=True, allow_empty=False)


class ServiceAtIn(serializers.Serializer):
    service = serializers.SlugField()
    at = AwareDateTimeField(required=False)


class FinishIn(serializers.Serializer):
    at = AwareDateTimeField(required=False)


class IncidentIn(serializers.Serializer):
    incident = ObjectIdField()


def drill_json(drill: Drill) -> dict:
    return {
        "id": drill.pk,
        "team": drill.team.slug,
        "name": drill.name,
        "scenario": drill.scenario,
        "status": drill.status,
        "grace_seconds": drill.grace_seconds,
        "created_at": _iso(drill.created_at),
        "finished_at": _iso(drill.finished_at),
        "services": [
            {
                "service": t.service.slug,
                "name": t.service.name,
                "max_mttd_seconds": t.max_mttd_seconds,
                "max_mttr_seconds": t.max_mttr_seconds,
                "injected_at": _iso(t.injected_at),
                "restored_at": _iso(t.restored_at),
            }
            for t in drill.targets.all()
        ],
        "incidents": getattr(drill, "incident_count", None),
        "url": f"/drills/{drill.pk}/",
    }


def review_json(review: selectors_drills.DrillReview) -> dict:
    result = {True: "pass", False: "fail"}.get(review.passed, "pending")
    services = []
    for item in review.services:
        o = item.outcome
        services.append(
            {
                "service": item.service.slug,
                "name": item.service.name,
                "injected_at": _iso(o.injected_at),
                "detected_at": _iso(o.detected_at),
                "acknowledged_at": _iso(o.acknowledged_at),
                "resolved_at": _iso(o.resolved_at),
                "restored_at": _iso(o.restored_at),
                "mttd_seconds": o.mttd_seconds,
                "mtta_seconds": o.mtta_seconds,
                "mttr_seconds": o.mttr_seconds,
                "max_mttd_seconds": o.max_mttd_seconds,
                "max_mttr_seconds": o.max_mttr_seconds,
                "mttd_result": o.mttd_result,
                "mttr_result": o.mttr_result,
                "missed": o.missed,
                "passed": o.passed,
                "incidents": [
                    {
                        "id": a.incident.pk,
                        "title": a.incident.title,
                        "status": a.incident.status,
                        "detected_at": _iso(a.incident.detected_at),
                        "acknowledged_at": _iso(a.incident.acknowledged_at),
                        "resolved_at": _iso(a.incident.resolved_at),
                        "automatic": a.automatic,
                        "url": f"/incidents/{a.incident.pk}/",
                    }
                    for a in item.attachments
                ],
                "history": [
                    {
                        "drill": p.drill_id,
                        "name": p.drill_name,
                        "injected_at": _iso(p.injected_at),
                        "mttd_seconds": p.mttd_seconds,
                        "mttr_seconds": p.mttr_seconds,
                        "passed": p.passed,
                    }
                    for p in item.history
                ],
            }
        )
    return {
        "drill": {
            "id": review.drill.pk,
            "name": review.drill.name,
            "team": review.drill.team.slug,
            "status": review.drill.status,
            "finished_at": _iso(review.drill.finished_at),
        },
        "result": result,
        "missed_detections": [s.service.slug for s in review.missed],
        "services": services,
        "definitions": {
            "mttd": definitions.DRILL_MTTD,
            "mtta": definitions.DRILL_MTTA,
            "mttr": definitions.DRILL_MTTR,
        },
    }


def _error(exc: drills.DrillError) -> Response:
    body = (
        {exc.field: [exc.message]} if exc.status == 400 and exc.field else {"detail": exc.message}
    )
    return Response(body, status=exc.status)


def _forbidden(what: str) -> Response:
    return Response(
        {"detail": f"you may not {what} in this team"}, status=status.HTTP_403_FORBIDDEN
    )


class _DrillAPIBase(APIView):
    def drill(self, request, drill_id: str) -> Drill:
        # The URL's \d+ also matches "١٢" and ids no bigint holds: those name no drill.
        number = whole_number(drill_id)
        if number is None:
            raise Http404("no such drill")
        try:
            return selectors_drills.drill_for(request.user, number)
        except Drill.DoesNotExist:
            raise Http404("no such drill") from None


class DrillListAPI(PaginatedList, _DrillAPIBase):
    """GET: the drills of the user's teams (?team=slug); POST: create one (managers)."""

    @extend_schema(
        parameters=[OpenApiParameter("team", str, description="team slug")],
        responses=DrillOut(many=True),
        operation_id="v1_drills_list",
    )
    def get(self, request):
        drills_qs = selectors_drills.drill_list(request.user)
        team = query_text(request, "team")
        if team:
            drills_qs = drills_qs.filter(team__slug=team)
        page = self.paginate_queryset(drills_qs.order_by("-created_at", "-pk"))
        return self.get_paginated_response([drill_json(d) for d in page])

    @extend_schema(request=DrillCreateIn, responses={201: DrillOut, **CONFLICT})
    def post(self, request):
        body = DrillCreateIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        team = teams_for(request.user).filter(slug=data["team"]).first()
        if team is None:
            return Response({"team": ["no such team"]}, status=status.HTTP_400_BAD_REQUEST)
        if not permissions.can_manage(request.user, team):
            return _forbidden("create drills")
        wanted = [t["service"] for t in data["services"]]
        found = {s.slug: s for s in Service.objects.filter(team=team, slug__in=wanted)}
        unknown = [slug for slug in wanted if slug not in found]
        if unknown:
            message = f"not services of team {team.slug}: {', '.join(unknown)}"
            return Response({"services": [message]}, status=status.HTTP_400_BAD_REQUEST)
        targets = [
            drills.TargetSpec(
                service=found[t["service"]],
                max_mttd_seconds=t.get("max_mttd_seconds"),
                max_mttr_seconds=t.get("max_mttr_seconds"),
            )
            for t in data["services"]
        ]
        try:
            drill = drills.drill_create(
                team=team,
                name=data["name"],
                scenario=data["scenario"],
                grace_seconds=data.get("grace_seconds"),
                targets=targets,
                user=request.user,
            )
        except drills.DrillError as exc:
            return _error(exc)
        drill = selectors_drills.drill_list(request.user).get(pk=drill.pk)
        return Response(drill_json(drill), status=status.HTTP_201_CREATED)


class DrillDetailAPI(_DrillAPIBase):
    @extend_schema(responses=DrillOut)
    def get(self, request, drill_id: int):
        drill = self.drill(request, drill_id)
        return Response(drill_json(selectors_drills.drill_list(request.user).get(pk=drill.pk)))


class DrillReviewAPI(_DrillAPIBase):
    @extend_schema(responses=DrillReviewOut)
    def get(self, request, drill_id: int):
        drill = self.drill(request, drill_id)
        return Response(review_json(selectors_drills.drill_review(drill)))


class DrillServiceActionAPI(_DrillAPIBase):
    """POST inject / restore: {"service": slug, "at": optional ISO time (default: now)}."""

    action = ""

    @extend_schema(request=ServiceAtIn, responses={200: DrillOut, **CONFLICT})
    def post(self, request, drill_id: int):
        received = timezone.now()
        drill = self.drill(request, drill_id)
        if not permissions.can_respond(request.user, drill.team_id):
            return _forbidden("drive drills")
        body = ServiceAtIn(data=request.data)
        body.is_valid(raise_exception=True)
        slug = body.validated_data["service"]
        service_id = (
            DrillService.objects.filter(drill=drill, service__slug=slug)
            .values_list("service_id", flat=True)
            .first()
        )
        if service_id is None:
            message = f"{slug} is not part of this drill"
            return Response({"service": [message]}, status=status.HTTP_400_BAD_REQUEST)
        act = drills.drill_inject if self.action == "inject" else drills.drill_restore
        try:
            act(
                drill_id=drill.pk,
                service_id=service_id,
                at=body.validated_data.get("at", received),
            )
        except drills.DrillError as exc:
            return _error(exc)
        return Response(drill_json(selectors_drills.drill_list(request.user).get(pk=drill.pk)))


class DrillInjectAPI(DrillServiceActionAPI):
    action = "inject"


class DrillRestoreAPI(DrillServiceActionAPI):
    action = "restore"


class DrillFinishAPI(_DrillAPIBase):
    @extend_schema(request=FinishIn, responses={200: DrillOut, **CONFLICT})
    def post(self, request, drill_id: int):
        received = timezone.now()
        drill = self.drill(request, drill_id)
        if not permissions.can_respond(request.user, drill.team_id):
            return _forbidden("drive drills")
        body = FinishIn(data=request.data or {})
        body.is_valid(raise_exception=True)
        try:
            drills.drill_finish(drill_id=drill.pk, at=body.validated_data.get("at", received))
        except drills.DrillError as exc:
            return _error(exc)
        return Response(drill_json(selectors_drills.drill_list(request.user).get(pk=drill.pk)))


class DrillAttachAPI(_DrillAPIBase):
    """POST attach / detach: {"incident": id}."""

    attach = True

    @extend_schema(request=IncidentIn, responses={200: DrillReviewOut, **CONFLICT})
    def post(self, request, drill_id: int):
        drill = self.drill(request, drill_id)
        if not permissions.can_respond(request.user, drill.team_id):
            return _forbidden("change drills")
        body = IncidentIn(data=request.data)
        body.is_valid(raise_exception=True)
        incident_id = body.validated_data["incident"]
        act = drills.drill_attach if self.attach else drills.drill_detach
        try:
            act(drill_id=drill.pk, incident_id=incident_id, user=request.user)
        except drills.DrillError as exc:
            return _error(exc)
        return Response(review_json(selectors_drills.drill_review(drill)))


class DrillDetachAPI(DrillAttachAPI):
    attach = False


class WeeklyReportAPI(APIView):
    """GET a weekly report snapshot (the latest version, or ?version=N)."""

    @extend_schema(
        parameters=[OpenApiParameter("version", int, description="a snapshot's version")],
        responses=WeeklyReportOut,
    )
    def get(self, request, team: str, week: str):
        found = teams_for(request.user).filter(slug=team).first()
        if found is None:
            raise Http404("no such team")
        snapshots = WeeklyReport.objects.filter(team=found, week=week)
        version = query_number(request, "version")
        if version is not None:
            snapshots = snapshots.filter(version=version)
        report = snapshots.order_by("-version").first()
        if report is None:
            raise Http404(f"no report for {team} {week}")
        return Response(
            {
                "team": found.slug,
                "week": report.week,
                "version": report.version,
                "versions": list(
                    WeeklyReport.objects.filter(team=found, week=week)
                    .order_by("version")
                    .values_list("version", flat=True)
                ),
                "built_at": _iso(report.built_at),
                "payload": report.payload,
                "csv": f"/reports/{found.slug}/{report.week}.csv",
            }
        )
