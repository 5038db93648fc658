"""What applying a document would change: the teams it names, as they are now (exported),
compared with it (diff.diff). Reads only."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count

from incidents.models import Service
from incidents.provisioning import diff, export
from oncall.models import Team


@dataclass(frozen=True)
class Plan:
    changes: list[diff.Change]
    # Emails the document names that match no account (refused unless invited).
    unknown_users: list[str] = field(default_factory=list)
    # Where each unknown email is first used, for the refusal message.
    used_at: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.unknown_users and not [c for c in self.changes if c.action != "keep"]

    def lines(self, *, invite: bool) -> list[str]:
        invited = [f"+ invite user {email}" for email in self.unknown_users] if invite else []
        return invited + diff.describe(self.changes) or ["No changes."]


def emails_in(desired: dict) -> dict[str, str]:
    """Every email the document names -> where it is first named (`team 'x': members`)."""
    found: dict[str, str] = {}

    def note(email: str | None, where: str) -> None:
        if email is not None:
            found.setdefault(email, where)

    for team in desired["teams"]:
        label = f"team {team['slug']!r}"
        for member in team["members"]:
            note(member["email"], f"{label}: members")
        for schedule in team["schedules"]:
            for layer in schedule["layers"]:
                for email in layer["participants"]:
                    note(email, f"{label} / schedule {schedule['name']!r}: layers")
            for override in schedule["overrides"]:
                note(override["user"], f"{label} / schedule {schedule['name']!r}: overrides")
        for policy in team["escalation_policies"]:
            note(policy["fallback_user"], f"{label} / policy {policy['name']!r}: fallback_user")
    return found


def users_by_email(emails) -> dict[str, object]:
    """Active accounts by lowercased email (a document written from an account without
    an email names its username, which is accepted too)."""
    User = get_user_model()
    emails = {e.lower() for e in emails}
    found = {}
    for user in User.objects.filter(is_active=True).filter(email__in=_cased(emails)):
        found.setdefault(user.email.lower(), user)
    for user in User.objects.filter(is_active=True, username__in=emails - set(found)):
        found.setdefault(user.username.lower(), user)
    # Emails stored with capitals: the slower case-insensitive lookup, one per leftover.
    for email in emails - set(found):
        user = User.objects.filter(is_active=True, email__iexact=email).order_by("pk").first()
        if user is not None:
            found[email] = user
    return found


def _cased(emails: set[str]) -> list[str]:
    return sorted(emails)


def plan(desired: dict, *, prune: bool) -> Plan:
    """The changes that turn the teams `desired` (a canonical document) names into it."""
    slugs = [team["slug"] for team in desired["teams"]]
    teams = Team.objects.filter(slug__in=slugs).order_by("slug")
    current = diff.objects(export.export(teams=teams))
    undeletable = {
        ("service", row["team__slug"], row["slug"]): (
            f"has {row['n']} incident(s); a service with incidents is never deleted"
        )
        for row in Service.objects.filter(team__slug__in=slugs)
        .annotate(n=Count("incidents"))
        .filter(n__gt=0)
        .values("team__slug", "slug", "n")
    }
    changes = diff.diff(
        current, diff.objects(desired), prune=prune, undeletable=undeletable, scope=set(slugs)
    )
    named = emails_in(desired)
    known = users_by_email(named)
    unknown = sorted(email for email in named if email not in known)
    return Plan(changes, unknown, {email: named[email] for email in unknown})
