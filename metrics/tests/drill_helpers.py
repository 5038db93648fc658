"""Helpers for the drill, report and dashboard tests: incidents built through the incidents'
own services (real projections of real timelines), and drills through metrics.drills."""

from __future__ import annotations

from datetime import UTC, datetime

from incidents.models import Incident, Service
from incidents.timeline import actions as incident_services
from metrics import drills
from oncall.models import Team


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def make_incident(
    service: Service,
    *,
    detected: datetime,
    impact: datetime | None = None,
    acked: datetime | None = None,
    acked_by=None,
    resolved: datetime | None = None,
    title: str = "Checkout is down",
) -> Incident:
    incident = incident_services.incident_create(
        service=service,
        title=title,
        severity="critical",
        impact_started_at=impact,
        actor_label="test",
        at=detected,
    )
    if acked:
        incident_services.incident_acknowledge(
            incident_id=incident.pk, user=acked_by, actor_label="test", at=acked
        )
    if resolved:
        incident_services.incident_resolve(incident_id=incident.pk, actor_label="test", at=resolved)
    incident.refresh_from_db()
    return incident


def make_service(team: Team, slug: str, name: str | None = None) -> Service:
    return Service.objects.create(team=team, slug=slug, name=name or slug.title())


def make_drill(team: Team, *targets: tuple[Service, int | None, int | None], **options):
    return drills.drill_create(
        team=team,
        name=options.pop("name", "Failover"),
        targets=[drills.TargetSpec(service, mttd, mttr) for service, mttd, mttr in targets],
        **options,
    )
