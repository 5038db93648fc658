"""The demo's past: twelve weeks of incidents arriving as Alertmanager alerts (MTTD, MTTA
and MTTR improving week by week, as a team that works on its alerts sees), a finished
failover drill with one pass and one miss, and two incidents still open."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from incidents.alerts import AlertEvent, AlertStatus, Severity
from incidents.intake import apply
from incidents.models import Incident
from incidents.timeline import actions
from metrics import drills
from metrics.demo.setup import World
from metrics.models import Drill

WEEKS = 12
SEED = 2026
# Mean incidents per day per service.
RATES = {
    "checkout": 0.45,
    "payments-api": 0.35,
    "fraud-scoring": 0.3,
    "api-gateway": 0.4,
    "postgres-primary": 0.25,
}
ALERTS = [
    ("HighErrorRate", "5xx ratio above 2% for 5 minutes", Severity.CRITICAL),
    ("HighLatency", "p99 latency above 800ms", Severity.WARNING),
    ("InstanceDown", "an instance stopped answering scrapes", Severity.CRITICAL),
    ("DiskFilling", "disk will be full within 4 hours", Severity.WARNING),
    ("QueueBacklog", "consumer lag above 10k messages", Severity.ERROR),
]
# Typical durations in seconds at the start of the twelve weeks (they shrink to ~45 %).
MTTD, MTTA, MTTR = 420, 480, 3600
DRILL_AGO = timedelta(days=17, hours=4)
# (service, minutes to detection, to acknowledgement, to resolution, to restore, targets)
DRILL_PLAN = [
    ("checkout", 2.2, 4.0, 24.0, 20.0, (300, 1800)),
    ("payments-api", 3.5, 6.5, 52.0, 35.0, (300, 2700)),  # MTTR over target: a fail
]


@dataclass(frozen=True)
class DrillPlan:
    drill: Drill
    injected_at: datetime


def drill_prepare(world: World, *, now: datetime) -> DrillPlan:
    """The drill, planned, injected and restored before any incident exists (an injection
    attaches every later incident of the service while its window is open)."""
    team = world.services["checkout"].team
    drill = drills.drill_create(
        team=team,
        name="Quarterly checkout failover",
        scenario="Fail the primary region of checkout and payments-api over to the standby.",
        targets=[
            drills.TargetSpec(world.services[slug], mttd, mttr)
            for slug, _, _, _, _, (mttd, mttr) in DRILL_PLAN
        ],
        user=world.manager,
    )
    injected = now - DRILL_AGO
    for slug, _, _, _, restore, _ in DRILL_PLAN:
        service_id = world.services[slug].pk
        drills.drill_inject(drill_id=drill.pk, service_id=service_id, at=injected)
        drills.drill_restore(
            drill_id=drill.pk, service_id=service_id, at=injected + timedelta(minutes=restore)
        )
    return DrillPlan(drill, injected)


def drill_close(plan: DrillPlan) -> None:
    """Attach the drill's incidents as the beat does, then finish it."""
    drills.drills_attach_pending(now=plan.injected_at + timedelta(hours=1))
    drills.drill_finish(drill_id=plan.drill.pk, at=plan.injected_at + timedelta(hours=2))


def past_incidents(world: World, *, now: datetime, drill: DrillPlan) -> int:
    rng = random.Random(SEED)
    # A week more than the trend shows, so its first week is whole whatever today is.
    start = now - timedelta(weeks=WEEKS + 1)
    quiet = (drill.injected_at - timedelta(hours=3), drill.injected_at + timedelta(hours=3))
    count = 0
    for slug, service in world.services.items():
        people = world.people[service.team.slug]
        day = start
        while day < now - timedelta(hours=6):
            if rng.random() < RATES[slug]:
                detected = day + timedelta(seconds=rng.randint(0, 86399))
                if detected < now - timedelta(hours=2) and not quiet[0] <= detected <= quiet[1]:
                    progress = (detected - start) / (now - start)  # 0 .. 1
                    _incident(world, slug, rng.choice(people), rng, detected, progress)
                    count += 1
            day += timedelta(days=1)
    for slug, detect, ack, resolve, _, _ in DRILL_PLAN:
        people = world.people[world.services[slug].team.slug]
        at = drill.injected_at
        _alert(
            world,
            slug,
            rng,
            detected=at + timedelta(minutes=detect),
            started=at,
            acked=(at + timedelta(minutes=ack), people[0]),
            resolved=at + timedelta(minutes=resolve),
            alert=ALERTS[0],
        )
        count += 1
    return count


def open_incidents(world: World, *, now: datetime) -> int:
    """One triggered (paging its schedule now) and one acknowledged, as `make run` shows."""
    rng = random.Random(SEED + 1)
    _alert(
        world,
        "checkout",
        rng,
        detected=now - timedelta(minutes=25),
        started=now - timedelta(minutes=29),
        acked=None,
        resolved=None,
        alert=ALERTS[0],
    )
    _alert(
        world,
        "api-gateway",
        rng,
        detected=now - timedelta(minutes=7),
        started=now - timedelta(minutes=9),
        acked=(now - timedelta(minutes=4), world.people["platform"][0]),
        resolved=None,
        alert=ALERTS[1],
    )
    return 2


def _incident(world, slug, user, rng, detected, progress) -> None:
    better = 1.0 - 0.55 * progress  # the team gets faster over the twelve weeks
    mttd = _spread(rng, MTTD * better, low=20)
    mtta = _spread(rng, MTTA * better, low=15)
    mttr = _spread(rng, MTTR * better, low=300)
    # One in ten clears before anyone acknowledges it.
    acked = None if rng.random() < 0.1 else (detected + timedelta(seconds=mtta), user)
    _alert(
        world,
        slug,
        rng,
        detected=detected,
        started=detected - timedelta(seconds=mttd),
        acked=acked,
        resolved=detected + timedelta(seconds=max(mttr, (mtta if acked else 0) + 60)),
        alert=rng.choice(ALERTS),
    )


def _spread(rng: random.Random, typical: float, *, low: int) -> int:
    """Log-normal around `typical`: most close to it, a few several times longer."""
    return max(low, round(typical * math.exp(rng.gauss(0, 0.6))))


def _alert(world, slug, rng, *, detected, started, acked, resolved, alert) -> None:
    integration = world.integrations[slug]
    name, summary, severity = alert
    key = f'{{}}:{{alertname="{name}"}}/{detected.timestamp():.0f}'
    firing = AlertEvent(
        source="alertmanager",
        incident_key=key,
        fingerprint=f"{name.lower()}-{rng.randint(1, 4)}",
        status=AlertStatus.FIRING,
        title=f"{name}: {summary}",
        severity=severity,
        labels={"alertname": name, "service": slug},
        starts_at=started,
    )
    apply.alerts_apply(integration=integration, alert_events=[firing], received_at=detected)
    incident = Incident.objects.only("pk").get(service_id=integration.service_id, dedup_key=key)
    if acked is not None:
        at, user = acked
        actions.incident_acknowledge(incident_id=incident.pk, user=user, at=at)
    if resolved is not None:
        resolved_event = AlertEvent(**{**firing.__dict__, "status": AlertStatus.RESOLVED})
        apply.alerts_apply(
            integration=integration, alert_events=[resolved_event], received_at=resolved
        )
