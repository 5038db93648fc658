"""The provisioning document as plain values: read it (YAML or JSON), check it, put it in its
canonical form (incidents.provisioning.diff compares two).

Pure: no Django, no database. Whether the users exist and what the services' rules say
(time zones, rotations, matchers...) is judged by incidents.provisioning.apply through the
same services the pages and the API call. The format is docs/provisioning.schema.json.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from functools import lru_cache
from pathlib import Path

import jsonschema
import yaml

VERSION = 1
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "provisioning.schema.json"
# Most severe first, as incidents.alerts.Severity lists them (a service stores them so).
SEVERITIES = ("critical", "error", "warning", "info")
DEFAULT_HIGH_URGENCY = ["critical", "error"]
DEFAULT_HANDOFF_NOTICE_SECONDS = 30 * 60


class DocumentError(ValueError):
    """The document is refused; `problems` name each object and field at fault."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


def parse_text(text: str) -> dict:
    """The document in `text` (YAML; JSON is YAML too), or DocumentError."""
    try:
        # Aliases could make a small text a huge document ("billion laughs"); none is needed.
        if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, yaml.SafeLoader)):
            raise DocumentError(["document: YAML aliases (*name) are not accepted"])
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DocumentError([f"document: not valid YAML or JSON ({exc})"]) from None
    if not isinstance(loaded, dict):
        raise DocumentError(["document: expected a mapping with `version` and `teams`"])
    return loaded


def dump_text(document: dict) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


# --- checking -------------------------------------------------------------------------------


def _where(path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _schema_problems(document: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema())
    problems = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path))):
        problems.append(f"{_where(error.path) or 'document'}: {error.message}")
    return problems


def _team_label(team: dict) -> str:
    return f"team {team.get('slug')!r}"


def _dupes(items: list[dict], key, label: str, where: str, problems: list[str]) -> None:
    seen = set()
    for index, item in enumerate(items):
        value = key(item)
        if value in seen:
            problems.append(f"{where}[{index}]: duplicate {label} {value!r}")
        seen.add(value)


def check(document: dict) -> None:
    """Raise DocumentError naming every problem of shape, duplicate key or reference to
    something the document does not define."""
    problems = _schema_problems(document)
    if problems:
        raise DocumentError(problems)
    teams = document["teams"]
    _dupes(teams, lambda t: t["slug"], "team slug", "teams", problems)
    all_services = [(ti, s) for ti, t in enumerate(teams) for s in t.get("services", [])]
    seen_slugs: set[str] = set()
    for ti, service in all_services:
        if service["slug"] in seen_slugs:
            problems.append(
                f"{_team_label(teams[ti])} / service {service['slug']!r}: slug: duplicate "
                "service slug (service slugs are unique across teams)"
            )
        seen_slugs.add(service["slug"])
    for team in teams:
        _check_team(team, problems)
    if problems:
        raise DocumentError(problems)


def _parses(value: str | None, parse, where: str, problems: list[str]) -> None:
    """The schema checks the shape of times; this, that they exist (no 25:00 or 31 June)."""
    if value is None:
        return
    try:
        parse(value)
    except ValueError:
        problems.append(f"{where}: {value!r} is not a real date and time")


def _instant_parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _check_times(team: dict, label: str, problems: list[str]) -> None:
    for schedule in team.get("schedules", []):
        where = f"{label} / schedule {schedule['name']!r}"
        for li, layer in enumerate(schedule["layers"]):
            _parses(
                layer["handoff"], datetime.fromisoformat, f"{where}: layers[{li}].handoff", problems
            )
            _parses(
                layer.get("end"), datetime.fromisoformat, f"{where}: layers[{li}].end", problems
            )
            for ri, restriction in enumerate(layer.get("restrictions", [])):
                at = f"{where}: layers[{li}].restrictions[{ri}]"
                for bound in ("start", "end"):
                    _parses(restriction[bound], time.fromisoformat, f"{at}.{bound}", problems)
        for oi, override in enumerate(schedule.get("overrides", [])):
            for bound in ("start", "end"):
                _parses(
                    override[bound], _instant_parse, f"{where}: overrides[{oi}].{bound}", problems
                )
    for wi, window in enumerate(team.get("maintenance_windows", [])):
        for bound in ("starts_at", "ends_at"):
            _parses(window[bound], _instant_parse,
                    f"{label}: maintenance_windows[{wi}].{bound}", problems)  # fmt: skip


