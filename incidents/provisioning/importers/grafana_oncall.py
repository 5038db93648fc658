"""Grafana OnCall HTTP API v1 -> provisioning document.

Read: /api/v1/users/, /api/v1/teams/, /api/v1/schedules/, /api/v1/on_call_shifts/,
/api/v1/escalation_chains/, /api/v1/escalation_policies/, /api/v1/integrations/ (each paged
by `next`). Reference: https://grafana.com/docs/oncall/latest/oncall-api-reference/.

Shifts: a shift starts at `start` (wall clock in its `time_zone`, by default the
schedule's) and recurs every `interval` `frequency` (hourly | daily | weekly | monthly),
optionally only on `by_day`, each occurrence lasting `duration` seconds; a rolling_users
shift hands each occurrence to the next group of `rolling_users`, from
`start_rotation_from_user_index`. Higher `level` wins where shifts overlap. How an
occurrence crosses a DST change is not documented; it is read as recurring at the same
wall-clock time (iCalendar's RRULE rule, which OnCall's recurrences follow), as
Pagerline's handoffs do. The report says so.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from incidents.provisioning.importers.common import (
    Builder,
    Report,
    users_and_teams,
    windows_to_restrictions,
)

DEFAULT_TEAM = "_grafana_oncall"
ROLES = {"admin": "manager", "editor": "responder", "viewer": "viewer"}
UNITS = {"hourly": ("hours", 3600), "daily": ("days", 86400), "weekly": ("weeks", 604800)}
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
SOURCES = {
    "alertmanager": "alertmanager",
    "grafana_alerting": "grafana",
    "grafana": "grafana",
    "webhook": "generic",
    "formatted_webhook": "generic",
}
DST_NOTE = (
    "Grafana OnCall does not document how a shift's recurrence crosses a DST change; it is "
    "read as recurring at the same wall-clock time in the shift's zone (Pagerline's rule)"
)
ENDPOINTS = (
    "users", "teams", "schedules", "on_call_shifts", "escalation_chains",
    "escalation_policies", "integrations",
)  # fmt: skip


def auth_header(token: str) -> dict:
    return {"Authorization": token}


def fetch(client) -> dict:
    return {
        name: client.next_pages(
            f"/api/v1/{name}/",
            next_of=lambda page: page.get("next"),
            items_of=lambda page: page.get("results"),
        )
        for name in ENDPOINTS
    }


def _rotate(items: list, by: int) -> list:
    by = by % len(items) if items else 0
    return items[by:] + items[:by]


class _Mapping:
    def __init__(self, raw: dict, now: datetime):
        self.raw, self.now = raw, now
        self.report = Report("Grafana OnCall")
        self.b = Builder(self.report)
        self.shifts = {shift["id"]: shift for shift in raw["on_call_shifts"]}
        self.schedules: dict[str, tuple[str, str]] = {}
        self.chains: dict[str, tuple[str, str]] = {}

    def team_key(self, team_id: str | None) -> str:
        if team_id in self.b.teams:
            return team_id
        self.b.team(DEFAULT_TEAM, "Grafana OnCall")
        return DEFAULT_TEAM

    def run(self) -> tuple[dict, Report]:
        # OnCall's teams list no members: whoever the team's schedules and chains name joins.
        self.users = users_and_teams(
            self.b,
            users=self.raw["users"],
            teams=self.raw["teams"],
            email_of=lambda user: user.get("email") or None,
            role_of=lambda user: ROLES.get(user.get("role"), "responder"),
            no_email=lambda user: f"user {user.get('username')!r}: has no email",
            unknown="could not be matched by email",
        )
        for schedule in self.raw["schedules"]:
            self.schedule(schedule)
        by_chain: dict[str, list[dict]] = {}
        for policy in self.raw["escalation_policies"]:
            by_chain.setdefault(policy["escalation_chain_id"], []).append(policy)
        for chain in self.raw["escalation_chains"]:
            self.chain(chain, sorted(by_chain.get(chain["id"], []), key=lambda p: p["position"]))
        for integration in self.raw["integrations"]:
            self.integration(integration)
        self.report.notes.append(DST_NOTE)
        self.report.skipped.append(
            "non-default routes of integrations, templates and outgoing webhooks: "
            "not read by this importer"
        )
        return self.b.document(), self.report

    # --- schedules -------------------------------------------------------------------------

    def schedule(self, schedule: dict) -> None:
        what = f"schedule {schedule['name']!r}"
        if schedule.get("type") == "ical":
            self.report.skipped.append(
                f"{what}: an iCal schedule (its shifts live in an external calendar)"
            )
            return
        key = self.team_key(schedule.get("team_id"))
        zone = schedule.get("time_zone") or "UTC"
        shifts = [self.shifts[i] for i in schedule.get("shifts") or [] if i in self.shifts]
        layers, overrides = [], []
        zones = {s.get("time_zone") or zone for s in shifts if s.get("type") != "single_event"}
        if len(zones) > 1:
            self.report.skipped.append(
                f"{what}: its shifts use several time zones ({', '.join(sorted(zones))}); "
                "a Pagerline schedule has one"
            )
            return
        zone = zones.pop() if zones else zone
        # Higher level wins in OnCall; Pagerline lists layers highest priority first.
        ordered = sorted(shifts, key=lambda s: (-int(s.get("level") or 0), s.get("start") or ""))
        for shift in ordered:
            where = f"{what} / shift {shift.get('name')!r}"
            if shift.get("type") in ("single_event", "override"):
                overrides += self.single(shift, key, zone, where)
            else:
                layer = self.layer(shift, key, zone, where)
                if layer:
                    layers.append(layer)
        if not layers:
            self.report.skipped.append(f"{what}: no shift could be mapped to a rotation")
            return
        self.b.schedule(
            key,
            name=schedule["name"],
            time_zone=zone,
            layers=layers,
            overrides=overrides,
            what=what,
        )
        self.schedules[schedule["id"]] = (key, schedule["name"])

    def single(self, shift: dict, key: str, zone: str, where: str) -> list[dict]:
        tz = ZoneInfo(shift.get("time_zone") or zone)
        start = datetime.fromisoformat(shift["start"]).replace(tzinfo=tz).astimezone(UTC)
        end = start + timedelta(seconds=int(shift["duration"]))
        if end <= self.now:
            return []
        users = shift.get("users") or []
        if len(users) != 1:
            self.report.skipped.append(f"{where}: a one-off shift of {len(users)} people")
            return []
        email = self.users.member(users[0], key, where)
        if email is None:
            return []
        stamp = "%Y-%m-%dT%H:%M:%SZ"
        return [
            {"user": email, "start": start.strftime(stamp), "end": end.strftime(stamp),
             "replaces": None}
        ]  # fmt: skip

    def layer(self, shift: dict, key: str, zone: str, where: str) -> dict | None:
        if shift.get("frequency") not in UNITS:
            self.report.skipped.append(f"{where}: frequency {shift.get('frequency')!r}")
            return None
        if shift.get("by_month") or shift.get("by_monthday"):
            self.report.skipped.append(f"{where}: by_month / by_monthday recurrences")
            return None
        if shift.get("type") == "rolling_users":
            groups = _rotate(
                shift.get("rolling_users") or [],
                int(shift.get("start_rotation_from_user_index") or 0),
            )
        else:  # recurrent_event: the same people at every occurrence
            groups = [shift.get("users") or []]
        if any(len(group) != 1 for group in groups):
            self.report.skipped.append(
                f"{where}: a group of several people on call together (Pagerline's rotations "
                "put one person on call per layer)"
            )
            return None
        people = [self.users.member(group[0], key, where) for group in groups]
        if not people or None in people:
            return None
        unit, size = UNITS[shift["frequency"]]
        every = int(shift.get("interval") or 1)
        period, duration = size * every, int(shift["duration"])
        start = datetime.fromisoformat(shift["start"])
        by_day = [DAYS.index(day) for day in shift.get("by_day") or []]
        restrictions: list[dict] = []
        if by_day:
            if len(set(people)) > 1 or duration > 86400 or (unit, every) not in (
                ("days", 1), ("weeks", 1),
            ):  # fmt: skip
                self.report.skipped.append(
                    f"{where}: by_day with a rotation of several people (OnCall hands over at "
                    "each listed day; Pagerline's rotations count every day)"
                )
                return None
            windows = [(day, start.hour * 60 + start.minute, duration // 60) for day in by_day]
            restrictions = windows_to_restrictions(windows)
        elif duration < period:
            if (unit, every) == ("days", 1):
                days = range(7)
            elif (unit, every) == ("weeks", 1):
                days = [start.weekday()]
            else:
                self.report.skipped.append(
                    f"{where}: occurrences of {duration} s every {period} s (only daily or "
                    "weekly windows can be written as restrictions)"
                )
                return None
            windows = [(day, start.hour * 60 + start.minute, duration // 60) for day in days]
            restrictions = windows_to_restrictions(windows)
        elif duration > period:
            self.report.skipped.append(f"{where}: occurrences longer than their period overlap")
            return None
        until = shift.get("until")
        return {
            "name": shift.get("name") or "Rotation",
            "participants": people,
            "unit": unit,
            "every": every,
            "handoff": start.isoformat(timespec="minutes"),
            "end": datetime.fromisoformat(until).isoformat(timespec="minutes") if until else None,
            "restrictions": restrictions,
        }

    # --- escalation chains, integrations ---------------------------------------------------

    def chain(self, chain: dict, policies: list[dict]) -> None:
        what = f"escalation chain {chain['name']!r}"
        key = self.team_key(chain.get("team_id"))
        steps, pending, repeat, fresh = [], 0, 0, True
        for policy in policies:
            kind = policy.get("type")
            where = f"{what} / step {policy.get('position')} ({kind})"
            targets = []
            if kind == "wait":
                pending += int(policy.get("duration") or 0)
                fresh = True
                continue
            if kind == "repeat_escalation":
                repeat = 5  # OnCall repeats a chain from the beginning at most 5 times
                self.report.notes.append(f"{where}: OnCall repeats 5 times at most; so does this")
                continue
            if kind == "notify_persons":
                for user_id in policy.get("persons_to_notify") or []:
                    email = self.users.member(user_id, key, where)
                    if email:
                        targets.append({"user": email})
            elif kind == "notify_on_call_from_schedule":
                found = self.schedules.get(policy.get("notify_on_call_from_schedule"))
                if found and found[0] == key:
                    targets.append({"schedule": found[1]})
                else:
                    self.report.skipped.append(f"{where}: the schedule is not one of its team's")
            else:
                self.report.skipped.append(f"{where}: no Pagerline equivalent")
                continue
            if policy.get("important"):
                self.report.notes.append(f"{where}: 'important' notifications are not kept")
            if not targets:
                continue
            if steps and not fresh:
                steps[-1]["targets"] += [t for t in targets if t not in steps[-1]["targets"]]
            else:
                steps.append({"delay_seconds": pending, "targets": targets})
            pending, fresh = 0, False
        if not steps:
            self.report.skipped.append(f"{what}: no step could be mapped")
            return
        self.b.teams[key]["escalation_policies"].append(
            {"name": chain["name"], "repeat": repeat, "fallback_user": None, "steps": steps}
        )
        self.chains[chain["id"]] = (key, chain["name"])
        self.report.mapped.append(f"{what} with {len(steps)} step(s)")

    def integration(self, integration: dict) -> None:
        what = f"integration {integration['name']!r}"
        source = SOURCES.get(integration.get("type"))
        if source is None:
            self.report.skipped.append(
                f"{what}: type {integration.get('type')!r} has no Pagerline source"
            )
            return
        key = self.team_key(integration.get("team_id"))
        chain = self.chains.get((integration.get("default_route") or {}).get("escalation_chain_id"))
        policy = chain[1] if chain and chain[0] == key else None
        self.b.teams[key]["services"].append(
            {"slug": self.b.service_slug(integration["name"]), "name": integration["name"][:200],
             "escalation_policy": policy,
             "integrations": [{"name": integration["name"][:200], "source": source,
                               "enabled": True}]}
        )  # fmt: skip
        self.report.mapped.append(
            f"{what} ({integration.get('type')}) -> a service of its own, source {source}, "
            f"escalation policy {policy!r} (its default route's chain)"
        )


def to_document(raw: dict, *, now: datetime | None = None) -> tuple[dict, Report]:
    """Pure: the API's JSON (as `fetch` collects it) -> (document, report)."""
    return _Mapping(raw, now or datetime.now(UTC)).run()
