"""Linking a Slack account to a Pagerline user: how a slack contact method is verified.

A slack contact method names a Slack member ID, and typing an ID proves nothing. So the
method starts unverified, and Pagerline sends that Slack account a DM (a "verify"
notification through the Slack transport) with a "This is me" button whose value is the
method's id. Only that account sees its DM, and Slack signs each press with the ID of who
pressed: a press from the same ID proves that whoever holds the Slack account agrees to be
paged as, and to act as, that Pagerline user. A Slack account is linked to one Pagerline
user at a time, since its presses act as that user. Tests:
incidents/tests/notify/test_slack_interactions.py.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from core.audit import audit_record
from incidents.models import Channel, ContactMethod
from incidents.notify.slack.payload import Reply


def linked_user(slack_user_id: str):
    """The active Pagerline user whose verified, enabled Slack method is this account."""
    method = (
        ContactMethod.objects.filter(
            kind=Channel.SLACK,
            address=slack_user_id,
            verified_at__isnull=False,
            enabled=True,
            user__is_active=True,
        )
        .select_related("user")
        .order_by("verified_at", "pk")
        .first()
    )
    return method.user if method else None


@transaction.atomic
def slack_link_confirm(*, method_id: int, slack_user_id: str, now: datetime) -> Reply:
    """The "This is me" press: verify the method if the presser is the account it names."""
    method = (
        ContactMethod.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(pk=method_id, kind=Channel.SLACK)
        .first()
    )
    if method is None:
        return Reply("This request is no longer valid: the contact method was removed.")
    username = method.user.get_username()
    if method.address != slack_user_id:
        return Reply("This request was for another Slack account; nothing was linked.")
    if method.verified_at is not None:
        return Reply(f"This Slack account is already linked to {username}.", replace=True)
    taken = (
        ContactMethod.objects.filter(
            kind=Channel.SLACK, address=slack_user_id, verified_at__isnull=False
        )
        .exclude(user_id=method.user_id)
        .select_related("user")
        .first()
    )
    if taken is not None:
        return Reply(
            f"This Slack account is already linked to Pagerline user "
            f"{taken.user.get_username()}; remove it there first."
        )
    method.verified_at = now
    method.verify_code_hash = ""
    method.verify_attempts = 0
    method.save(update_fields=["verified_at", "verify_code_hash", "verify_attempts"])
    audit_record(
        actor=method.user,
        action="contact_method.verified",
        obj=method,
        summary=f"{username} linked Slack account {slack_user_id}",
        changes={"kind": method.kind, "address": method.address},
    )
    return Reply(
        f"Linked to Pagerline user {username}: pages will reach you here, and your "
        "Acknowledge and Resolve presses act as them.",
        replace=True,
    )
