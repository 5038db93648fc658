"""Opsgenie REST API v2 -> provisioning document.

Read: /v2/users (paging.next), /v2/teams and /v2/teams/{id} (members), /v2/schedules
?expand=rotation, /v2/schedules/{id}/overrides, /v2/escalations, /v2/integrations.
Reference: https://docs.opsgenie.com/docs/ (User, Team, Schedule, Schedule Rotation,
Schedule Override, Escalation and Integration APIs).

Rotations: `type` daily | weekly | hourly, `length` of them, from `startDate`, which
"becomes the handover time" in the schedule's time zone (Opsgenie's schedule guide). How a
rotation crosses a DST change is not documented; it is read as the handover staying at the
same wall-clock time, as Pagerline's does (the report says so). Opsgenie notifies the
on-call people of every rotation of a schedule; Pagerline's layers are stacked, the first
listed winning where they overlap (the report names the schedules where that matters).
"""

from __future__ import annotations

from datetime import UTC, datetime

from incidents.provisioning.importers.common import (
    Builder,
    Report,
    instant,
    users_and_teams,
    utc_text,
    wallclock,
    windows_to_restrictions,
)

DEFAULT_TEAM = "_opsgenie"
ROLES = {"owner": "manager", "admin": "manager", "user": "responder"}
UNITS = {"hourly": "hours", "daily": "days", "weekly": "weeks"}
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
# An API integration's senders speak Opsgenie's Alert API: Pagerline's own answers it.
SOURCES = {"prometheus": "alertmanager", "grafana": "grafana", "api": "opsgenie"}
DST_NOTE = (
    "Opsgenie does not document how a rotation crosses a DST change; the handover is kept at "
    "the same wall-clock time in the schedule's zone (Pagerline's rule)"
)


def auth_header(token: str) -> dict:
    return {"Authorization": f"GenieKey {token}"}


def _data(page: dict):
    return page.get("data")


def _paged(client, path: str, params: dict | None = None) -> list[dict]:
    return client.next_pages(
        path,
        {"limit": 100, "offset": 0, **(params or {})},
        next_of=lambda page: (page.get("paging") or {}).get("next"),
        items_of=_data,
    )


def fetch(client) -> dict:
    teams = _paged(client, "/v2/teams")
    schedules = _paged(client, "/v2/schedules", {"expand": "rotation"})
    return {
        "users": _paged(client, "/v2/users"),
        "teams": [client.get(f"/v2/teams/{t['id']}")["data"] for t in teams],
        "schedules": schedules,
        "overrides": {
            s["id"]: client.get(f"/v2/schedules/{s['id']}/overrides")["data"] for s in schedules
        },
        "escalations": _paged(client, "/v2/escalations"),
        "integrations": _paged(client, "/v2/integrations"),
    }


def _minutes(hour, minute) -> int:
    return int(hour) * 60 + int(minute)


def _restrictions(restriction: dict | None) -> list[dict]:
    if not restriction:
        return []
    windows = []
    if restriction.get("type") == "time-of-day":
        r = restriction["restriction"]
        start, end = _minutes(r["startHour"], r["startMin"]), _minutes(r["endHour"], r["endMin"])
        length = (end - start) % 1440 or 1440
        windows = [(day, start, length) for day in range(7)]
    else:  # weekday-and-time-of-day
        for r in restriction.get("restrictions") or []:
            day = DAYS.index(r["startDay"].lower())
            start = day * 1440 + _minutes(r["startHour"], r["startMin"])
            end = DAYS.index(r["endDay"].lower()) * 1440 + _minutes(r["endHour"], r["endMin"])
            windows.append((day, start % 1440, (end - start) % 10080 or 10080))
    return windows_to_restrictions(windows)


