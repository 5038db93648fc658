"""Demo data for `make run` (manage.py seed_demo): the whole product on first load.

Two teams with people, services and integrations; layered schedules with an override;
escalation policies on every service; verified email contact methods and notification rules;
twelve weeks of incidents whose MTTD / MTTA / MTTR improve over time; a finished failover
drill; the rolled-up MTTx read model; the last two weekly reports. Everything goes through
the same services the pages and the API call. Addresses are @example.com and `make run`
sends email to the console (EMAIL_URL=console://), so nobody is paged for real.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from incidents.catalog import changes
from incidents.models import Integration, Service
from metrics import reports, rollup
from metrics.demo import history, setup
from metrics.weeks import shift_week
from oncall.models import Team

DEMO_USER = "demo"
DEMO_PASSWORD = "pagerline-demo"  # noqa: S105 - documented demo login, local only
# A fixed token for the demo Alertmanager integration, so `make run` can print its URL.
DEMO_TOKEN = "demo-checkout-alertmanager"  # noqa: S105


@dataclass(frozen=True)
class Seeded:
    created: bool
    webhook_url: str
    incidents: int = 0
    rollup_rows: int = 0
    reports: int = 0


def demo_seed() -> Seeded:
    """Load the demo once; on a database that has it, only refresh the demo login and the
    demo webhook token (so the printed URL works) and report that it is already there."""
    user = _demo_user()
    with transaction.atomic():
        created = not Team.objects.filter(slug=setup.FIRST_TEAM).exists()
        result = _load(user) if created else {}
        integration = Integration.objects.get(
            service=Service.objects.get(slug=setup.WEBHOOK_SERVICE), source="alertmanager"
        )
        changes.integration_set_token(integration=integration, token=DEMO_TOKEN)
    return Seeded(
        created=created,
        webhook_url=changes.webhook_url(integration=integration, token=DEMO_TOKEN),
        **result,
    )


def _load(user) -> dict:
    now = timezone.now().replace(microsecond=0)
    world = setup.world_create(manager=user, now=now)
    drill = history.drill_prepare(world, now=now)
    incidents = history.past_incidents(world, now=now, drill=drill)
    history.drill_close(drill)
    setup.policies_assign(world, actor=user)
    incidents += history.open_incidents(world, now=now)
    # The dashboard's trend and the reports read the rolled-up weeks: roll up now, not at
    # the first hourly beat.
    rows = rollup.mttx_weeks_rollup(now=now)
    built = 0
    for team in world.teams:
        due = reports.due_week(team, now=now)
        for week in (shift_week(due, -1), due):
            built += reports.report_build(team=team, week=week, now=now).created
    return {"incidents": incidents, "rollup_rows": rows, "reports": built}


def _demo_user():
    user, _ = get_user_model().objects.get_or_create(
        username=DEMO_USER, defaults={"email": f"{DEMO_USER}@example.com"}
    )
    user.is_staff = user.is_superuser = True
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user
