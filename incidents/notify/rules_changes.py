"""A person's own notification rules ("2 minutes after I am paged, text me"), one list per
urgency: add, change and remove them, validated here for the API and the page alike and
audited like contact methods; and "send me a test page", which runs the same rules with a
test message and no incident.

The rules run in incidents.notify.pages (each time an escalation step pages the person).
docs/paging.md, "Personal notification rules"; tests in
incidents/tests/notify/test_rules_changes.py and test_rules_api.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.audit import audit_record, diff
from core.errors import FieldErrors
from incidents.models import (
    ContactMethod,
    Notification,
    NotificationReason,
    NotificationRule,
    Urgency,
)
from incidents.notify import rules, sending
from incidents.notify.address import redacted
from incidents.notify.contacts import TestTooSoon

# Enough for "every method at 0, 1, 2, 5, 10 minutes", per urgency, with room to spare.
MAX_RULES_PER_USER = 40
FIELDS = ("urgency", "delay_seconds", "contact_method_id")
# A test page sends a real message through every step: one per person per interval.
TEST_PAGE_INTERVAL = timedelta(seconds=60)


def delay_label(seconds: int) -> str:
    """ "at once", "after 2 min", "after 90 s" (the page and the audit log say it alike)."""
    if seconds == 0:
        return "at once"
    if seconds % 60:
        return f"after {seconds} s"
    return f"after {seconds // 60} min"


def _method_label(method: ContactMethod) -> str:
    return f"{method.get_kind_display()} {redacted(method.kind, method.address)}"


def _label(rule: NotificationRule) -> str:
    return (
        f"{rule.urgency} urgency, {delay_label(rule.delay_seconds)}: "
        f"{_method_label(rule.contact_method)}"
    )


def _lock_user(user) -> None:
    """Serialise one person's rule changes, so the limit and the duplicate check hold."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


def _checked(user, fields: dict, *, rule: NotificationRule | None = None) -> dict:
    """The fields, checked: {urgency, delay_seconds, contact_method} (the method object)."""
    errors: dict[str, str] = {}
    unknown = sorted(set(fields) - set(FIELDS))
    errors.update({name: "Cannot be set." for name in unknown})
    if "urgency" in fields and fields["urgency"] not in Urgency.values:
        errors["urgency"] = f"Expected one of {', '.join(Urgency.values)}."
    if "delay_seconds" in fields:
        delay = fields["delay_seconds"]
        if isinstance(delay, bool) or not isinstance(delay, int):
            errors["delay_seconds"] = "Expected a whole number of seconds."
        elif not 0 <= delay <= rules.MAX_DELAY_SECONDS:
            errors["delay_seconds"] = (
                f"Between 0 and {rules.MAX_DELAY_SECONDS // 60} minutes (24 hours) after the page."
            )
    method = rule.contact_method if rule is not None else None
    if "contact_method_id" in fields:
        method_id = fields["contact_method_id"]
        method = None
        if not isinstance(method_id, bool) and isinstance(method_id, int):
            # Only the person's own methods: someone else's id reads as unknown.
            method = ContactMethod.objects.filter(user=user, pk=method_id).first()
        if method is None:
            errors["contact_method"] = "Choose one of your own contact methods."
    if errors:
        raise FieldErrors(errors)
    return {
        "urgency": fields.get("urgency", rule.urgency if rule else None),
        "delay_seconds": fields.get("delay_seconds", rule.delay_seconds if rule else None),
        "contact_method": method,
    }


def _refuse_duplicate(user, values: dict, *, rule: NotificationRule | None = None) -> None:
    same = NotificationRule.objects.filter(
        user=user,
        urgency=values["urgency"],
        delay_seconds=values["delay_seconds"],
        contact_method=values["contact_method"],
    )
    if rule is not None:
        same = same.exclude(pk=rule.pk)
    if same.exists():
        raise FieldErrors(
            {
                "contact_method": (
                    f"You already have this rule ({values['urgency']} urgency, "
                    f"{delay_label(values['delay_seconds'])})."
                )
            }
        )


@transaction.atomic
def notification_rule_create(
    *, user, urgency: str, delay_seconds: int, contact_method_id: int
) -> NotificationRule:
    """A new rule of the user's own: `delay_seconds` (0 to 24 h) after a page of
    `urgency`, use one of their contact methods."""
    values = _checked(
        user,
        {
            "urgency": urgency,
            "delay_seconds": delay_seconds,
            "contact_method_id": contact_method_id,
        },
    )
    _lock_user(user)
    _refuse_duplicate(user, values)
    if NotificationRule.objects.filter(user=user).count() >= MAX_RULES_PER_USER:
        raise FieldErrors({"contact_method": f"At most {MAX_RULES_PER_USER} rules each."})
    rule = NotificationRule.objects.create(user=user, **values)
    audit_record(
        actor=user,
        action="notification_rule.created",
        obj=rule,
        summary=f"{user.get_username()} added notification rule {_label(rule)}",
        changes={
            "urgency": rule.urgency,
            "delay_seconds": rule.delay_seconds,
            "contact_method": _method_label(rule.contact_method),
        },
    )
    return rule


