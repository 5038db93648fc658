"""A button press, from the body Slack POSTs to the interactivity request URL (a form whose
`payload` field is JSON, type block_actions), and the Reply that answers it. Pure: bytes
in, a Press out, or Malformed with a reason fit for a 400
(incidents/tests/notify/test_slack_interactions.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qs

from incidents.notify.slack import blocks

# The buttons Pagerline draws and acts on; presses of the "Open" link button are sent too
# (Slack sends every press) and need no more than a 200.
ACTIONS = frozenset({blocks.ACKNOWLEDGE, blocks.RESOLVE, blocks.ACKNOWLEDGE_ALL, blocks.LINK})
_MAX_ID = 64


class Malformed(ValueError):
    """Not a button press Pagerline understands."""


@dataclass(frozen=True)
class Press:
    slack_user_id: str
    action_id: str
    value: str
    # When Slack saw the press (e.g. 1700000100.000200): with the user, the press's identity.
    action_ts: str
    response_url: str

    @property
    def provider_id(self) -> str:
        """Unique per press; a retried or replayed delivery of it has the same one."""
        return f"{self.slack_user_id}:{self.action_ts}"[:_MAX_ID]


@dataclass(frozen=True)
class Reply:
    """What the presser is told: a note only they see (ephemeral), or the text that
    replaces the message they pressed in (`replace`: its buttons are gone)."""

    text: str
    replace: bool = False

    def body(self) -> dict:
        """The JSON to POST to the press's response_url."""
        if self.replace:
            return {"replace_original": True, "text": self.text}
        return {"response_type": "ephemeral", "replace_original": False, "text": self.text}


def _text(value: object, name: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise Malformed(f"{name} is missing")
    if len(value) > 2000:
        raise Malformed(f"{name} is too long")
    return value


def parse(body: bytes) -> Press | None:
    """The press in a request body; None for a press that needs no action (the link
    button)."""
    try:
        fields = parse_qs(body.decode("utf-8"), strict_parsing=True, max_num_fields=20)
        (raw,) = fields["payload"]
    except (UnicodeDecodeError, ValueError, KeyError):
        raise Malformed("expected a form with one payload field") from None
    try:
        data = json.loads(raw)
    except ValueError:
        raise Malformed("payload is not JSON") from None
    if not isinstance(data, dict):
        raise Malformed("payload is not a JSON object")
    if data.get("type") != "block_actions":
        raise Malformed(f"unsupported interaction type {str(data.get('type'))[:40]!r}")
    user = data.get("user")
    actions = data.get("actions")
    if not isinstance(user, dict):
        raise Malformed("user is missing")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        raise Malformed("actions is missing")
    action = actions[0]
    action_id = _text(action.get("action_id"), "action_id")
    if action_id not in ACTIONS:
        if action_id == blocks.OPEN:
            return None
        raise Malformed(f"unknown action {action_id[:40]!r}")
    user_id = _text(user.get("id"), "user.id")
    if len(user_id) > 32:
        raise Malformed("user.id is too long")
    return Press(
        slack_user_id=user_id,
        action_id=action_id,
        value=_text(action.get("value"), "value"),
        action_ts=_text(action.get("action_ts"), "action_ts"),
        response_url=_text(data.get("response_url"), "response_url"),
    )
