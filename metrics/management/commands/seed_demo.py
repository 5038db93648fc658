"""Demo data for `make run`: two teams, five services with integrations, four weeks of
incidents. Idempotent: a second run only refreshes the demo login and webhook token."""

from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from incidents.alerts import AlertEvent, AlertStatus, Severity
from incidents.catalog import changes
from incidents.intake import apply
from incidents.models import Incident, Integration, Service
from incidents.timeline import actions
from oncall.models import Membership, Role, Team

DEMO_USER = "demo"
DEMO_PASSWORD = "pagerline-demo"  # noqa: S105 - documented demo login, local only
# A fixed token for the demo Alertmanager integration, so `make run` can print its URL.
DEMO_TOKEN = "demo-checkout-alertmanager"  # noqa: S105

TEAMS = {
    "payments": ("Payments", "Europe/Berlin", ["checkout", "payments-api", "fraud-scoring"]),
    "platform": ("Platform", "America/New_York", ["api-gateway", "postgres-primary"]),
}
ALERTS = [
    ("HighErrorRate", "5xx ratio above 2% for 5 minutes", Severity.CRITICAL),
    ("HighLatency", "p99 latency above 800ms", Severity.WARNING),
    ("InstanceDown", "an instance stopped answering scrapes", Severity.CRITICAL),
    ("DiskFilling", "disk will be full within 4 hours", Severity.WARNING),
    ("QueueBacklog", "consumer lag above 10k messages", Severity.ERROR),
]


class Command(BaseCommand):
    help = "Load demo data (safe to run again)."

    def handle(self, *args, **options):
        user = self._demo_user()
        with transaction.atomic():
            fresh = not Team.objects.filter(slug="payments").exists()
            checkout = self._teams_and_services(user)
            integration = checkout.integrations.get(source="alertmanager")
            changes.integration_set_token(integration=integration, token=DEMO_TOKEN)
            if fresh:
                self._history(user)
        self.stdout.write(f"demo login: {DEMO_USER} / {DEMO_PASSWORD}")
        self.stdout.write(
            "demo webhook: " + changes.webhook_url(integration=integration, token=DEMO_TOKEN)
        )

    def _demo_user(self):
        user, _ = get_user_model().objects.get_or_create(
            username=DEMO_USER, defaults={"email": "demo@example.com"}
        )
        user.is_staff = user.is_superuser = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        return user

    def _teams_and_services(self, user) -> Service:
        for slug, (name, zone, service_slugs) in TEAMS.items():
            team, _ = Team.objects.get_or_create(
                slug=slug, defaults={"name": name, "time_zone": zone}
            )
            Membership.objects.get_or_create(team=team, user=user, defaults={"role": Role.MANAGER})
            for service_slug in service_slugs:
                service, _ = Service.objects.get_or_create(
                    slug=service_slug,
                    defaults={"team": team, "name": service_slug.replace("-", " ").title()},
                )
                if not Integration.objects.filter(service=service, source="alertmanager").exists():
                    changes.integration_create(service=service, source="alertmanager")
        return Service.objects.get(slug="checkout")

    def _history(self, user) -> None:
        rng = random.Random(2026)
        now = timezone.now().replace(microsecond=0)
        for service in Service.objects.select_related("team"):
            integration = service.integrations.first()
            for day in range(28, 0, -1):
                if rng.random() > 0.3:
                    continue
                detected = now - timedelta(days=day, hours=rng.randint(0, 23))
                self._incident(integration, user, rng, detected, resolve=True)
        checkout = Service.objects.get(slug="checkout")
        gateway = Service.objects.get(slug="api-gateway")
        for service, minutes in ((checkout, 25), (gateway, 7)):
            self._incident(
                service.integrations.first(),
                user,
                rng,
                now - timedelta(minutes=minutes),
                resolve=False,
                acknowledge=service is gateway,
            )

    def _incident(self, integration, user, rng, detected, *, resolve, acknowledge=True):
        name, summary, severity = rng.choice(ALERTS)
        started = detected - timedelta(seconds=rng.randint(30, 600))
        key = f'{{}}:{{alertname="{name}"}}/{detected.timestamp():.0f}'
        firing = AlertEvent(
            source="alertmanager",
            incident_key=key,
            fingerprint=f"{name.lower()}-{rng.randint(1, 4)}",
            status=AlertStatus.FIRING,
            title=f"{name}: {summary}",
            severity=severity,
            labels={"alertname": name, "service": integration.service.slug},
            starts_at=started,
        )
        apply.alerts_apply(integration=integration, alert_events=[firing], received_at=detected)
        incident = Incident.objects.get(service=integration.service, dedup_key=key)
        acked = detected + timedelta(seconds=rng.randint(40, 900))
        if acknowledge:
            actions.incident_acknowledge(incident_id=incident.pk, user=user, at=acked)
        if resolve:
            resolved = AlertEvent(**{**firing.__dict__, "status": AlertStatus.RESOLVED})
            apply.alerts_apply(
                integration=integration,
                alert_events=[resolved],
                received_at=acked + timedelta(seconds=rng.randint(300, 5400)),
            )