class _Mapping:
    def __init__(self, raw: dict, now: datetime):
        self.raw, self.now = raw, now
        self.report = Report("Opsgenie")
        self.b = Builder(self.report)
        self.schedules: dict[str, tuple[str, str]] = {}  # id -> (team key, name)
        self.policies: dict[str, str] = {}  # team key -> first policy name

    def team_key(self, owner: dict | None) -> str:
        if owner and owner.get("id") in self.b.teams:
            return owner["id"]
        self.b.team(DEFAULT_TEAM, "Opsgenie")
        return DEFAULT_TEAM

    def user(self, ref: dict, key: str, where: str) -> str | None:
        return self.users.member(
            ref.get("id"), key, where, label=ref.get("username") or ref.get("id")
        )

    def run(self) -> tuple[dict, Report]:
        teams = self.raw["teams"]
        self.users = users_and_teams(
            self.b,
            users=self.raw["users"],
            teams=teams,
            # An Opsgenie username is the user's email address.
            email_of=lambda user: user["username"],
            role_of=_role,
            matched_by="email (username)",
            # A team lists its members; its admins manage it, whatever their own role.
            memberships=(
                (
                    (member.get("user") or {}).get("id"),
                    team["id"],
                    "manager" if member.get("role") == "admin" else None,
                )
                for team in teams
                for member in team.get("members") or []
            ),
        )
        for schedule in self.raw["schedules"]:
            self.schedule(schedule, self.raw["overrides"].get(schedule["id"]) or [])
        for escalation in self.raw["escalations"]:
            self.escalation(escalation)
        for integration in self.raw["integrations"]:
            self.integration(integration)
        self.report.notes.append(DST_NOTE)
        self.report.skipped.append(
            "team routing rules, notification policies and heartbeats: not read by this importer"
        )
        return self.b.document(), self.report

    def schedule(self, schedule: dict, overrides: list[dict]) -> None:
        what = f"schedule {schedule['name']!r}"
        key = self.team_key(schedule.get("ownerTeam"))
        zone = schedule.get("timezone") or "UTC"
        layers = []
        for rotation in schedule.get("rotations") or []:
            where = f"{what} / rotation {rotation.get('name')!r}"
            if rotation.get("endDate") and instant(rotation["endDate"]) <= self.now:
                self.report.skipped.append(f"{where}: ended {rotation['endDate']}")
                continue
            if rotation.get("type") not in UNITS:
                self.report.skipped.append(f"{where}: rotation type {rotation.get('type')!r}")
                continue
            kinds = {p.get("type") for p in rotation.get("participants") or []}
            if kinds - {"user"}:
                self.report.skipped.append(
                    f"{where}: participants of type {', '.join(sorted(kinds - {'user'}))} "
                    "(Pagerline rotates people only; 'none' slots have no equivalent)"
                )
                continue
            people = [self.user(p, key, where) for p in rotation["participants"]]
            if not people or None in people:
                self.report.skipped.append(f"{where}: not every participant could be matched")
                continue
            layers.append(
                {
                    "name": rotation.get("name") or f"Rotation {len(layers) + 1}",
                    "participants": people,
                    "unit": UNITS[rotation["type"]],
                    "every": int(rotation.get("length") or 1),
                    "handoff": wallclock(rotation["startDate"], zone),
                    "end": wallclock(rotation["endDate"], zone)
                    if rotation.get("endDate")
                    else None,
                    "restrictions": _restrictions(rotation.get("timeRestriction")),
                }
            )
        if not layers:
            self.report.skipped.append(f"{what}: no rotation could be mapped")
            return
        if len(layers) > 1:
            self.report.notes.append(
                f"{what}: Opsgenie notifies the on-call person of every rotation; Pagerline's "
                "layers are stacked, the first listed winning where rotations overlap"
            )
        out = []
        for override in overrides:
            if instant(override["endDate"]) <= self.now:
                continue
            email = self.user(override.get("user") or {}, key, f"{what} / override")
            if email is None:
                continue
            if override.get("rotations"):
                self.report.notes.append(
                    f"{what} / override {override.get('alias')!r}: Opsgenie limits it to some "
                    "rotations; Pagerline's covers the whole schedule"
                )
            out.append(
                {
                    "user": email,
                    "start": utc_text(override["startDate"]),
                    "end": utc_text(override["endDate"]),
                    "replaces": None,
                }
            )
        self.b.schedule(
            key, name=schedule["name"], time_zone=zone, layers=layers, overrides=out, what=what
        )
        self.schedules[schedule["id"]] = (key, schedule["name"])

    def escalation(self, escalation: dict) -> None:
        what = f"escalation {escalation['name']!r}"
        key = self.team_key(escalation.get("ownerTeam"))
        steps: list[dict] = []
        last = 0
        # Opsgenie's delays count from the alert's creation; Pagerline's from the previous step.
        rules = sorted(escalation.get("rules") or [], key=lambda r: _delay_seconds(r))
        for index, rule in enumerate(rules):
            where = f"{what} / rule {index + 1}"
            recipient = rule.get("recipient") or {}
            target = None
            if rule.get("notifyType", "default") != "default":
                self.report.skipped.append(
                    f"{where}: notify type {rule['notifyType']!r} (only the on-call person)"
                )
            elif recipient.get("type") == "user":
                email = self.user(recipient, key, where)
                target = {"user": email} if email else None
            elif (
                recipient.get("type") == "schedule"
                and self.schedules.get(recipient.get("id"), ("",))[0] == key
            ):
                target = {"schedule": self.schedules[recipient["id"]][1]}
            else:
                self.report.skipped.append(
                    f"{where}: recipient {recipient.get('type')} "
                    f"{recipient.get('name') or recipient.get('id')} is not a user or a "
                    "schedule of the same team"
                )
            if target is None:
                continue
            if rule.get("condition") == "if-not-closed":
                self.report.notes.append(
                    f"{where}: Opsgenie's 'if not closed' becomes Pagerline's 'until acknowledged'"
                )
            delay = _delay_seconds(rule)
            if steps and delay == last:
                steps[-1]["targets"].append(target)
            else:
                steps.append({"delay_seconds": delay - last, "targets": [target]})
            last = delay
        if not steps:
            self.report.skipped.append(f"{what}: no rule could be mapped")
            return
        repeat = escalation.get("repeat") or {}
        self.b.teams[key]["escalation_policies"].append(
            {
                "name": escalation["name"],
                "repeat": int(repeat.get("count") or 0),
                "fallback_user": None,
                "steps": steps,
            }
        )
        if repeat.get("count"):
            self.report.notes.append(
                f"{what}: Opsgenie waits {repeat.get('waitInterval', 0)} min before a repeat; "
                "Pagerline repeats at once"
            )
        self.policies.setdefault(key, escalation["name"])
        self.report.mapped.append(f"{what} with {len(steps)} step(s)")

    def integration(self, integration: dict) -> None:
        what = f"integration {integration['name']!r}"
        source = SOURCES.get((integration.get("type") or "").lower())
        if source is None:
            self.report.skipped.append(
                f"{what}: type {integration.get('type')!r} has no Pagerline source"
            )
            return
        key = self.team_key({"id": integration.get("teamId")})
        policy = self.policies.get(key)
        self.b.teams[key]["services"].append(
            {
                "slug": self.b.service_slug(integration["name"]),
                "name": integration["name"][:200],
                "escalation_policy": policy,
                "integrations": [
                    {
                        "name": integration["name"][:200],
                        "source": source,
                        "enabled": bool(integration.get("enabled", True)),
                    }
                ],
            }
        )
        self.report.mapped.append(
            f"{what} ({integration.get('type')}) -> a service of its own, source {source}, "
            f"escalation policy {policy!r} (the team's first: routing rules are not read)"
        )
        if source == "opsgenie":
            self.report.notes.append(
                f"{what}: an Opsgenie API integration; its senders keep their requests, "
                "pointed at Pagerline's Opsgenie-compatible /v2/alerts with the new key"
            )


def _role(user: dict) -> str:
    """A custom role (any other name) reads as a viewer; no role at all, as a responder."""
    role = ((user.get("role") or {}).get("name") or "").lower()
    return ROLES.get(role, "viewer" if role else "responder")


def _delay_seconds(rule: dict) -> int:
    delay = rule.get("delay") or {}
    per = {"minutes": 60, "hours": 3600, "days": 86400}.get(delay.get("timeUnit"), 60)
    return int(delay.get("timeAmount") or 0) * per


def to_document(raw: dict, *, now: datetime | None = None) -> tuple[dict, Report]:
    """Pure: the API's JSON (as `fetch` collects it) -> (document, report)."""
    return _Mapping(raw, now or datetime.now(UTC)).run()