def _check_team(team: dict, problems: list[str]) -> None:
    label = _team_label(team)
    _check_times(team, label, problems)
    members = {m["email"].lower(): m["role"] for m in team["members"]}
    _dupes(team["members"], lambda m: m["email"].lower(), "member", f"{label}: members", problems)
    if "manager" not in members.values():
        problems.append(f"{label}: members: a team needs at least one manager")
    schedules = team.get("schedules", [])
    policies = team.get("escalation_policies", [])
    services = team.get("services", [])
    _dupes(schedules, lambda s: s["name"], "schedule name", f"{label}: schedules", problems)
    _dupes(policies, lambda p: p["name"].lower(), "policy name", f"{label}: policies", problems)

    def member(email: str | None, where: str) -> None:
        if email is not None and email.lower() not in members:
            problems.append(f"{where}: {email} is not listed in the team's members")

    for schedule in schedules:
        where = f"{label} / schedule {schedule['name']!r}"
        for li, layer in enumerate(schedule["layers"]):
            for email in layer["participants"]:
                member(email, f"{where}: layers[{li}].participants")
        for oi, override in enumerate(schedule.get("overrides", [])):
            member(override["user"], f"{where}: overrides[{oi}].user")
            member(override.get("replaces"), f"{where}: overrides[{oi}].replaces")
    schedule_names = {s["name"] for s in schedules}
    for policy in policies:
        where = f"{label} / escalation policy {policy['name']!r}"
        member(policy.get("fallback_user"), f"{where}: fallback_user")
        for si, step in enumerate(policy["steps"]):
            for ti, target in enumerate(step["targets"]):
                at = f"{where}: steps[{si}].targets[{ti}]"
                if "user" in target:
                    member(target["user"], f"{at}.user")
                elif target["schedule"] not in schedule_names:
                    problems.append(
                        f"{at}.schedule: no schedule named {target['schedule']!r} in {label}"
                    )
    policy_names = {p["name"] for p in policies}
    service_slugs = {s["slug"] for s in services}
    for service in services:
        where = f"{label} / service {service['slug']!r}"
        policy = service.get("escalation_policy")
        if policy is not None and policy not in policy_names:
            problems.append(
                f"{where}: escalation_policy: no escalation policy named {policy!r} in {label}"
            )
        integrations = service.get("integrations", [])
        _dupes(integrations, lambda i: i["name"], "integration name", f"{where}: integrations",
               problems)  # fmt: skip
        for integration in integrations:
            beats = f"{where} / integration {integration['name']!r}: heartbeats"
            _dupes(integration.get("heartbeats", []), lambda h: h["name"], "heartbeat name",
                   beats, problems)  # fmt: skip
            for ri, route in enumerate(integration.get("routing", [])):
                if route["service"] not in service_slugs:
                    problems.append(
                        f"{where} / integration {integration['name']!r}: routing[{ri}].service: "
                        f"no service {route['service']!r} in {label}"
                    )
    for wi, window in enumerate(team.get("maintenance_windows", [])):
        for slug in window["services"]:
            if slug not in service_slugs:
                problems.append(
                    f"{label}: maintenance_windows[{wi}].services: no service {slug!r} in {label}"
                )


# --- canonical form -------------------------------------------------------------------------


def instant_text(value: str | datetime) -> str:
    """An instant as the document writes it: UTC, to the second, with a Z."""
    if isinstance(value, str):
        value = _instant_parse(value)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def wallclock_text(value: str | datetime) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%dT%H:%M:%S" if value.second else "%Y-%m-%dT%H:%M")


def _email(value: str | None) -> str | None:
    return value.lower() if value else None


def _layer(layer: dict) -> dict:
    return {
        "name": layer["name"].strip(),
        "participants": [_email(e) for e in layer["participants"]],
        "unit": layer["unit"],
        "every": layer["every"],
        "handoff": wallclock_text(layer["handoff"]),
        "end": wallclock_text(layer["end"]) if layer.get("end") else None,
        "restrictions": [
            {"days": sorted(set(r["days"])), "start": r["start"], "end": r["end"]}
            for r in layer.get("restrictions", [])
        ],
    }


