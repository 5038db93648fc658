"""API input parsing and output shapes. Input serializers check presence and types only;
the rules live in incidents.timeline.actions, which the API calls with the parsed values.
Instants go out as UTC ISO 8601; a time sent without an offset is taken as UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from django.urls import reverse
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from core.fields import ObjectIdField
from incidents.alerts import Severity
from incidents.models import Incident, IncidentStatus
from incidents.timeline import projection
from incidents.timeline.selectors import ORDERINGS

TIMES = (
    "source_started_at",
    "impact_started_at",
    "impact_corrected_at",
    "detected_at",
    "acknowledged_at",
    "resolved_at",
    "updated_at",
)


class InstantField(serializers.DateTimeField):
    def __init__(self, **kwargs):
        super().__init__(default_timezone=UTC, **kwargs)


# --- input ------------------------------------------------------------------------------------


class IncidentFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["open", *(s.value for s in IncidentStatus)], required=False
    )
    service = serializers.SlugField(required=False, help_text="service slug")
    severity = serializers.ChoiceField(choices=[s.value for s in Severity], required=False)
    since = InstantField(required=False, help_text="detected at or after")
    until = InstantField(required=False, help_text="detected before")
    ordering = serializers.ChoiceField(choices=list(ORDERINGS), required=False)

    def validate(self, attrs):
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since >= until:
            raise serializers.ValidationError({"until": ["must be after since"]})
        return attrs


class AtSerializer(serializers.Serializer):
    at = InstantField()


class AfterSerializer(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, required=False, default=0)


class ManualIncidentSerializer(serializers.Serializer):
    service = serializers.SlugField()
    title = serializers.CharField(allow_blank=True, trim_whitespace=False)
    severity = serializers.CharField()
    description = serializers.CharField(required=False, allow_blank=True, default="")
    impact_started_at = InstantField(required=False, allow_null=True, default=None)


class NoInput(serializers.Serializer):
    pass


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class NoteSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)


class SeveritySerializer(serializers.Serializer):
    severity = serializers.CharField()


class AssignSerializer(serializers.Serializer):
    assignee = ObjectIdField(
        allow_null=True, source="assignee_id", help_text="user id, or null to unassign"
    )


class ImpactStartSerializer(serializers.Serializer):
    impact_started_at = InstantField()
    reason = serializers.CharField(allow_blank=True)


# For the schema only: the action's own serializer above validates (incidents.timeline.api.ACTIONS);
# tests/test_openapi_schema.py checks that each field here names every action that reads it.
@extend_schema_serializer(component_name="IncidentAction")
class ActionBodyDoc(serializers.Serializer):
    """The body of an incident action. Each field says which actions read it and whether they
    require it; acknowledge and unacknowledge read none, and an action ignores the others."""

    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="resolve, reopen: optional, why; impact-start: required, why the start "
        "time is corrected",
    )
    text = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="notes: required, the note (Markdown)",
    )
    severity = serializers.ChoiceField(
        choices=[s.value for s in Severity],
        required=False,
        help_text="severity: required, the incident's new severity",
    )
    assignee = ObjectIdField(
        required=False,
        allow_null=True,
        help_text="assign: required, the user id of a responder or manager of the service's "
        "team, or null to unassign",
    )
    impact_started_at = InstantField(
        required=False,
        help_text="impact-start: required, when impact really began (UTC if no offset), "
        "not in the future",
    )


# --- output -----------------------------------------------------------------------------------
# What the API answers: incident_json and timeline.entry build it, these describe it.


class ServiceRefOut(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class UserRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class IncidentOut(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = serializers.CharField(read_only=True, help_text="the incident's page")
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=IncidentStatus.choices)
    severity = serializers.ChoiceField(choices=[s.value for s in Severity])
    service = ServiceRefOut()
    team = serializers.SlugField()
    dedup_key = serializers.CharField()
    description = serializers.CharField()
    assignee = UserRefOut(allow_null=True)
    source_started_at = InstantField(allow_null=True, help_text="the first alert's own start")
    impact_started_at = InstantField(allow_null=True)
    impact_corrected_at = InstantField(allow_null=True, help_text="a responder's correction")
    detected_at = InstantField(allow_null=True)
    acknowledged_at = InstantField(allow_null=True)
    resolved_at = InstantField(allow_null=True)
    updated_at = InstantField(allow_null=True)
    last_seq = serializers.IntegerField(help_text="seq of the last timeline entry applied")
    as_of = InstantField(required=False, help_text="with ?at= only: the time asked for")


class TimelineEntryOut(serializers.Serializer):
    seq = serializers.IntegerField()
    kind = serializers.CharField(help_text="the event's kind, e.g. acknowledged or note")
    label = serializers.CharField(help_text="the kind, for a person")
    text = serializers.CharField(help_text="a short detail; may be empty")
    at = serializers.DateTimeField()
    actor = serializers.CharField(help_text='username, a source\'s label, or "system"')
    data = serializers.DictField(help_text="the event's own fields, which depend on its kind")
    html = serializers.CharField(help_text="a note's text as sanitised HTML; else empty")


def instant(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def incident_json(
    incident: Incident,
    state: projection.IncidentState | None = None,
    *,
    assignee=None,
    as_of: datetime | None = None,
) -> dict:
    """The incident as the API shows it: from its row, or from `state` (a past state, with
    its `assignee` user) when answering `?at=`."""
    if state is None:
        state, assignee = projection.state_of(incident), incident.assignee
    body = {
        "id": incident.pk,
        "url": reverse("incident-detail", args=[incident.pk]),
        "title": state.title,
        "status": state.status,
        "severity": state.severity,
        "service": {"slug": incident.service.slug, "name": incident.service.name},
        "team": incident.service.team.slug,
        "dedup_key": state.dedup_key,
        "description": state.description,
        "assignee": {"id": assignee.pk, "username": assignee.get_username()} if assignee else None,
        **{name: instant(getattr(state, name)) for name in TIMES},
        "last_seq": state.last_seq,
    }
    if as_of is not None:
        body["as_of"] = instant(as_of)
    return body
