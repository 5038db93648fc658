"""Reading a reply (incidents.notify.replies): pure, no database."""

from __future__ import annotations

import pytest

from incidents.notify import replies
from incidents.notify.replies import Kind, Reply


@pytest.mark.parametrize(
    ("body", "reply"),
    [
        ("123a", Reply(Kind.ACKNOWLEDGE, 123)),
        ("123 a", Reply(Kind.ACKNOWLEDGE, 123)),
        ("123A", Reply(Kind.ACKNOWLEDGE, 123)),
        (" #123a. ", Reply(Kind.ACKNOWLEDGE, 123)),
        ("123r", Reply(Kind.RESOLVE, 123)),
        ("123 R!", Reply(Kind.RESOLVE, 123)),
        ("aa", Reply(Kind.ACKNOWLEDGE_ALL)),
        ("AA", Reply(Kind.ACKNOWLEDGE_ALL)),
        ("rr", Reply(Kind.RESOLVE_ALL)),
        ("help", Reply(Kind.HELP)),
        ("HELP", Reply(Kind.HELP)),
        ("info", Reply(Kind.HELP)),
        *[
            (word, Reply(Kind.STOP))
            for word in ["STOP", "stop", "Stop.", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]
        ],
        *[(word, Reply(Kind.START)) for word in ["START", "yes", "UNSTOP"]],
        ("", Reply(Kind.UNKNOWN)),
        ("123", Reply(Kind.UNKNOWN)),
        ("a123", Reply(Kind.UNKNOWN)),
        ("123x", Reply(Kind.UNKNOWN)),
        ("123  a", Reply(Kind.ACKNOWLEDGE, 123)),
        ("123ab", Reply(Kind.UNKNOWN)),
        ("ok thanks", Reply(Kind.UNKNOWN)),
        ("please stop", Reply(Kind.UNKNOWN)),
        ("\uff11\uff12\uff13a", Reply(Kind.UNKNOWN)),  # full-width digits are not a code
        ("9" * 13 + "a", Reply(Kind.UNKNOWN)),
        ("123a " + "x" * 100, Reply(Kind.UNKNOWN)),
        (None, Reply(Kind.UNKNOWN)),
    ],
)
def test_replies(body, reply):
    assert replies.parse(body) == reply


def test_the_action_a_reply_asks_for():
    assert replies.parse("5a").action == "acknowledge"
    assert replies.parse("rr").action == "resolve"
    assert replies.parse("help").action is None


@pytest.mark.parametrize(
    ("digits", "action"),
    [("4", "acknowledge"), ("6", "resolve"), ("5", None), ("", None), ("44", None), (None, None)],
)
def test_keys(digits, action):
    assert replies.key(digits) == action
