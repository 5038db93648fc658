"""Builders of oncall rows for tests (teams, people, schedules, overrides): plain functions
with keyword defaults, through oncall.services where a service exists, as users' changes
would go. The shared fixtures (`team`, `users`) in the root conftest.py are built here too.
How to add one: tests/README.md."""

from __future__ import annotations

from datetime import datetime, time

from django.contrib.auth import get_user_model

from oncall import services
from oncall.models import Membership, Role, Schedule, Team, UserProfile

PASSWORD = "correct horse 42"


def make_team(*, slug: str = "payments", name: str = "", time_zone: str = "UTC") -> Team:
    return Team.objects.create(slug=slug, name=name or slug.title(), time_zone=time_zone)


def make_user(username: str, *, password: str = PASSWORD, **fields):
    return get_user_model().objects.create_user(username, password=password, **fields)


def make_membership(team: Team, user, *, role: Role = Role.RESPONDER) -> Membership:
    return Membership.objects.create(team=team, user=user, role=role)


def make_profile(user, *, time_zone: str) -> UserProfile:
    return services.profile_update(user=user, time_zone=time_zone)


def layer(
    name: str,
    participants: list,
    *,
    unit: str = "days",
    every: int = 1,
    handoff_start: datetime,
    restrictions: tuple = (),
    end: datetime | None = None,
) -> services.LayerSpec:
    """One layer as a user gives it, for make_schedule; `restrictions` are
    (days, (hour, minute), (hour, minute)) triples."""
    return services.LayerSpec(
        name=name,
        participants=tuple(participants),
        unit=unit,
        every=every,
        handoff_start=handoff_start,
        restrictions=tuple(
            services.RestrictionSpec(days=tuple(days), start=time(*start), end=time(*end))
            for days, start, end in restrictions
        ),
        end=end,
    )


def make_schedule(
    team: Team,
    layers: list = (),
    *,
    name: str = "Primary",
    time_zone: str = "Europe/Berlin",
    **kw,
) -> Schedule:
    return services.schedule_create(
        team=team, name=name, time_zone=time_zone, layers=list(layers), **kw
    )


def make_override(schedule: Schedule, user, *, start: datetime, end: datetime, **options):
    """`user` on call over [start, end); options (replaces, created_by) as override_create's."""
    return services.override_create(schedule=schedule, user=user, start=start, end=end, **options)


def make_invitation(
    actor, email: str, *, team: Team | None = None, role: str = Role.RESPONDER, now=None
):
    """(invitation, plain token). The token is read back from the email sent through the
    configured backend (the test's locmem outbox or SMTP sink), as the invited person would;
    the caller's outbox then holds that email."""
    from django.core import mail

    from oncall import invitations

    before = len(getattr(mail, "outbox", []))
    sent = invitations.invitation_create(actor=actor, email=email, team=team, role=role, now=now)
    body = mail.outbox[before].body
    return sent.invitation, invitation_token_in(body)


def invitation_token_in(text: str) -> str:
    """The token of the first invitation link in a message's text."""
    import re

    return re.search(r"/invite/([A-Za-z0-9_-]+)/", text).group(1)
