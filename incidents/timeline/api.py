"""The incidents API (`/api/v1/incidents/...`). Serializers parse; selectors read, scoped
to the user's teams (outsiders get 404); actions go through the same service functions
as the HTML pages, so the rules are the same: a wrong transition is 409 with `detail`, a
value the service refuses (core.errors.FieldErrors) is 400 naming the field, a viewer acting
is 403."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as drf
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import FieldErrors
from core.openapi import CONFLICT
from core.pagination import PaginatedList
from incidents.models import ActedVia, Incident
from incidents.timeline import actions, describe, selectors
from incidents.timeline import serializers as s


def _parsed(serializer_class: type[drf.Serializer], data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class IncidentAPIView(APIView):
    def handle_exception(self, exc):
        if isinstance(exc, actions.InvalidTransition):
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        if isinstance(exc, Incident.DoesNotExist):
            exc = NotFound("no such incident")
        return super().handle_exception(exc)

    def visible(self, incident_id: int) -> Incident:
        return selectors.incident_visible(self.request.user, incident_id)


_AT = OpenApiParameter(
    "at",
    OpenApiTypes.DATETIME,
    description="the incident as it stood at this time (UTC if no offset)",
)


class IncidentListCreate(PaginatedList, IncidentAPIView):
    """GET: incidents, filtered (status, service, severity, since, until), ordered, paged.
    POST: open an incident by hand."""

    @extend_schema(
        parameters=[s.IncidentFilterSerializer],
        responses=s.IncidentOut(many=True),
        operation_id="v1_incidents_list",
    )
    def get(self, request):
        filters = _parsed(s.IncidentFilterSerializer, request.query_params)
        incidents = selectors.incident_list(request.user, **filters)
        page = self.paginate_queryset(incidents)
        return self.get_paginated_response([s.incident_json(i) for i in page])

    @extend_schema(request=s.ManualIncidentSerializer, responses={201: s.IncidentOut})
    def post(self, request):
        data = _parsed(s.ManualIncidentSerializer, request.data)
        service = selectors.services_for(request.user).filter(slug=data.pop("service")).first()
        if service is None:
            raise FieldErrors({"service": "no such service"})
        incident = actions.incident_create(service=service, user=request.user, **data)
        incident = self.visible(incident.pk)
        return Response(s.incident_json(incident), status=status.HTTP_201_CREATED)


class IncidentDetail(IncidentAPIView):
    """GET the incident now, or as it stood at `?at=<ISO time>`."""

    @extend_schema(parameters=[_AT], responses=s.IncidentOut)
    def get(self, request, incident_id: int):
        incident = self.visible(incident_id)
        if "at" not in request.query_params:
            return Response(s.incident_json(incident))
        at = _parsed(s.AtSerializer, {"at": request.query_params["at"]})["at"]
        state = selectors.incident_state_at(incident, at)
        if state is None:
            raise NotFound(f"incident #{incident.pk} had not been detected yet at {s.instant(at)}")
        assignee = None
        if state.assignee_id is not None:
            assignee = get_user_model().objects.filter(pk=state.assignee_id).first()
        return Response(s.incident_json(incident, state, assignee=assignee, as_of=at))


class IncidentTimeline(PaginatedList, IncidentAPIView):
    """GET the timeline in order; `?after=<seq>` for only what is new."""

    @extend_schema(parameters=[s.AfterSerializer], responses=s.TimelineEntryOut(many=True))
    def get(self, request, incident_id: int):
        incident = self.visible(incident_id)
        after = _parsed(s.AfterSerializer, request.query_params)["after"]
        page = self.paginate_queryset(selectors.incident_events(incident, after_seq=after))
        return self.get_paginated_response([describe.entry(e) for e in page])


@dataclass(frozen=True)
class Action:
    serializer: type[drf.Serializer]
    call: Callable
    created: bool = False
    # Records that it came through the API (acknowledge, unacknowledge, resolve).
    via: bool = False


ACTIONS = {
    "acknowledge": Action(s.NoInput, actions.incident_acknowledge, via=True),
    "unacknowledge": Action(s.NoInput, actions.incident_unacknowledge, via=True),
    "resolve": Action(s.ReasonSerializer, actions.incident_resolve, via=True),
    "reopen": Action(s.ReasonSerializer, actions.incident_reopen),
    "notes": Action(s.NoteSerializer, actions.incident_add_note, created=True),
    "severity": Action(s.SeveritySerializer, actions.incident_set_severity),
    "assign": Action(s.AssignSerializer, actions.incident_assign),
    "impact-start": Action(s.ImpactStartSerializer, actions.incident_correct_impact_start),
}


_ACTION = OpenApiParameter(
    "action",
    str,
    OpenApiParameter.PATH,
    enum=list(ACTIONS),
    description="what to do; the body's fields each say which actions read them "
    "(acknowledge and unacknowledge read none)",
)


class IncidentAction(IncidentAPIView):
    """POST one responder action; answers the incident as it is afterwards (a note: 201
    with the new timeline entry)."""

    @extend_schema(
        parameters=[_ACTION],
        request=s.ActionBodyDoc,
        responses={200: s.IncidentOut, 201: s.TimelineEntryOut, **CONFLICT},
        operation_id="v1_incidents_action_create",
    )
    def post(self, request, incident_id: int, action: str):
        incident = self.visible(incident_id)
        spec = ACTIONS.get(action)
        if spec is None:
            raise NotFound(f"no such action; known: {', '.join(ACTIONS)}")
        data = _parsed(spec.serializer, request.data)
        if spec.via:
            data["via"] = ActedVia.API
        result = spec.call(incident_id=incident.pk, user=request.user, **data)
        if spec.created:
            return Response(describe.entry(result), status=status.HTTP_201_CREATED)
        return Response(s.incident_json(self.visible(incident.pk)))
