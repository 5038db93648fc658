"""Make the teams a document names be as it says, in one transaction, through the services the
pages and the API call (oncall.teams, oncall.services, incidents.catalog.changes,
incidents.escalation.policies, incidents.maintenance.windows): each rule stays written once.

Everything is first tried in a transaction that is rolled back (the plan's check), so a
document any service refuses changes nothing and sends no invitation; only then is it done
for real. A refusal is document.DocumentError naming the object and the field."""

from __future__ import annotations

from datetime import datetime, time

from django.db import transaction

from core.audit import audit_record
from core.errors import FieldErrors
from incidents.catalog import changes as catalog
from incidents.escalation import policies
from incidents.intake import heartbeats
from incidents.maintenance import windows
from incidents.models import EscalationPolicy, Integration, MaintenanceWindow, Service
from incidents.provisioning.diff import KINDS, Change, describe, label
from incidents.provisioning.document import DocumentError
from incidents.provisioning.plan import Plan, plan, users_by_email
from oncall import invitations, teams
from oncall import services as oncall_services
from oncall.models import Membership, Override, Role, Schedule, Team


class _DryRun(Exception):
    """Raised at the end of a trial run to roll everything back."""


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _refused(key: tuple, exc: FieldErrors) -> DocumentError:
    return DocumentError([f"{label(key)}: {field}: {text}" for field, text in exc.flat()])


def _member_order(change: Change) -> int:
    """Within members: new ones and promotions first, so a team always keeps a manager."""
    if change.action == "create":
        return 0
    if change.action == "update" and change.fields.get("role", [None, None])[1] == Role.MANAGER:
        return 1
    return 2


