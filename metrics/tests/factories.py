"""Builders of metrics rows for tests (drills, report subscriptions), through metrics' own
services where they exist, and the two hand-built data sets the MTTx and report tests check
figures against: every expected figure is worked out by hand in the comments. Incidents come
from incidents/tests/factories.py (real projections of real timelines). How to add one:
tests/README.md."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from incidents.models import Incident, NotificationStatus, Service
from incidents.tests.factories import (
    make_finished_page,
    make_incident,
    make_integration,
    make_service,
)
from incidents.tests.support import deliver
from incidents.timeline.drills import incident_drill_attached
from metrics import drills, reports
from metrics.models import Drill, DrillIncident, DrillService, ReportSubscription
from oncall.models import Team
from oncall.tests.factories import make_profile
from tests.support import am_alert, am_payload, utc


def make_drill(team: Team, *targets: tuple[Service, int | None, int | None], **options) -> Drill:
    """targets: (service, max MTTD seconds, max MTTR seconds); options as drill_create's."""
    return drills.drill_create(
        team=team,
        name=options.pop("name", "Failover"),
        targets=[drills.TargetSpec(service, mttd, mttr) for service, mttd, mttr in targets],
        **options,
    )


def attach_to_drill(incident: Incident, *, injected: datetime) -> Drill:
    """Put the incident in a drill whose fault was injected into its service at `injected`.
    Written directly: through drills.drill_inject the attacher would also take every later
    incident of the service, and the data sets here need exactly this one."""
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


def make_subscription(team: Team, user, *, email: str | None = None) -> ReportSubscription:
    """Subscribe `user` to the team's weekly report, giving them `email` first if given."""
    if email is not None:
        user.email = email
        user.save(update_fields=["email"])
    reports.subscription_toggle(team=team, user=user)
    return ReportSubscription.objects.get(team=team, user=user)


# --- the MTTx data set ------------------------------------------------------------------------

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


def make_mttx_week(team: Team, checkout: Service) -> Dataset:
    """Six production incidents and one drill incident on checkout in WEEK, one incident on
    payments-api in WEEK and one in NEXT_WEEK. Durations in the comments."""
    payments = make_service(team, "payments-api", "Payments API")
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


# --- the weekly report data set ---------------------------------------------------------------
# ISO week 2026-W43 in Europe/Berlin, the week the clocks go back (Sunday 25 October, 03:00 CEST
# -> 02:00 CET), so it is 169 hours long: [2026-10-18 22:00 UTC, 2026-10-25 23:00 UTC). Every
# expected figure is worked out by hand in test_reports.py.

REPORT_WEEK = "2026-W43"
REPORT_BUILT_AT = utc(2026, 11, 2, 6, 0)


def make_report_week(team, users) -> dict:
    """REPORT_WEEK's incidents, drill and pages (and a few outside it) on team `team`."""
    checkout = team.services.get(slug="checkout")
    api = make_service(team, "payments-api", "Payments API")
    make_service(team, "fraud", "Fraud")
    responder, manager = users["responder"], users["manager"]
    make_profile(responder, time_zone="America/New_York")

    made = {}
    # A drill on checkout: its incident (MTTD 90 from the injection, MTTR 1200) stays out of
    # the production figures; acknowledging it at 08:02 in New York is a working-hours page.
    drill = make_drill(team, (checkout, 120, 1800), name="Checkout failover")
    drills.drill_inject(drill_id=drill.pk, service_id=checkout.pk, at=utc(2026, 10, 20, 12, 0))
    made["g"] = make_incident(
        checkout,
        detected=utc(2026, 10, 20, 12, 1, 30),
        acked=utc(2026, 10, 20, 12, 2),
        acked_by=responder,
        resolved=utc(2026, 10, 20, 12, 20),
        title="Checkout failover alert",
    )
    drills.drills_attach_pending(now=utc(2026, 10, 20, 12, 5))
    drills.drill_restore(drill_id=drill.pk, service_id=checkout.pk, at=utc(2026, 10, 20, 12, 15))
    drills.drill_finish(drill_id=drill.pk, at=utc(2026, 10, 20, 12, 30))
    # W43, Monday 00:30 CEST: MTTD 600, MTTA 300, MTTR 3600
    made["a"] = make_incident(
        checkout,
        detected=utc(2026, 10, 18, 22, 30),
        impact=utc(2026, 10, 18, 22, 20),
        acked=utc(2026, 10, 18, 22, 35),
        acked_by=responder,
        resolved=utc(2026, 10, 18, 23, 20),
    )
    # W43, Sunday 23:30 CET (after the clocks went back): MTTD 0, MTTA 120, MTTR 1800
    made["b"] = make_incident(
        checkout,
        detected=utc(2026, 10, 25, 22, 30),
        acked=utc(2026, 10, 25, 22, 32),
        acked_by=manager,
        resolved=utc(2026, 10, 25, 23, 0),
    )
    # W44: Monday 00:30 CET (a UTC week would wrongly count it)
    made["c"] = make_incident(
        checkout, detected=utc(2026, 10, 25, 23, 30), resolved=utc(2026, 10, 26, 0, 0)
    )
    # W42: Sunday 23:30 CEST: MTTD 0, MTTA 600, MTTR 3600
    made["d"] = make_incident(
        checkout,
        detected=utc(2026, 10, 18, 21, 30),
        acked=utc(2026, 10, 18, 21, 40),
        resolved=utc(2026, 10, 18, 22, 30),
    )
    # W40: MTTD 300, MTTA 600, MTTR 7200
    made["f"] = make_incident(
        checkout,
        detected=utc(2026, 10, 1, 10, 0),
        impact=utc(2026, 10, 1, 9, 55),
        acked=utc(2026, 10, 1, 10, 10),
        resolved=utc(2026, 10, 1, 11, 55),
    )
    # W43 on payments-api, from Alertmanager (two alerts): MTTD 120, open, unacknowledged
    integration, _ = make_integration(api)
    payload = am_payload(
        am_alert("HighErrorRate", starts_at="2026-10-21T09:58:00Z", fingerprint="fp-1"),
        am_alert("HighLatency", starts_at="2026-10-21T09:59:00Z", fingerprint="fp-2"),
        group_key="api-errors",
    )
    deliver(integration, payload, utc(2026, 10, 21, 10, 0))
    made["e"] = api.incidents.get()
    # Pages: Wednesday 12:01 in Berlin (working hours), 06:01 in New York (off hours).
    make_finished_page(manager, made["e"], at=utc(2026, 10, 21, 10, 1))
    make_finished_page(responder, made["e"], at=utc(2026, 10, 21, 10, 1))
    make_finished_page(
        manager, made["e"], at=utc(2026, 10, 21, 10, 2), status=NotificationStatus.FAILED
    )
    make_finished_page(manager, made["c"], at=utc(2026, 10, 25, 23, 31))  # W44: not this week

    made["drill"] = drill
    made["api"] = api
    return made


def make_late_report_incident(team) -> None:
    """One more REPORT_WEEK checkout incident, added after the first build: MTTD 0, MTTR 600."""
    make_incident(
        team.services.get(slug="checkout"),
        detected=utc(2026, 10, 22, 9, 0),
        resolved=utc(2026, 10, 22, 9, 0) + timedelta(minutes=10),
    )
