"""What a Slack message about an incident looks like (Block Kit), built from plain values.
Pure: no database, no Slack calls (incidents/tests/notify/test_slack_blocks.py).

Titles and service names come from alert senders: they are escaped, so an alert titled
`<!channel>` or `<https://evil|click>` cannot ping a channel or plant a link. The buttons
follow the state: Acknowledge and Resolve while triggered, Resolve once acknowledged, none
once resolved; "Open" (a link) always. `text` is what notifications and clients without
blocks show; in a DM it carries the person's one-use links. A bundle (several pages in one
DM) lists each incident with its own buttons and links, and "Acknowledge all".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# action_id of each button; its value is the incident's id (the link button's: the method's).
ACKNOWLEDGE = "acknowledge"
RESOLVE = "resolve"
OPEN = "open_incident"
LINK = "slack_link"
# A bundle's "Acknowledge all" (SMS's `aa` for one message); its value is the id of the
# notification that carried the bundle.
ACKNOWLEDGE_ALL = "acknowledge_all"

# Slack's limits: header text 150 characters, section text 3000, message text 40000
# (it advises 4000).
_HEADER_MAX = 150
_SECTION_MAX = 3000
_TEXT_MAX = 4000
# A bundle's text names every incident it lists with its links (about 400 characters
# each): it may pass Slack's advised length, never its hard limit.
_BUNDLE_TEXT_MAX = 40000

_STATUS = {
    "triggered": ":red_circle: Triggered",
    "acknowledged": ":large_yellow_circle: Acknowledged",
    "resolved": ":large_green_circle: Resolved",
}


@dataclass(frozen=True)
class Drawing:
    """An incident as a message shows it."""

    incident_id: int
    title: str
    service: str
    severity: str
    status: str
    url: str
    assignee: str = ""
    # Who moved it to its status, and how: "Acknowledged by alice via Slack".
    last_action: str = ""
    last_action_at: datetime | None = None
    # Why this message was sent: the page's text, or "New incident on Checkout".
    intro: str = ""


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: the three characters that start links and mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _when(at: datetime) -> str:
    """A time Slack shows in each reader's own time zone (UTC where it cannot)."""
    fallback = f"{at:%Y-%m-%d %H:%M} UTC"
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def _button(text: str, action_id: str, value: str, style: str = "") -> dict:
    button = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text},
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _buttons(drawing: Drawing) -> list[dict]:
    value = str(drawing.incident_id)
    buttons = []
    if drawing.status == "triggered":
        buttons.append(_button("Acknowledge", ACKNOWLEDGE, value, "primary"))
        buttons.append(_button("Resolve", RESOLVE, value))
    elif drawing.status == "acknowledged":
        buttons.append(_button("Resolve", RESOLVE, value, "primary"))
    opener = {
        "type": "button",
        "action_id": OPEN,
        "text": {"type": "plain_text", "text": "Open in Pagerline"},
        "url": drawing.url,
    }
    return [*buttons, opener]


def summary(drawing: Drawing) -> str:
    """One line: `#123 [critical] Checkout: InstanceDown (triggered)`, escaped."""
    return escape(
        f"#{drawing.incident_id} [{drawing.severity}] {drawing.service}: {drawing.title} "
        f"({drawing.status})"
    )


def _link_lines(incident_id: int, links: dict[str, str] | None) -> list[str]:
    return [
        f"{action.title()}: <{url}|{action} #{incident_id}>"
        for action, url in (links or {}).items()
    ]