class _Run:
    def __init__(self, *, desired: dict, actor, users: dict):
        self.actor = actor
        self.users = users
        self.teams = {t["slug"]: t for t in desired["teams"]}

    def user(self, email: str | None):
        return None if email is None else self.users[email]

    def team(self, slug: str) -> Team:
        return Team.objects.get(slug=slug)

    def schedule(self, slug: str, name: str) -> Schedule:
        return Schedule.objects.get(team__slug=slug, name=name)

    def policy(self, slug: str, name: str | None) -> EscalationPolicy | None:
        if name is None:
            return None
        return EscalationPolicy.objects.get(team__slug=slug, name=name)

    # --- one change -------------------------------------------------------------------

    def do(self, change: Change) -> None:
        handler = getattr(self, f"{change.action}_{change.kind}")
        try:
            handler(change.key, change.fields)
        except FieldErrors as exc:
            raise _refused(change.key, exc) from None
        except policies.PolicyInUse as exc:
            raise DocumentError([f"{label(change.key)}: {exc}"]) from None

    def create_team(self, key, fields):
        teams.team_create(
            actor=self.actor,
            slug=key[1],
            name=fields["name"],
            time_zone=fields["time_zone"],
            add_creator=False,
        )

    def update_team(self, key, fields):
        team = self.team(key[1])
        wanted = self.teams[key[1]]
        teams.team_update(
            actor=self.actor, team=team, name=wanted["name"], time_zone=wanted["time_zone"]
        )

    def create_member(self, key, fields):
        teams.membership_add(
            actor=self.actor, team=self.team(key[1]), user=self.user(key[2]), role=fields["role"]
        )

    def _membership(self, key) -> Membership:
        return Membership.objects.get(team__slug=key[1], user=self.user_or_current(key[2]))

    def user_or_current(self, email: str):
        return self.users.get(email) or users_by_email([email])[email]

    def update_member(self, key, fields):
        teams.membership_set_role(
            actor=self.actor, membership=self._membership(key), role=fields["role"][1]
        )

    def delete_member(self, key, fields):
        teams.membership_remove(actor=self.actor, membership=self._membership(key))

    def _layers(self, layers: list[dict]) -> list[oncall_services.LayerSpec]:
        return [
            oncall_services.LayerSpec(
                name=layer["name"],
                participants=tuple(self.user(email) for email in layer["participants"]),
                unit=layer["unit"],
                every=layer["every"],
                handoff_start=datetime.fromisoformat(layer["handoff"]),
                restrictions=tuple(
                    oncall_services.RestrictionSpec(
                        tuple(r["days"]),
                        time.fromisoformat(r["start"]),
                        time.fromisoformat(r["end"]),
                    )
                    for r in layer["restrictions"]
                ),
                end=datetime.fromisoformat(layer["end"]) if layer["end"] else None,
            )
            for layer in layers
        ]

    def _schedule_fields(self, key) -> dict:
        wanted = next(s for s in self.teams[key[1]]["schedules"] if s["name"] == key[2])
        return {
            "time_zone": wanted["time_zone"],
            "handoff_notice_seconds": wanted["handoff_notice_seconds"],
            "layers": self._layers(wanted["layers"]),
        }

    def create_schedule(self, key, fields):
        oncall_services.schedule_create(
            team=self.team(key[1]), name=key[2], **self._schedule_fields(key)
        )

    def update_schedule(self, key, fields):
        oncall_services.schedule_update(
            schedule=self.schedule(key[1], key[2]), **self._schedule_fields(key)
        )

    def delete_schedule(self, key, fields):
        oncall_services.schedule_delete(schedule=self.schedule(key[1], key[2]))

    def create_override(self, key, fields):
        _, slug, name, user, start, end, replaces = key
        oncall_services.override_create(
            schedule=self.schedule(slug, name),
            user=self.user(user),
            start=_instant(start),
            end=_instant(end),
            replaces=self.user(replaces),
            created_by=self.actor,
        )

    def delete_override(self, key, fields):
        _, slug, name, user, start, end, _replaces = key
        found = Override.objects.filter(
            schedule=self.schedule(slug, name),
            user=self.user_or_current(user),
            start=_instant(start),
            end=_instant(end),
        )
        for override in found:
            oncall_services.override_delete(override=override)

    def _policy_fields(self, key) -> dict:
        wanted = next(p for p in self.teams[key[1]]["escalation_policies"] if p["name"] == key[2])
        ids = dict(Schedule.objects.filter(team__slug=key[1]).values_list("name", "pk"))

        def target(t: dict) -> dict:
            if "user" in t:
                return {"user": self.user(t["user"]).get_username()}
            return {"schedule": ids[t["schedule"]]}

        fallback = self.user(wanted["fallback_user"])
        return {
            "repeat": wanted["repeat"],
            "fallback_user": fallback.get_username() if fallback else None,
            "steps": [
                {"delay_seconds": s["delay_seconds"], "targets": [target(t) for t in s["targets"]]}
                for s in wanted["steps"]
            ],
        }

    def create_policy(self, key, fields):
        policies.policy_create(
            actor=self.actor, team=self.team(key[1]), name=key[2], **self._policy_fields(key)
        )

    def update_policy(self, key, fields):
        policies.policy_update(
            actor=self.actor, policy=self.policy(key[1], key[2]), **self._policy_fields(key)
        )

    def delete_policy(self, key, fields):
        policies.policy_delete(actor=self.actor, policy=self.policy(key[1], key[2]))

    def _service_fields(self, key, names) -> dict:
        wanted = next(s for s in self.teams[key[1]]["services"] if s["slug"] == key[2])
        values = {}
        for name in names:
            if name == "escalation_policy":
                policy = self.policy(key[1], wanted[name])
                values["escalation_policy_id"] = policy.pk if policy else None
            else:
                values[name] = wanted[name]
        return values

    def create_service(self, key, fields):
        catalog.service_create(
            actor=self.actor,
            team=self.team(key[1]),
            slug=key[2],
            **self._service_fields(key, list(fields)),
        )

    def update_service(self, key, fields):
        service = Service.objects.get(slug=key[2])
        catalog.service_update(
            actor=self.actor, service=service, **self._service_fields(key, list(fields))
        )

    def delete_service(self, key, fields):
        catalog.service_delete(actor=self.actor, service=Service.objects.get(slug=key[2]))

    def _integration(self, key) -> Integration:
        return Integration.objects.get(service__slug=key[2], name=key[3])

    def _routing(self, integration: Integration, routing: list[dict]) -> None:
        for rule in integration.routing_rules.all():
            catalog.routing_rule_delete(actor=self.actor, rule=rule)
        for position, route in enumerate(routing):
            try:
                catalog.routing_rule_create(
                    actor=self.actor,
                    integration=integration,
                    matchers=route["matchers"],
                    service=Service.objects.get(slug=route["service"]),
                    position=position,
                )
            except FieldErrors as exc:
                raise FieldErrors({f"routing[{position}]": exc.errors}) from None

    def _heartbeats(self, integration: Integration, wanted: list[dict]) -> None:
        """Make the integration's named heartbeats these: by name, keeping the last ping of
        those that stay."""
        by_name = {h["name"]: h for h in wanted}
        for beat in integration.named_heartbeats.all():
            want = by_name.pop(beat.name, None)
            if want is None:
                heartbeats.named_heartbeat_delete(heartbeat=beat, actor=self.actor)
            elif (beat.interval_seconds, beat.description, beat.enabled) != (
                want["interval_seconds"],
                want["description"],
                want["enabled"],
            ):
                heartbeats.named_heartbeat_update(
                    heartbeat=beat,
                    interval_seconds=want["interval_seconds"],
                    description=want["description"],
                    enabled=want["enabled"],
                    actor=self.actor,
                )
        for name, want in sorted(by_name.items()):
            try:
                heartbeats.named_heartbeat_create(
                    integration=integration,
                    name=name,
                    interval_seconds=want["interval_seconds"],
                    description=want["description"],
                    enabled=want["enabled"],
                    actor=self.actor,
                )
            except FieldErrors as exc:
                raise FieldErrors({f"heartbeats[{name}]": exc.errors}) from None

    def _settings(self, integration: Integration, fields: dict) -> None:
        settings = {k: v for k, v in fields.items() if k in catalog.INTEGRATION_FIELDS}
        if settings:
            catalog.integration_update(actor=self.actor, integration=integration, **settings)

    def create_integration(self, key, fields):
        integration, _token = catalog.integration_add(
            actor=self.actor,
            service=Service.objects.get(slug=key[2]),
            source=fields["source"],
            name=key[3],
        )
        self._settings(integration, fields)
        self._routing(integration, fields["routing"])
        self._heartbeats(integration, fields["heartbeats"])

    def update_integration(self, key, fields):
        if "source" in fields:
            raise FieldErrors(
                {"source": "An integration's source cannot change: give the new one a new name."}
            )
        integration = self._integration(key)
        self._settings(integration, {name: new for name, (_old, new) in fields.items()})
        if "routing" in fields:
            self._routing(integration, fields["routing"][1])
        if "heartbeats" in fields:
            self._heartbeats(integration, fields["heartbeats"][1])

    def delete_integration(self, key, fields):
        catalog.integration_delete(actor=self.actor, integration=self._integration(key))

    def create_window(self, key, fields):
        _, slug, starts_at, ends_at, reason = key
        windows.maintenance_create(
            team=self.team(slug),
            services=list(Service.objects.filter(team__slug=slug, slug__in=fields["services"])),
            starts_at=_instant(starts_at),
            ends_at=_instant(ends_at),
            reason=reason,
            created_by=self.actor,
        )

    def delete_window(self, key, fields):
        _, slug, starts_at, ends_at, reason = key
        found = MaintenanceWindow.objects.filter(
            team__slug=slug,
            starts_at=_instant(starts_at),
            ends_at=_instant(ends_at),
            reason=reason,
            cancelled_at__isnull=True,
        )
        for window in found:
            windows.maintenance_end(window_id=window.pk, user=self.actor)

    def update_window(self, key, fields):  # a window's key is all of it but its services
        self.delete_window(key, fields)
        self.create_window(key, {"services": fields["services"][1]})


