"""Hand-built data for the weekly report tests: ISO week 2026-W43 in Europe/Berlin, the
week the clocks go back (Sunday 25 October, 03:00 CEST -> 02:00 CET), so it is 169 hours
long: [2026-10-18 22:00 UTC, 2026-10-25 23:00 UTC). Every expected figure is worked out by
hand in test_reports.py."""

from __future__ import annotations

import json
from datetime import timedelta

from incidents.catalog import changes
from incidents.intake import drain, store
from incidents.models import Channel, Notification, NotificationReason, NotificationStatus
from metrics import drills
from metrics.tests.drill_helpers import make_drill, make_incident, make_service, utc
from oncall.models import UserProfile
from tests.support import am_alert, am_payload

WEEK = "2026-W43"
BUILT_AT = utc(2026, 11, 2, 6, 0)


def page(user, incident, at, status=NotificationStatus.SENT):
    return Notification.objects.create(
        incident=incident,
        user=user,
        channel=Channel.EMAIL,
        endpoint="127.0.0.1:25",
        reason=NotificationReason.ESCALATION,
        subject="page",
        text="page",
        status=status,
        created_at=at,
        next_attempt_at=at,
        finished_at=at,
    )


def build_w43(team, users) -> dict:
    checkout = team.services.get(slug="checkout")
    api = make_service(team, "payments-api", "Payments API")
    make_service(team, "fraud", "Fraud")
    responder, manager = users["responder"], users["manager"]
    UserProfile.objects.create(user=responder, time_zone="America/New_York")

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
    integration, _ = changes.integration_create(service=api, source="alertmanager")
    payload = am_payload(
        am_alert("HighErrorRate", starts_at="2026-10-21T09:58:00Z", fingerprint="fp-1"),
        am_alert("HighLatency", starts_at="2026-10-21T09:59:00Z", fingerprint="fp-2"),
        group_key="api-errors",
    )
    store.delivery_accept(
        integration=integration, body=json.dumps(payload), received_at=utc(2026, 10, 21, 10, 0)
    )
    drain.deliveries_drain()
    made["e"] = api.incidents.get()
    # Pages: Wednesday 12:01 in Berlin (working hours), 06:01 in New York (off hours).
    page(manager, made["e"], utc(2026, 10, 21, 10, 1))
    page(responder, made["e"], utc(2026, 10, 21, 10, 1))
    page(manager, made["e"], utc(2026, 10, 21, 10, 2), status=NotificationStatus.FAILED)
    page(manager, made["c"], utc(2026, 10, 25, 23, 31))  # W44: not this week

    made["drill"] = drill
    made["api"] = api
    return made


def late_incident(team) -> None:
    """One more W43 checkout incident, added after the first build: MTTD 0, MTTR 600."""
    make_incident(
        team.services.get(slug="checkout"),
        detected=utc(2026, 10, 22, 9, 0),
        resolved=utc(2026, 10, 22, 9, 0) + timedelta(minutes=10),
    )
