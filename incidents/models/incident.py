from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from incidents.alerts import AlertStatus, Severity
from incidents.models.intake import Service


class IncidentStatus(models.TextChoices):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


OPEN_STATUSES = (IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED)


class Incident(models.Model):
    """A projection of the incident's events (incidents.timeline.projection); never edited
    directly."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="incidents")
    dedup_key = models.CharField(max_length=1000)
    title = models.CharField(max_length=1000)
    status = models.CharField(max_length=16, choices=IncidentStatus.choices)
    severity = models.CharField(max_length=16, choices=[(s, s) for s in Severity])
    # Earliest start time any sender reported for its alerts.
    source_started_at = models.DateTimeField(null=True, blank=True)
    # What MTTD and MTTR count from: a responder's correction, else the source start,
    # else detection.
    impact_started_at = models.DateTimeField()
    detected_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # A responder's correction of when impact began (with a reason, on the timeline); it
    # wins over the source start and detection in impact_started_at.
    impact_corrected_at = models.DateTimeField(null=True, blank=True)
    # Markdown source, given when a responder opens an incident by hand.
    description = models.TextField(blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_incidents",
    )
    last_seq = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-detected_at"]
        constraints = [
            # Two workers racing on one key can never open two incidents for it.
            models.UniqueConstraint(
                fields=["service", "dedup_key"],
                condition=Q(status__in=["triggered", "acknowledged"]),
                name="incident_one_open_per_key",
            )
        ]
        indexes = [
            models.Index(fields=["service", "status"], name="incident_service_status_idx"),
            models.Index(fields=["status", "-detected_at"], name="incident_status_detected_idx"),
            # The dashboard and its feed: the most recently resolved, without sorting every
            # resolved incident (a year of them is most of the table).
            models.Index(fields=["status", "-resolved_at"], name="incident_status_resolved_idx"),
            # Metrics read a service's incidents by detection time (the live week of MTTx,
            # the service page): a range scan instead of every row of the service.
            models.Index(fields=["service", "detected_at"], name="incident_service_detected_idx"),
            # Intake asks for a key's last resolved incident (stale snapshots, reopen windows):
            # a key that flapped for a year must not mean reading all of its incidents.
            models.Index(
                fields=["service", "dedup_key", "-resolved_at"], name="incident_key_resolved_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status != IncidentStatus.RESOLVED


class Alert(models.Model):
    """Latest known state of one alert (fingerprint) inside an incident."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="alerts")
    fingerprint = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=[(s, s) for s in AlertStatus])
    title = models.CharField(max_length=1000)
    severity = models.CharField(max_length=16, choices=[(s, s) for s in Severity])
    labels = models.JSONField(default=dict)
    annotations = models.JSONField(default=dict)
    links = models.JSONField(default=list)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    first_received_at = models.DateTimeField()
    # Receive time of the delivery whose state is applied: an older snapshot never wins.
    last_received_at = models.DateTimeField()
    fire_count = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "fingerprint"], name="alert_incident_fingerprint_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.fingerprint} ({self.status})"


class EventKind(models.TextChoices):
    TRIGGERED = "triggered", "Triggered"
    ALERT_FIRED = "alert_fired", "Alert firing"
    ALERT_RESOLVED = "alert_resolved", "Alert resolved"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"
    REOPENED = "reopened", "Reopened"
    UNACKNOWLEDGED = "unacknowledged", "Acknowledgement withdrawn"
    SEVERITY_CHANGED = "severity_changed", "Severity changed"
    ASSIGNED = "assigned", "Assigned"
    IMPACT_START_CORRECTED = "impact_start_corrected", "Impact start corrected"
    NOTE = "note", "Note"
    SENDER_TRUNCATED = "sender_truncated", "Alerts truncated by sender"
    CLOCK_SKEW = "clock_skew", "Sender clock ahead"
    UNROUTED = "unrouted", "No routing rule matched"
    SOURCE_ACTION_IGNORED = "source_action_ignored", "Source action ignored"
    DRILL_ATTACHED = "drill_attached", "Attached to a drill"
    DRILL_DETACHED = "drill_detached", "Detached from a drill"
    ESCALATED = "escalated", "Escalated"
    ESCALATION_WARNING = "escalation_warning", "Escalation warning"
    ESCALATION_EXHAUSTED = "escalation_exhausted", "Escalation exhausted"
    IN_MAINTENANCE = "in_maintenance", "In maintenance"


class ActedVia(models.TextChoices):
    """Where a responder's acknowledgement or resolution came from (on its timeline event)."""

    WEB = "web", "the web"
    API = "api", "the API"
    EMAIL = "email", "an email link"
    APPRISE = "apprise", "a link in a chat message"
    SMS = "sms", "SMS"
    VOICE = "voice", "a phone call"
    SLACK = "slack", "Slack"
    SOURCE = "source", "the alert source"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("incident events are append-only: they cannot be updated")

    def delete(self):
        raise TypeError("incident events are append-only: they cannot be deleted")


class IncidentEvent(models.Model):
    """One entry of an incident's append-only timeline; the incident row is derived from these."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    # When it happened (for alert events: when Pagerline received the delivery).
    at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    # PROTECT: a user named in a timeline is deactivated, never deleted (the database would
    # refuse the UPDATE that SET_NULL needs; core.services.user_deletion_refusal says why).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    # Who or what acted when no user did: "alertmanager", "system", ...
    actor_label = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["incident_id", "seq"]
        verbose_name = "incident timeline entry"
        verbose_name_plural = "incident timeline entries"
        constraints = [
            models.UniqueConstraint(fields=["incident", "seq"], name="event_incident_seq_unique")
        ]

    def __str__(self) -> str:
        return f"{self.incident_id}#{self.seq} {self.kind}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise TypeError("incident events are append-only: they cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("incident events are append-only: they cannot be deleted")