def _unknown_refused(found: Plan) -> None:
    if found.unknown_users:
        raise DocumentError(
            [
                f"{found.used_at[email]}: no user has the email {email} "
                "(to invite them: --invite, or ?invite=true in the API)"
                for email in found.unknown_users
            ]
        )


def _run(desired: dict, *, actor, prune: bool, invite: bool, trial: bool) -> Plan:
    found = plan(desired, prune=prune)
    if not invite:
        _unknown_refused(found)
    users = users_by_email(found.used_at.keys() | set(_all_emails(desired)))
    memberships = {
        m["email"]: (t["slug"], m["role"]) for t in desired["teams"] for m in t["members"]
    }
    # Their accounts first, so that rotations and policies can name them; the invitation
    # (to the first team listing them, which may be made below) last.
    for email in found.unknown_users:
        users[email] = invitations.invited_user_create(email=email)
    run = _Run(desired=desired, actor=actor, users=users)
    order = {kind: i for i, kind in enumerate(KINDS)}
    ordered = sorted(
        found.changes,
        key=lambda c: (
            c.action == "delete" or c.action == "keep",
            -order[c.kind] if c.action in ("delete", "keep") else order[c.kind],
            _member_order(c) if c.kind == "member" else 0,
        ),
    )
    for change in ordered:
        if change.action != "keep":
            run.do(change)
    for email in [] if trial else found.unknown_users:
        slug, role = memberships[email]
        try:
            invitations.invitation_create(
                actor=actor, email=email, team=Team.objects.get(slug=slug), role=role
            )
        except FieldErrors as exc:
            raise _refused(("user", email), exc) from None
    # One entry per team with the whole plan: schedules and overrides are not audited by
    # their own services, so this is where a provisioned change to them is on record.
    for slug in sorted({change.key[1] for change in found.changes if change.action != "keep"}):
        team = Team.objects.get(slug=slug)
        own = [c for c in found.changes if c.key[1] == slug and c.action != "keep"]
        audit_record(
            actor=actor,
            action="provisioning.applied",
            obj=team,
            team_id=team.pk,
            summary=f"configuration of {team.name} applied: {len(own)} change(s)",
            changes={"plan": describe(own)},
        )
    return found


def _all_emails(desired: dict) -> list[str]:
    return [m["email"] for t in desired["teams"] for m in t["members"]]


def check(desired: dict, *, actor, prune: bool, invite: bool) -> Plan:
    """The plan, after trying it in a transaction rolled back: DocumentError if any service
    refuses any change."""
    holder: list[Plan] = []
    try:
        with transaction.atomic():
            holder.append(_run(desired, actor=actor, prune=prune, invite=invite, trial=True))
            raise _DryRun
    except _DryRun:
        pass
    return holder[0]


def apply(desired: dict, *, actor, prune: bool, invite: bool) -> Plan:
    """Check, then make the changes in one transaction; returns what was done."""
    check(desired, actor=actor, prune=prune, invite=invite)
    with transaction.atomic():
        return _run(desired, actor=actor, prune=prune, invite=invite, trial=False)
