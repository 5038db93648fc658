"""bench/paging.py's world: local receivers for every channel, and the people, schedules,
policies and services of the storm, made through the services a user's clicks call."""

from __future__ import annotations

from datetime import timedelta

from aiosmtpd.controller import Controller

from tests.peers import Receiver, SmtpSink, free_port


class Receivers:
    """An SMTP sink (aiosmtpd) and one HTTP server for webhooks (/hook/<person>) and Apprise
    json:// URLs (/apprise/<person>), recording what arrived and when."""

    def __init__(self):
        self.smtp = SmtpSink()
        self.smtp_port = free_port()
        self.controller = Controller(self.smtp, hostname="127.0.0.1", port=self.smtp_port)
        self.http = Receiver()
        self.http_base = self.http.url.rsplit("/", 1)[0]

    def start(self) -> Receivers:
        self.controller.start()
        self.http.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
        self.http.stop()

    def clear(self) -> None:
        self.smtp.messages.clear()
        self.smtp.arrived.clear()
        self.http.requests.clear()


def storm_setup(*, people: int, schedules: int, services: int, http: str) -> list[str]:
    """Create the storm's team; returns the services' Alertmanager integration tokens."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from incidents.catalog import changes
    from incidents.escalation import policies
    from incidents.models import ContactMethod, Notification, NotificationRule
    from incidents.notify import contacts
    from oncall import services as oncall
    from oncall.models import Membership, Role, Team

    now = timezone.now()
    user_model = get_user_model()
    team = Team.objects.create(slug="storm", name="Storm")
    manager = user_model.objects.create(username="storm-manager")
    Membership.objects.create(team=team, user=manager, role=Role.MANAGER)
    users = []
    for n in range(people):
        user = user_model.objects.create(username=f"oncall-{n}", email=f"oncall-{n}@example.com")
        Membership.objects.create(team=team, user=user, role=Role.RESPONDER)
        methods = [
            contacts.contact_method_create(user=user, kind=kind, address=address)
            for kind, address in (
                ("email", f"oncall-{n}@example.com"),
                ("apprise", f"json://{http.removeprefix('http://')}/apprise/{n}"),
                ("webhook", f"{http}/hook/{n}"),
            )
        ]
        # As if each verification code had come back.
        ContactMethod.objects.filter(user=user).update(verified_at=now)
        NotificationRule.objects.bulk_create(
            NotificationRule(user=user, urgency="high", delay_seconds=0, contact_method=method)
            for method in methods
        )
        users.append(user)
    # Weekly rotations of two people, started a day ago: person n is on call for schedule n.
    start = (now - timedelta(days=1)).replace(tzinfo=None, microsecond=0)
    rotas = [
        oncall.schedule_create(
            team=team,
            name=f"Rota {n}",
            time_zone="UTC",
            layers=[
                oncall.LayerSpec(
                    name="Primary",
                    participants=(users[n % people], users[(n + 1) % people]),
                    unit="weeks",
                    every=1,
                    handoff_start=start,
                )
            ],
        )
        for n in range(schedules)
    ]
    tokens = []
    for n in range(services):
        service = changes.service_create(actor=manager, team=team, slug=f"svc-{n}", name=f"svc-{n}")
        policy = policies.policy_create(
            actor=manager,
            team=team,
            name=f"svc-{n}",
            steps=[
                {"delay_seconds": 0, "targets": [{"schedule": rotas[n % schedules].pk}]},
                {"delay_seconds": 3600, "targets": [{"schedule": rotas[(n + 1) % schedules].pk}]},
            ],
        )
        changes.service_update(actor=manager, service=service, escalation_policy_id=policy.pk)
        tokens.append(changes.integration_create(service=service, source="alertmanager")[1])
    Notification.objects.all().delete()  # the verification codes, never sent
    return tokens
