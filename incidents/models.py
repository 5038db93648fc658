from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q

from incidents.alerts import AlertStatus, Severity
from oncall.models import Team


def hash_token(token: str) -> str:
    """Integration tokens are stored as SHA-256: a leaked database does not leak webhook URLs."""
    return hashlib.sha256(token.encode()).hexdigest()


class Service(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="services")
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SourceKind(models.TextChoices):
    ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
    GRAFANA = "grafana", "Grafana alerting"
    PAGERDUTY = "pagerduty", "PagerDuty Events v2"
    GENERIC = "generic", "Generic JSON"


class Integration(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="integrations")
    name = models.CharField(max_length=200)
    source = models.CharField(max_length=32, choices=SourceKind.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the token, so people can tell integrations apart.
    token_prefix = models.CharField(max_length=8, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    enabled = models.BooleanField(default=True)
    # Source-specific options, e.g. the generic source's field mapping (dotted paths).
    options = models.JSONField(default=dict, blank=True)
    # A firing alert this soon after its incident resolved reopens it instead of opening
    # a new one (0 = never reopen).
    reopen_window_seconds = models.PositiveIntegerField(default=0)
    # Expect a heartbeat (Watchdog alert or /hooks/heartbeat ping) at least this often.
    heartbeat_interval_seconds = models.PositiveIntegerField(null=True, blank=True)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["service__name", "name"]

    def __str__(self) -> str:
        return f"{self.service} / {self.name}"

    @property
    def team(self) -> Team:
        return self.service.team


class RoutingRule(models.Model):
    """Sends an integration's alerts to another service when every matcher matches."""

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="routing_rules"
    )
    position = models.PositiveIntegerField(default=0)
    # [{"label": "service", "op": "=", "value": "checkout"}]; ops: =, !=, =~, !~
    matchers = models.JSONField(default=list)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["integration_id", "position", "id"]

    def __str__(self) -> str:
        return f"rule {self.position} of {self.integration} -> {self.service}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    PROCESSING = "processing"
    PROCESSED = "processed"
    FAILED = "failed"


class AlertDelivery(models.Model):
    """One accepted webhook body, stored before we answer 202: the promise to process it."""

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="deliveries"
    )
    received_at = models.DateTimeField(db_index=True)
    body = models.TextField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "alert deliveries"
        indexes = [
            models.Index(
                fields=["status", "id"],
                name="delivery_unfinished_idx",
                condition=Q(status__in=["pending", "processing"]),
            )
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.status})"


class IncidentStatus(models.TextChoices):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


OPEN_STATUSES = (IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED)


class Incident(models.Model):
    """A projection of the incident's events (see incidents.projection); never edited directly."""

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
    NOTE = "note", "Note"
    SENDER_TRUNCATED = "sender_truncated", "Alerts truncated by sender"


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
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # Who or what acted when no user did: "alertmanager", "system", ...
    actor_label = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["incident_id", "seq"]
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