def _snapshot(rule: NotificationRule) -> dict:
    return {
        "urgency": rule.urgency,
        "delay_seconds": rule.delay_seconds,
        "contact_method": _method_label(rule.contact_method),
    }


@transaction.atomic
def notification_rule_update(
    *, actor, rule: NotificationRule, **fields: object
) -> NotificationRule:
    """Change a rule's urgency, delay or method (the method still one of the rule owner's
    own). Pages already running keep the rules they started with."""
    values = _checked(rule.user, fields, rule=rule)
    _lock_user(rule.user)
    _refuse_duplicate(rule.user, values, rule=rule)
    before = _snapshot(rule)
    rule.urgency, rule.delay_seconds = values["urgency"], values["delay_seconds"]
    rule.contact_method = values["contact_method"]
    rule.save(update_fields=["urgency", "delay_seconds", "contact_method"])
    changes = diff(before, _snapshot(rule))
    if changes:
        audit_record(
            actor=actor,
            action="notification_rule.updated",
            obj=rule,
            summary=f"{rule.user.get_username()} changed notification rule {_label(rule)}",
            changes=changes,
        )
    return rule


@transaction.atomic
def notification_rule_delete(*, actor, rule: NotificationRule) -> None:
    """Pages already running keep their steps; the next page uses the rules left (none
    left for an urgency: every verified method at once)."""
    audit_record(
        actor=actor,
        action="notification_rule.deleted",
        obj=rule,
        summary=f"{rule.user.get_username()} removed notification rule {_label(rule)}",
        changes=_snapshot(rule),
    )
    rule.delete()


# --- "send me a test page" -------------------------------------------------------------------


def user_steps(*, user_id: int, urgency: str) -> list[dict]:
    """The steps a page of `urgency` would run for the user now: their rules whose method
    can be paged, or, with none, every method that can be paged at once (rules.steps)."""
    usable = list(sending.usable_methods(user_ids=[user_id]).values_list("pk", flat=True))
    chosen = [
        rules.Rule(rule.delay_seconds, rule.contact_method_id)
        for rule in NotificationRule.objects.filter(user_id=user_id, urgency=urgency)
        if rule.contact_method_id in usable
    ]
    return rules.steps(chosen, fallback_method_ids=usable)


def user_test_page(
    *, user, urgency: str = Urgency.HIGH, now: datetime | None = None
) -> list[Notification]:
    """Run the user's rules for `urgency` with a test message and no incident: each step's
    methods are sent to at the step's delay from now (an ETA, re-driven if lost), through
    the same queue, retries and circuit breakers as a real page. Unlike a contact method's
    own test (contacts.contact_method_test: one method, at once, the answer shown), this
    checks the whole chain a real page would take, so only methods that can be paged
    (enabled, verified, receiving pages) take part. Nothing acknowledges a test page: its
    later steps always come."""
    now = now or timezone.now()
    if urgency not in Urgency.values:
        raise FieldErrors({"urgency": f"Expected one of {', '.join(Urgency.values)}."})
    with transaction.atomic():
        _lock_user(user)  # two clicks at once send one test page
        last = (
            Notification.objects.filter(user=user, reason=NotificationReason.TEST_PAGE)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        if last is not None and now < last + TEST_PAGE_INTERVAL:
            raise TestTooSoon(last + TEST_PAGE_INTERVAL, now)
        steps = user_steps(user_id=user.pk, urgency=urgency)
        if not steps:
            raise FieldErrors(
                {
                    "urgency": "None of your contact methods can be paged: add one, turn it "
                    "on and let it receive pages."
                }
            )
        sent: list[Notification] = []
        methods = {
            m.pk: m for m in sending.usable_methods(user_ids=[user.pk]).select_related("user")
        }
        for number, step in enumerate(steps, start=1):
            delay = step["delay_seconds"]
            subject = f"[Pagerline] Test page, step {number} of {len(steps)}"
            text = (
                f"This is a test page from Pagerline for {user.get_username()}: step {number} "
                f"of {len(steps)} of your {urgency}-urgency rules, {delay_label(delay)} after "
                "the page. Nothing is wrong."
            )
            sent += sending.methods_notify(
                methods=[methods[pk] for pk in step["methods"]],
                reason=NotificationReason.TEST_PAGE,
                subject=subject,
                text=text,
                at=now,
                send_at=now + timedelta(seconds=delay) if delay else None,
            )
    return sent
