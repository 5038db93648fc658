"""A provisioning document's objects by natural key, and what turns one configuration into
another: the plan. Pure: plain values in, plain values out."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

# The order in which changes are made: what an object refers to exists before it.
KINDS = ("team", "member", "schedule", "override", "policy", "service", "integration", "window")


def objects(document: dict) -> dict[tuple, dict]:
    """Every object of a canonical document by its natural key, (kind, *names), with the
    fields that can change."""
    found: dict[tuple, dict] = {}
    for team in document["teams"]:
        slug = team["slug"]
        found[("team", slug)] = {"name": team["name"], "time_zone": team["time_zone"]}
        for m in team["members"]:
            found[("member", slug, m["email"])] = {"role": m["role"]}
        for s in team["schedules"]:
            found[("schedule", slug, s["name"])] = {
                "time_zone": s["time_zone"],
                "handoff_notice_seconds": s["handoff_notice_seconds"],
                "layers": s["layers"],
            }
            for o in s["overrides"]:
                key = ("override", slug, s["name"], o["user"], o["start"], o["end"], o["replaces"])
                found[key] = {}
        for p in team["escalation_policies"]:
            found[("policy", slug, p["name"])] = {k: v for k, v in p.items() if k != "name"}
        for s in team["services"]:
            found[("service", slug, s["slug"])] = {
                k: v for k, v in s.items() if k not in {"slug", "integrations"}
            }
            for i in s["integrations"]:
                found[("integration", slug, s["slug"], i["name"])] = {
                    k: v for k, v in i.items() if k != "name"
                }
        for w in team["maintenance_windows"]:
            key = ("window", slug, w["starts_at"], w["ends_at"], w["reason"])
            found[key] = {"services": w["services"]}
    return found


@dataclass(frozen=True)
class Change:
    action: str  # "create", "update", "delete" or "keep" (would be deleted, but may not be)
    key: tuple
    fields: dict = field(default_factory=dict)  # create: values; update: {field: [old, new]}
    note: str = ""

    @property
    def kind(self) -> str:
        return self.key[0]


def label(key: tuple) -> str:
    """How a plan names an object: `schedule payments/Primary`."""
    kind, *names = key
    return f"{kind} " + "/".join("-" if n is None else str(n) for n in names)


def diff(
    current: dict[tuple, dict],
    desired: dict[tuple, dict],
    *,
    prune: bool,
    undeletable: dict[tuple, str] | None = None,
    scope: set[str] | None = None,
) -> list[Change]:
    """What turns `current` into `desired`, in the order to make it: creations and updates
    kind by kind, then deletions (only with `prune`, most dependent kinds first). Objects of
    teams outside `scope` (default: the teams `desired` names) are left alone; teams and
    keys in `undeletable` (key -> why) are never deleted."""
    undeletable = undeletable or {}
    if scope is None:
        scope = {key[1] for key in desired if key[0] == "team"}
    order = {kind: i for i, kind in enumerate(KINDS)}
    changes: list[Change] = []
    for key in sorted(desired, key=lambda k: (order[k[0]], _sortable(k))):
        if key not in current:
            changes.append(Change("create", key, desired[key]))
            continue
        changed = {
            name: [current[key].get(name), value]
            for name, value in desired[key].items()
            if current[key].get(name) != value
        }
        if changed:
            changes.append(Change("update", key, changed))
    gone = [k for k in current if k not in desired and k[1] in scope and k[0] != "team"]
    for key in sorted(gone, key=lambda k: (-order[k[0]], _sortable(k))):
        if not prune:
            continue
        owner = ("service", key[1], key[2]) if key[0] == "integration" else None
        if key in undeletable:
            changes.append(Change("keep", key, note=undeletable[key]))
        elif owner in undeletable and owner not in desired:
            # A service kept for its incidents keeps what it is made of.
            changes.append(Change("keep", key, note=f"its service is kept ({label(owner)})"))
        else:
            changes.append(Change("delete", key, current[key]))
    return changes


def _sortable(key: tuple) -> tuple:
    return tuple("" if part is None else str(part) for part in key)


def describe(changes: list[Change]) -> list[str]:
    """The plan as lines a person reads: `+ create`, `~ update` (field: old -> new),
    `- delete`, `= keep` (with why)."""
    lines = []
    signs = {"create": "+", "update": "~", "delete": "-", "keep": "="}
    for change in changes:
        head = f"{signs[change.action]} {change.action} {label(change.key)}"
        if change.action == "keep":
            lines.append(f"{head}: {change.note}")
        elif change.action == "update":
            lines.append(head)
            for name, (old, new) in change.fields.items():
                lines.append(f"    {name}: {_short(old)} -> {_short(new)}")
        else:
            lines.append(head)
    return lines


def _short(value) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 200 else text[:197] + "..."