def _override(override: dict) -> dict:
    return {
        "user": _email(override["user"]),
        "start": instant_text(override["start"]),
        "end": instant_text(override["end"]),
        "replaces": _email(override.get("replaces")),
    }


def _policy(policy: dict) -> dict:
    return {
        "name": policy["name"].strip(),
        "repeat": policy.get("repeat", 0),
        "fallback_user": _email(policy.get("fallback_user")),
        "steps": [
            {
                "delay_seconds": step["delay_seconds"],
                "targets": [
                    {"user": _email(t["user"])} if "user" in t else {"schedule": t["schedule"]}
                    for t in step["targets"]
                ],
            }
            for step in policy["steps"]
        ],
    }


def _integration(integration: dict) -> dict:
    return {
        "name": integration["name"],
        "source": integration["source"],
        "enabled": integration.get("enabled", True),
        "reopen_window_seconds": integration.get("reopen_window_seconds", 0),
        "heartbeat_interval_seconds": integration.get("heartbeat_interval_seconds"),
        "options": integration.get("options", {}),
        "routing": [
            {"matchers": r["matchers"], "service": r["service"]}
            for r in integration.get("routing", [])
        ],
        "heartbeats": sorted(
            (
                {
                    "name": h["name"],
                    "interval_seconds": h["interval_seconds"],
                    "description": h.get("description", ""),
                    "enabled": h.get("enabled", True),
                }
                for h in integration.get("heartbeats", [])
            ),
            key=lambda h: h["name"],
        ),
    }


def _service(service: dict) -> dict:
    urgent = service.get("high_urgency_severities", DEFAULT_HIGH_URGENCY)
    return {
        "slug": service["slug"],
        "name": service["name"].strip(),
        "description": service.get("description", ""),
        "high_urgency_severities": sorted(
            set(urgent), key=lambda s: SEVERITIES.index(s) if s in SEVERITIES else 99
        ),
        "slack_channel": service.get("slack_channel", ""),
        "escalation_policy": service.get("escalation_policy"),
        "integrations": sorted(
            (_integration(i) for i in service.get("integrations", [])), key=lambda i: i["name"]
        ),
    }


def _window(window: dict) -> dict:
    return {
        "services": sorted(set(window["services"])),
        "starts_at": instant_text(window["starts_at"]),
        "ends_at": instant_text(window["ends_at"]),
        "reason": window["reason"].strip(),
    }


def canonical(document: dict) -> dict:
    """The checked document with every default written out and every list in a fixed order
    (by natural key; layers, steps, targets and routing rules keep theirs: it means
    something), so that two equal configurations give equal documents."""
    teams = []
    for team in sorted(document["teams"], key=lambda t: t["slug"]):
        schedules = []
        for schedule in sorted(team.get("schedules", []), key=lambda s: s["name"]):
            schedules.append(
                {
                    "name": schedule["name"].strip(),
                    "time_zone": schedule["time_zone"],
                    "handoff_notice_seconds": schedule.get(
                        "handoff_notice_seconds", DEFAULT_HANDOFF_NOTICE_SECONDS
                    ),
                    "layers": [_layer(layer) for layer in schedule["layers"]],
                    "overrides": sorted(
                        (_override(o) for o in schedule.get("overrides", [])),
                        key=lambda o: (o["start"], o["end"], o["user"], o["replaces"] or ""),
                    ),
                }
            )
        teams.append(
            {
                "slug": team["slug"],
                "name": team["name"].strip(),
                "time_zone": team["time_zone"],
                "members": sorted(
                    ({"email": _email(m["email"]), "role": m["role"]} for m in team["members"]),
                    key=lambda m: m["email"],
                ),
                "schedules": schedules,
                "escalation_policies": sorted(
                    (_policy(p) for p in team.get("escalation_policies", [])),
                    key=lambda p: p["name"],
                ),
                "services": sorted(
                    (_service(s) for s in team.get("services", [])), key=lambda s: s["slug"]
                ),
                "maintenance_windows": sorted(
                    (_window(w) for w in team.get("maintenance_windows", [])),
                    key=lambda w: (w["starts_at"], w["ends_at"], w["reason"]),
                ),
            }
        )
    return {"version": VERSION, "teams": teams}


def load(text: str) -> dict:
    """Read, check and canonicalise a document; DocumentError names what is wrong."""
    document = parse_text(text)
    check(document)
    return canonical(document)
