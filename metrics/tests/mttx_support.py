"""Hand-built incidents for the MTTx tests, made through the incidents' own services (so the
rows are real projections of real timelines), and the expected figures worked out by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from incidents.models import Incident, Service
from incidents.timeline import actions as incident_services
from incidents.timeline.drills import incident_drill_attached
from metrics.models import Drill, DrillIncident, DrillService
from oncall.models import Team


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def make_incident(
    service: Service,
    *,
    detected: datetime,
    impact: datetime | None = None,
    acked: datetime | None = None,
    unacked: datetime | None = None,
    resolved: datetime | None = None,
    reopened: datetime | None = None,
    corrected: datetime | None = None,
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
            incident_id=incident.pk, actor_label="test", at=acked
        )
    if unacked:
        incident_services.incident_unacknowledge(
            incident_id=incident.pk, actor_label="test", at=unacked
        )
    if corrected:
        incident_services.incident_correct_impact_start(
            incident_id=incident.pk,
            impact_started_at=corrected,
            reason="the review found an earlier start",
            actor_label="test",
            at=max(corrected, detected) + timedelta(minutes=1),
        )
    if resolved:
        incident_services.incident_resolve(incident_id=incident.pk, actor_label="test", at=resolved)
    if reopened:
        incident_services.incident_reopen(incident_id=incident.pk, actor_label="test", at=reopened)
    incident.refresh_from_db()
    return incident


def attach_to_drill(incident: Incident, *, injected: datetime) -> Drill:
    """Put the incident in a drill whose fault was injected into its service at `injected`."""
    drill = Drill.objects.create(team=incident.service.team, name="Failover drill")
    DrillService.objects.create(drill=drill, service=incident.service, injected_at=injected)
    DrillIncident.objects.create(drill=drill, service=incident.service, incident=incident)
    incident_drill_attached(
        incident_id=incident.pk,
        drill_id=drill.pk,
        drill_name=drill.name,
        automatic=False,
        at=injected + timedelta(hours=1),
    )
    return drill


# Berlin's 2025-W47: Monday 17 November 00:00 CET (16 Nov 23:00 UTC) to 24 Nov 00:00 CET.
WEEK = "2025-W47"
NEXT_WEEK = "2025-W48"


def t(hour: int, minute: int = 0, second: int = 0, microsecond: int = 0) -> datetime:
    """A time on Wednesday 19 November 2025 (UTC), inside WEEK."""
    return utc(2025, 11, 19, hour, minute, second, microsecond)


@dataclass
class Dataset:
    team: Team
    checkout: Service
    payments: Service
    incidents: dict[str, Incident]


def build_week(team: Team, checkout: Service) -> Dataset:
    """Six production incidents and one drill incident on checkout in WEEK, one incident on
    payments-api in WEEK and one in NEXT_WEEK. Durations in the comments."""
    payments = Service.objects.create(team=team, slug="payments-api", name="Payments API")
    made = {
        # MTTD 120, MTTA 180, MTTR 1920
        "plain": make_incident(
            checkout, impact=t(10), detected=t(10, 2), acked=t(10, 5), resolved=t(10, 32)
        ),
        # Microseconds: MTTD 60.5, MTTA 30, MTTR 3600
        "fractional": make_incident(
            checkout,
            impact=t(11, 0, 0, 250_000),
            detected=t(11, 1, 0, 750_000),
            acked=t(11, 1, 30, 750_000),
            resolved=t(12, 0, 0, 250_000),
        ),
        # No start reported: impact = detection, MTTD 0. Acknowledged, then the acknowledgement
        # withdrawn: unacknowledged, out of MTTA. MTTR 600.
        "unacknowledged": make_incident(
            checkout, detected=t(13), acked=t(13, 2), unacked=t(13, 3), resolved=t(13, 10)
        ),
        # Open: out of MTTR. MTTD 299.0005 (a start 0.4 ms before a whole second), MTTA 60.
        "open": make_incident(
            checkout,
            impact=t(14, 0, 0, 999_600),
            detected=t(14, 5, 0, 100),
            acked=t(14, 6, 0, 100),
        ),
        # Resolved then reopened: open again, out of MTTR. MTTD 60, MTTA 60.
        "reopened": make_incident(
            checkout,
            impact=t(15),
            detected=t(15, 1),
            acked=t(15, 2),
            resolved=t(15, 30),
            reopened=t(15, 40),
        ),
        # A responder corrected the impact start to 15:45: MTTD 900, MTTA 60, MTTR 1800.
        "corrected": make_incident(
            checkout, detected=t(16), acked=t(16, 1), corrected=t(15, 45), resolved=t(16, 15)
        ),
        # A drill incident: the alert said 09:00 but the fault was injected at 08:58.
        # MTTD 720, MTTA 120, MTTR 2520.
        "drill": make_incident(
            checkout, impact=t(9), detected=t(9, 10), acked=t(9, 12), resolved=t(9, 40)
        ),
        # payments-api: MTTD 0, MTTA 600, MTTR 3600 (Thursday).
        "payments": make_incident(
            payments,
            detected=utc(2025, 11, 20, 8),
            acked=utc(2025, 11, 20, 8, 10),
            resolved=utc(2025, 11, 20, 9),
        ),
        # payments-api, next week: open and unacknowledged, MTTD 30.
        "payments_next": make_incident(
            payments, impact=utc(2025, 11, 25, 7, 59, 30), detected=utc(2025, 11, 25, 8)
        ),
    }
    attach_to_drill(made["drill"], injected=t(8, 58))
    return Dataset(team=team, checkout=checkout, payments=payments, incidents=made)


# Checkout's production figures for WEEK, by hand.
MTTD_US = [120_000_000, 60_500_000, 0, 299_000_500, 60_000_000, 900_000_000]
MTTA_US = [180_000_000, 30_000_000, 60_000_000, 60_000_000, 60_000_000]
MTTR_US = [1_920_000_000, 3_600_000_000, 600_000_000, 1_800_000_000]
