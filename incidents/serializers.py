"""API input parsing and output shapes. Input serializers check presence and types only;
the rules live in incidents.services.actions, which the API calls with the parsed values.
Instants go out as UTC ISO 8601; a time sent without an offset is taken as UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from django.urls import reverse
from rest_framework import serializers

from core.fields import ObjectIdField
from incidents import projection
from incidents.alerts import Severity
from incidents.models import Incident, IncidentStatus
from incidents.selectors import ORDERINGS

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


# --- output -----------------------------------------------------------------------------------


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
