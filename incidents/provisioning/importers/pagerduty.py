"""PagerDuty REST API v2 -> provisioning document.

Read: /users, /teams, /schedules (+ /schedules/{id} for the layers), /escalation_policies,
/services (offset/limit pagination). Reference: https://developer.pagerduty.com/api-reference/
(List users, List teams, Get a schedule, List escalation policies, List services).

Rotations: a layer hands off every `rotation_turn_length_seconds` seconds counted from
`rotation_virtual_start`: elapsed seconds, so across a DST change the handoff's wall-clock
time moves by an hour. Pagerline's units (hours/days/weeks) are wall-clock, so such a
layer is written exactly only in a zone without DST: a schedule whose layers have no
restrictions is written in UTC (same instants); one with restrictions keeps its zone (its
restrictions are wall-clock times there) and its handoffs then stay at the same wall-clock
time across DST, an hour away from PagerDuty's after the change (the report says so).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from incidents.provisioning.importers.common import (
    Builder,
    Report,
    instant,
    users_and_teams,
    wallclock,
    windows_to_restrictions,
)

DEFAULT_TEAM = "_pagerduty"
ROLES = {
    "owner": "manager",
    "admin": "manager",
    "user": "responder",
    "limited_user": "responder",
    "observer": "viewer",
    "read_only_user": "viewer",
    "read_only_limited_user": "viewer",
    "restricted_access": "viewer",
}
INTEGRATIONS = {"events_api_v2_inbound_integration": "pagerduty"}


def auth_header(token: str) -> dict:
    return {
        "Authorization": f"Token token={token}",
        "Accept": "application/vnd.pagerduty+json;version=2",
    }


def fetch(client) -> dict:
    schedules = client.offset_pages("/schedules", "schedules")
    return {
        "users": client.offset_pages("/users", "users"),
        "teams": client.offset_pages("/teams", "teams"),
        "schedules": [client.get(f"/schedules/{s['id']}")["schedule"] for s in schedules],
        "escalation_policies": client.offset_pages("/escalation_policies", "escalation_policies"),
        "services": client.offset_pages(
            "/services", "services", params={"include[]": "integrations"}
        ),
    }


def _has_dst(zone: str) -> bool:
    tz = ZoneInfo(zone)
    year = datetime.now().year
    return len({datetime(year, month, 1, tzinfo=tz).utcoffset() for month in (1, 4, 7, 10)}) > 1


def _unit(seconds: int) -> tuple[str, int] | None:
    for unit, size in (("weeks", 604800), ("days", 86400), ("hours", 3600)):
        if seconds > 0 and seconds % size == 0:
            return unit, seconds // size
    return None


def _restrictions(restrictions: list[dict]) -> list[dict]:
    windows = []
    for r in restrictions:
        hh, mm = (int(part) for part in r["start_time_of_day"].split(":")[:2])
        start, length = hh * 60 + mm, int(r["duration_seconds"]) // 60
        if r["type"] == "daily_restriction":
            windows += [(day, start, length) for day in range(7)]
        else:  # weekly_restriction: start_day_of_week is ISO, 1 = Monday
            windows.append((int(r["start_day_of_week"]) - 1, start, length))
    return windows_to_restrictions(windows)


class _Mapping:
    def __init__(self, raw: dict, now: datetime):
        self.now = now
        self.report = Report("PagerDuty")
        self.b = Builder(self.report)
        self.raw = raw
        self.schedule_team: dict[str, str] = {}
        self.schedule_name: dict[str, str] = {}
        self.policy_team: dict[str, str] = {}
        self.policy_name: dict[str, str] = {}

    def team_of(self, obj: dict, what: str) -> str:
        teams = obj.get("teams") or []
        if len(teams) > 1:
            self.report.notes.append(
                f"{what}: belongs to {len(teams)} teams; put in the first, "
                f"{teams[0].get('summary') or teams[0]['id']}"
            )
        if teams and teams[0]["id"] in self.b.teams:
            return teams[0]["id"]
        self.b.team(DEFAULT_TEAM, "PagerDuty")
        return DEFAULT_TEAM

    def run(self) -> tuple[dict, Report]:
        users = self.raw["users"]
        self.users = users_and_teams(
            self.b,
            users=users,
            teams=self.raw["teams"],
            email_of=lambda user: user.get("email") or None,
            role_of=lambda user: ROLES.get(user.get("role"), "responder"),
            no_email=lambda user: f"user {user.get('name')!r}: has no email to match by",
            # A user lists its teams (PagerDuty's team roles are not read).
            memberships=(
                (user["id"], ref["id"], None) for user in users for ref in user.get("teams") or []
            ),
        )
        for schedule in self.raw["schedules"]:
            self.schedule(schedule)
        for policy in self.raw["escalation_policies"]:
            self.policy(policy)
        for service in self.raw["services"]:
            self.service(service)
        self.report.skipped.append(
            "schedule overrides, service urgency rules and event rules: not read by this importer"
        )
        return self.b.document(), self.report

    def schedule(self, schedule: dict) -> None:
        what = f"schedule {schedule['name']!r}"
        key = self.team_of(schedule, what)
        team = self.b.teams[key]
        zone = schedule.get("time_zone") or "UTC"
        layers_in = schedule.get("schedule_layers") or []
        restricted = any(layer.get("restrictions") for layer in layers_in)
        out_zone = zone
        if _has_dst(zone) and not restricted:
            out_zone = "UTC"
            self.report.notes.append(
                f"{what}: written in UTC instead of {zone}: PagerDuty turns are lengths in seconds "
                "from the rotation's virtual start, so its handoffs move by an hour of wall-clock "
                f"time at each DST change of {zone}; in UTC the instants are exactly PagerDuty's"
            )
        elif _has_dst(zone):
            self.report.notes.append(
                f"{what}: INEXACT across DST: its layers have restrictions (wall-clock times in "
                f"{zone}), so it keeps {zone}, where Pagerline hands off at the same wall-clock "
                "time all year; PagerDuty's handoffs (every N seconds) are an hour earlier or "
                "later after each DST change"
            )
        layers = []
        # PagerDuty lists a schedule's layers in their order of priority, highest first
        # (the order its web page stacks them); the document lists them so too.
        for layer in layers_in:
            where = f"{what} / layer {layer.get('name')!r}"
            if layer.get("end") and instant(layer["end"]) <= self.now:
                self.report.skipped.append(f"{where}: ended {layer['end']}")
                continue
            unit = _unit(int(layer["rotation_turn_length_seconds"]))
            if unit is None:
                self.report.skipped.append(
                    f"{where}: a turn of {layer['rotation_turn_length_seconds']} s is not a whole "
                    "number of hours (Pagerline rotates by hours, days or weeks)"
                )
                continue
            people = [
                self.users.member(u["user"].get("id"), key, where) for u in layer.get("users") or []
            ]
            people = [p for p in people if p]
            if not people:
                self.report.skipped.append(f"{where}: nobody in it could be matched")
                continue
            if (
                layer.get("start")
                and layer.get("rotation_virtual_start")
                and instant(layer["start"]) > instant(layer["rotation_virtual_start"])
                and instant(layer["start"]) > self.now
            ):
                self.report.notes.append(
                    f"{where}: starts {layer['start']}, after its rotation's virtual start; "
                    "Pagerline's layer is on call from the virtual start"
                )
            layers.append(
                {
                    "name": layer.get("name") or f"Layer {len(layers) + 1}",
                    "participants": people,
                    "unit": unit[0],
                    "every": unit[1],
                    "handoff": wallclock(layer["rotation_virtual_start"], out_zone),
                    "end": wallclock(layer["end"], out_zone) if layer.get("end") else None,
                    "restrictions": _restrictions(layer.get("restrictions") or []),
                }
            )
        if not layers:
            self.report.skipped.append(f"{what}: no layer could be mapped")
            return
        if len(layers) > 1:
            self.report.notes.append(
                f"{what}: its layers are taken in the order the API lists them, as highest "
                "priority first; compare the order with PagerDuty's page before applying"
            )
        team["schedules"].append(
            {"name": schedule["name"], "time_zone": out_zone, "layers": layers}
        )
        if team["time_zone"] == "UTC":
            team["time_zone"] = zone
        self.schedule_team[schedule["id"]] = key
        self.schedule_name[schedule["id"]] = schedule["name"]
        self.report.mapped.append(f"{what} with {len(layers)} layer(s) -> team {team['slug']}")

    def policy(self, policy: dict) -> None:
        what = f"escalation policy {policy['name']!r}"
        key = self.team_of(policy, what)
        steps, delay = [], 0
        for index, rule in enumerate(policy.get("escalation_rules") or []):
            targets = []
            for target in rule.get("targets") or []:
                kind = target.get("type", "").removesuffix("_reference")
                if kind == "user":
                    email = self.users.member(target.get("id"), key, f"{what} / rule {index + 1}")
                    if email:
                        targets.append({"user": email})
                elif kind == "schedule" and self.schedule_team.get(target["id"]) == key:
                    targets.append({"schedule": self.schedule_name[target["id"]]})
                else:
                    self.report.skipped.append(
                        f"{what} / rule {index + 1}: target {kind} "
                        f"{target.get('summary') or target.get('id')} "
                        "is not a schedule of the same team or a user"
                    )
            if targets:
                steps.append({"delay_seconds": delay, "targets": targets})
                delay = 0
            # PagerDuty's delay is how long a rule waits before escalating to the next one;
            # Pagerline's, how long a step waits after the previous one.
            delay += int(rule.get("escalation_delay_in_minutes") or 0) * 60
        if not steps:
            self.report.skipped.append(f"{what}: no rule could be mapped")
            return
        if delay and int(policy.get("num_loops") or 0):
            self.report.notes.append(
                f"{what}: PagerDuty waits {delay // 60} min after the last rule before a repeat; "
                "Pagerline repeats at once (its steps' delays are between steps)"
            )
        self.b.teams[key]["escalation_policies"].append(
            {
                "name": policy["name"],
                "repeat": int(policy.get("num_loops") or 0),
                "fallback_user": None,
                "steps": steps,
            }
        )
        self.policy_team[policy["id"]] = key
        self.policy_name[policy["id"]] = policy["name"]
        self.report.mapped.append(f"{what} with {len(steps)} step(s)")

    def service(self, service: dict) -> None:
        what = f"service {service['name']!r}"
        policy_id = (service.get("escalation_policy") or {}).get("id")
        key = self.policy_team.get(policy_id) or self.team_of(service, what)
        policy = self.policy_name.get(policy_id) if self.policy_team.get(policy_id) == key else None
        if policy_id and policy is None:
            self.report.skipped.append(f"{what}: its escalation policy could not be mapped")
        integrations, names = [], set()
        for ref in service.get("integrations") or []:
            kind = ref.get("type", "").removesuffix("_reference")
            name = ref.get("summary") or ref.get("name") or ref["id"]
            if kind not in INTEGRATIONS:
                self.report.skipped.append(
                    f"{what} / integration {name!r}: type {kind} has no Pagerline source "
                    "(only Events API v2 is accepted unchanged)"
                )
                continue
            if name in names:
                name = f"{name} ({ref['id']})"
            names.add(name)
            integrations.append({"name": name[:200], "source": INTEGRATIONS[kind], "enabled": True})
        self.b.teams[key]["services"].append(
            {
                "slug": self.b.service_slug(service["name"]),
                "name": service["name"][:200],
                "description": service.get("description") or "",
                "escalation_policy": policy,
                "integrations": integrations,
            }
        )
        self.report.mapped.append(f"{what} with {len(integrations)} integration(s)")


def to_document(raw: dict, *, now: datetime | None = None) -> tuple[dict, Report]:
    """Pure: the API's JSON (as `fetch` collects it) -> (document, report)."""
    return _Mapping(raw, now or datetime.now(ZoneInfo("UTC"))).run()
