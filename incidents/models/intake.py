from __future__ import annotations

import hashlib

from django.db import models
from django.db.models import Q

from oncall.models import Team


def default_high_urgency() -> list[str]:
    """Which severities page with high urgency unless a service says otherwise."""
    return ["critical", "error"]


def hash_token(token: str) -> str:
    """Integration tokens are stored as SHA-256: a leaked database does not leak webhook URLs."""
    return hashlib.sha256(token.encode()).hexdigest()


class Service(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="services")
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # Whom to page when one of its incidents triggers; none means nobody is paged.
    escalation_policy = models.ForeignKey(
        "incidents.EscalationPolicy",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="services",
    )
    # Incidents of these severities page people with their high-urgency rules; the others
    # with their low-urgency rules.
    high_urgency_severities = models.JSONField(default=default_high_urgency, blank=True)
    # A Slack channel id (C0123ABCD) where each new incident is also posted, with buttons.
    slack_channel = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SourceKind(models.TextChoices):
    ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
    GRAFANA = "grafana", "Grafana alerting"
    PAGERDUTY = "pagerduty", "PagerDuty Events v2"
    GENERIC = "generic", "Generic JSON"
    OPSGENIE = "opsgenie", "Opsgenie Alert API"


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


class NamedHeartbeat(models.Model):
    """A heartbeat of an integration by name (Opsgenie's heartbeats): its sender pings
    `/v2/heartbeats/<name>/ping` at least every `interval_seconds`, or an incident opens."""

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="named_heartbeats"
    )
    name = models.CharField(max_length=200)
    description = models.CharField(max_length=1000, blank=True)
    interval_seconds = models.PositiveIntegerField()
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_ping_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["integration_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "name"], name="named_heartbeat_unique_name"
            )
        ]

    def __str__(self) -> str:
        return f"heartbeat {self.name} of {self.integration}"


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
    # A failed delivery a manager chose not to retry: kept for the retention period, then removed.
    DISMISSED = "dismissed"


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
    # What processing recorded but did not apply (e.g. a resolve for an unknown key).
    note = models.TextField(blank=True)
    # When a failed delivery was last retried or dismissed: retention counts from here, so a
    # failure is never removed before someone has looked at it.
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "alert deliveries"
        indexes = [
            models.Index(
                fields=["status", "id"],
                name="delivery_unfinished_idx",
                condition=Q(status__in=["pending", "processing"]),
            ),
            # /metrics counts the failed ones every scrape: a tiny index, not a table scan.
            models.Index(fields=["id"], name="delivery_failed_idx", condition=Q(status="failed")),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.status})"
