"""What a person's SMS reply or key press asks for. Pure: text in, a Reply out (tests:
incidents/tests/notify/test_replies.py).

Codes: `123a` (also `123 a`, `123A`, `#123a`) acknowledges incident 123, `123r` resolves it,
`aa` acknowledges every open page of the sender, `rr` resolves them, `help` explains. The
carriers' opt-out and opt-in keywords as Twilio honours them (STOP, STOPALL, UNSUBSCRIBE,
CANCEL, END, QUIT, and START, YES, UNSTOP) switch texts off and on. Anything else is
unknown. In a call, key 4 acknowledges and 6 resolves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO", "?"})
# The longest reply worth reading: a code is a few characters.
MAX_READ = 40

_CODE = re.compile(r"#?(?P<number>[0-9]{1,12}) ?(?P<letter>[ar])")
_TRAILING = ".!"


class Kind(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    ACKNOWLEDGE_ALL = "acknowledge_all"
    RESOLVE_ALL = "resolve_all"
    HELP = "help"
    STOP = "stop"
    START = "start"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Reply:
    kind: Kind
    incident_id: int | None = None

    @property
    def action(self) -> str | None:
        """acknowledge or resolve (the responder action this asks for), else None."""
        if self.kind in {Kind.ACKNOWLEDGE, Kind.ACKNOWLEDGE_ALL}:
            return "acknowledge"
        if self.kind in {Kind.RESOLVE, Kind.RESOLVE_ALL}:
            return "resolve"
        return None


def parse(body: object) -> Reply:
    """The reply a text message makes. Case, surrounding spaces and a final . or ! do not
    matter; a code must be the whole message."""
    if not isinstance(body, str):
        return Reply(Kind.UNKNOWN)
    text = " ".join(body.split())
    if len(text) > MAX_READ:
        return Reply(Kind.UNKNOWN)
    text = text.rstrip(_TRAILING).strip()
    word = text.upper()
    if word in STOP_WORDS:
        return Reply(Kind.STOP)
    if word in START_WORDS:
        return Reply(Kind.START)
    if word in HELP_WORDS:
        return Reply(Kind.HELP)
    if word == "AA":
        return Reply(Kind.ACKNOWLEDGE_ALL)
    if word == "RR":
        return Reply(Kind.RESOLVE_ALL)
    match = _CODE.fullmatch(text.lower())
    if match is None:
        return Reply(Kind.UNKNOWN)
    kind = Kind.ACKNOWLEDGE if match["letter"] == "a" else Kind.RESOLVE
    return Reply(kind, int(match["number"]))


def key(digits: object) -> str | None:
    """The action a key pressed in a call asks for: 4 acknowledge, 6 resolve, else None."""
    return {"4": "acknowledge", "6": "resolve"}.get(digits if isinstance(digits, str) else "")