def incident_message(drawing: Drawing, links: dict[str, str] | None = None) -> dict:
    """{"text", "blocks"} for chat.postMessage and chat.update. `links`: the recipient's
    {"acknowledge": url, "resolve": url}, for the fallback text."""
    lines = [summary(drawing)]
    if drawing.intro:
        lines.append(escape(drawing.intro))
    if drawing.last_action:
        lines.append(escape(drawing.last_action))
    lines += _link_lines(drawing.incident_id, links)
    lines.append(f"Open: <{drawing.url}|incident #{drawing.incident_id}>")
    blocks: list[dict] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _cut(f"#{drawing.incident_id} {drawing.title}", _HEADER_MAX),
            },
        }
    ]
    if drawing.intro:
        intro = _cut(escape(drawing.intro), _SECTION_MAX)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": intro}})
    fields = [
        ("Service", escape(drawing.service)),
        ("Severity", escape(drawing.severity)),
        ("Status", _STATUS.get(drawing.status, escape(drawing.status))),
    ]
    if drawing.assignee:
        fields.append(("Assignee", escape(drawing.assignee)))
    blocks.append(
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": _cut(f"*{name}*\n{value}", 2000)}
                for name, value in fields
            ],
        }
    )
    if drawing.last_action:
        said = escape(drawing.last_action)
        if drawing.last_action_at is not None:
            said += f" · {_when(drawing.last_action_at)}"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": said}]})
    blocks.append({"type": "actions", "block_id": "incident", "elements": _buttons(drawing)})
    return {"text": _cut("\n".join(lines), _TEXT_MAX), "blocks": blocks}


def bundle_message(
    drawings: list[Drawing],
    *,
    more: int = 0,
    more_url: str = "",
    links: dict[int, dict[str, str]] | None = None,
    all_value: str = "",
) -> dict:
    """{"text", "blocks"} of one message carrying several pages: each listed incident with
    its own state, who acted, and buttons; `more` incidents only counted (at `more_url`);
    an "Acknowledge all" button when `all_value` (naming the message) is given: the caller
    gives it while any of them is triggered.
    `links`: {incident id: the recipient's links} for the fallback text. At most 2 blocks
    per incident, so MAX_LISTED (20) incidents stay within Slack's 50 blocks."""
    total = len(drawings) + more
    title = f"{total} incidents need you"
    lines = [f"{title}:"]
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": title}}]
    for drawing in drawings:
        lines.append("")
        lines.append(summary(drawing))
        said = f"*<{drawing.url}|#{drawing.incident_id}> {_cut(escape(drawing.title), 500)}*"
        said += f"\n{_STATUS.get(drawing.status, escape(drawing.status))} · "
        said += f"{escape(drawing.severity)} · {escape(drawing.service)}"
        if drawing.last_action:
            lines.append(escape(drawing.last_action))
            said += f"\n_{escape(drawing.last_action)}_"
        lines += _link_lines(drawing.incident_id, (links or {}).get(drawing.incident_id))
        lines.append(f"Open: <{drawing.url}|incident #{drawing.incident_id}>")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": said}})
        blocks.append(
            {
                "type": "actions",
                "block_id": f"incident-{drawing.incident_id}",
                "elements": _buttons(drawing),
            }
        )
    if more:
        counted = f"… and {more} more: <{more_url}|open Pagerline>"
        lines += ["", f"... and {more} more: {more_url}"]
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": counted}]})
    if all_value:
        button = _button("Acknowledge all", ACKNOWLEDGE_ALL, all_value, "primary")
        blocks.append({"type": "actions", "block_id": "bundle", "elements": [button]})
    return {"text": _cut("\n".join(lines), _BUNDLE_TEXT_MAX), "blocks": blocks}


def link_request(*, username: str, method_id: int, text: str = "") -> dict:
    """The DM that asks a Slack user to confirm they are `username` in Pagerline."""
    ask = (
        f"Pagerline user *{escape(username)}* wants pages to reach this Slack account. "
        "If that is you, confirm; if not, ignore this message."
    )
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": ask}}]
    if text:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(escape(text), 2000)}]}
        )
    blocks.append(
        {
            "type": "actions",
            "block_id": "link",
            "elements": [_button("This is me", LINK, str(method_id), "primary")],
        }
    )
    fallback = f"Pagerline user {escape(username)} wants pages to reach this Slack account."
    return {"text": fallback, "blocks": blocks}
