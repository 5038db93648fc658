"""What the vendor mappings share: the report, the document being built, the vendor's users
and teams, and the conversions of times and weekly windows into the provisioning format.
Pure."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

ROLE_RANK = {"viewer": 0, "responder": 1, "manager": 2}
_DAY = 24 * 60


@dataclass
class Report:
    """What the import mapped and what it could not, with why; written beside the document."""

    vendor: str
    mapped: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [f"Import from {self.vendor}", "", f"Mapped ({len(self.mapped)}):"]
        lines += [f"  + {line}" for line in self.mapped]
        lines += ["", f"Not mapped ({len(self.skipped)}):"]
        lines += [f"  - {line}" for line in self.skipped] or ["  (nothing)"]
        lines += ["", "Notes:"] + ([f"  * {line}" for line in self.notes] or ["  (none)"])
        return "\n".join(lines) + "\n"


def slugify(name: str, taken: set[str] | None = None) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:50].strip("-") or "imported"
    if taken is not None:
        base, n = slug, 2
        while slug in taken:
            slug = f"{base[:46]}-{n}"
            n += 1
        taken.add(slug)
    return slug


class Builder:
    """Teams of the document, filled as the mapping goes."""

    def __init__(self, report: Report):
        self.report = report
        self.teams: dict[str, dict] = {}  # vendor key -> team
        self.slugs: set[str] = set()
        self.service_slugs: set[str] = set()

    def team(self, key: str, name: str, time_zone: str = "UTC") -> dict:
        if key not in self.teams:
            self.teams[key] = {
                "slug": slugify(name, self.slugs),
                "name": name[:200],
                "time_zone": time_zone,
                "members": [],
                "schedules": [],
                "escalation_policies": [],
                "services": [],
            }
        return self.teams[key]

    def member(self, team: dict, email: str, role: str = "responder") -> None:
        for member in team["members"]:
            if member["email"] == email:
                if ROLE_RANK[role] > ROLE_RANK[member["role"]]:
                    member["role"] = role
                return
        team["members"].append({"email": email, "role": role})

    def schedule(
        self,
        key: str,
        *,
        name: str,
        time_zone: str,
        layers: list[dict],
        overrides: list[dict],
        what: str,
    ) -> None:
        """A schedule for the team `key`, whose time zone it becomes while the team's is still
        the default UTC, and the report line `what` "with ... -> team ..." saying so."""
        team = self.teams[key]
        team["schedules"].append(
            {"name": name, "time_zone": time_zone, "layers": layers, "overrides": overrides}
        )
        if team["time_zone"] == "UTC":
            team["time_zone"] = time_zone
        self.report.mapped.append(
            f"{what} with {len(layers)} rotation(s) and {len(overrides)} override(s) "
            f"-> team {team['slug']}"
        )

    def service_slug(self, name: str) -> str:
        return slugify(name, self.service_slugs)

    def document(self) -> dict:
        teams = []
        for team in self.teams.values():
            if not team["members"]:
                self.report.skipped.append(
                    f"team {team['name']!r}: nobody could be matched to it, so it is left out"
                )
                continue
            if "manager" not in {m["role"] for m in team["members"]}:
                team["members"][0]["role"] = "manager"
                self.report.notes.append(
                    f"team {team['slug']}: no member is an admin/manager in the source; "
                    f"{team['members'][0]['email']} is made its manager (a team needs one)"
                )
            # A policy may not page a viewer: whoever a policy names directly is a responder.
            for policy in team["escalation_policies"]:
                for step in policy["steps"]:
                    for target in step["targets"]:
                        if "user" in target:
                            self.member(team, target["user"], "responder")
            team["members"].sort(key=lambda m: m["email"])
            for key in ("schedules", "escalation_policies", "services"):
                team[key].sort(key=lambda item: item.get("slug") or item["name"])
            teams.append(team)
        teams.sort(key=lambda t: t["slug"])
        return {"version": 1, "teams": teams}


@dataclass
class Users:
    """The vendor's users matched by email: vendor user id -> email, and -> the Pagerline
    role their vendor role maps to."""

    builder: Builder
    unknown: str  # the end of a report line about a user that is not among these
    emails: dict[str, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)

    def member(
        self, user_id: str | None, team_key: str, where: str, *, label: str | None = None
    ) -> str | None:
        """The email of the user a schedule or policy of the team names at `where`, made a
        member of the team (a viewer as a responder: whoever is paged must be able to act);
        None, and a report line naming the user (`label`, by default the id), when the user
        is not among these."""
        email = self.emails.get(user_id)
        if email is None:
            self.builder.report.skipped.append(f"{where}: user {label or user_id} {self.unknown}")
            return None
        role = "responder" if self.roles[user_id] == "viewer" else self.roles[user_id]
        self.builder.member(self.builder.teams[team_key], email, role)
        return email


def users_and_teams(
    builder: Builder,
    *,
    users: Iterable[dict],
    teams: Iterable[dict],
    email_of: Callable[[dict], str | None],
    role_of: Callable[[dict], str],
    no_email: Callable[[dict], str] = lambda user: f"user {user.get('id')!r}: has no email",
    memberships: Iterable[tuple[str | None, str, str | None]] = (),
    matched_by: str = "email",
    unknown: str = "is not among the users read",
) -> Users:
    """The vendor's users and teams into the builder and its report, the same way for every
    vendor; what differs is passed in.

    A user is matched by `email_of` (stripped, lower case); one for whom it is None is left
    out, with the report line `no_email`. `role_of` maps the vendor's role to Pagerline's.
    Each of `teams` (with `id` and `name`) becomes a team of the document. `memberships` are
    (vendor user id, team id, role or None for the user's own role), read once the teams
    exist; those naming a user or a team not read are passed over. A team member may hold a
    role here that is not the user's own (Opsgenie's team admins manage the team)."""
    found = Users(builder, unknown)
    for user in users:
        email = email_of(user)
        if email is None:
            builder.report.skipped.append(no_email(user))
            continue
        found.emails[user["id"]] = email.strip().lower()
        found.roles[user["id"]] = role_of(user)
    builder.report.mapped.append(f"{len(found.emails)} user(s), matched by {matched_by}")
    for team in teams:
        builder.team(team["id"], team["name"])
        builder.report.mapped.append(f"team {team['name']!r}")
    for user_id, team_id, role in memberships:
        if user_id in found.emails and team_id in builder.teams:
            builder.member(
                builder.teams[team_id], found.emails[user_id], role or found.roles[user_id]
            )
    return found


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def wallclock(value: str | datetime, zone: str) -> str:
    """An instant (ISO text with offset) as a wall-clock time in `zone`, the format's way."""
    moment = instant(value) if isinstance(value, str) else value
    local = moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    return local.isoformat(timespec="seconds" if local.second else "minutes")


def utc_text(value: str) -> str:
    return instant(value).astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


def windows_to_restrictions(windows: list[tuple[int, int, int]]) -> list[dict]:
    """Weekly windows (weekday 0=Monday, start minute of the day, length in minutes) as the
    format's restrictions, which are at most a day long: a window is cut at each midnight,
    and a whole day is two halves (a restriction may not start where it ends)."""
    if any(length >= 7 * _DAY for _, _, length in windows):
        return []  # always on: no restriction
    pieces: dict[tuple[int, int], set[int]] = {}
    for day, start, length in windows:
        begin, end = day * _DAY + start, day * _DAY + start + length
        while begin < end:
            day_of = begin // _DAY
            stop = min(end, (day_of + 1) * _DAY)
            a, b = begin - day_of * _DAY, stop - day_of * _DAY
            halves = [(0, _DAY // 2), (_DAY // 2, _DAY)] if (a, b) == (0, _DAY) else [(a, b)]
            for piece in halves:
                pieces.setdefault(piece, set()).add(day_of % 7)
            begin = stop
    return [
        {"days": sorted(days), "start": _hhmm(a), "end": _hhmm(b)}
        for (a, b), days in sorted(pieces.items())
    ]
