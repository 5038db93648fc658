"""What a Slack message about an incident shows (incidents.notify.slack.blocks, pure)."""

from datetime import UTC, datetime

import pytest

from incidents.notify.slack import blocks

URL = "https://pagerline.example/incidents/12/"


def drawing(**changes) -> blocks.Drawing:
    values = {
        "incident_id": 12,
        "title": "InstanceDown",
        "service": "Checkout",
        "severity": "critical",
        "status": "triggered",
        "url": URL,
    }
    return blocks.Drawing(**{**values, **changes})


def buttons(message: dict) -> list[tuple[str, str]]:
    (actions,) = [b for b in message["blocks"] if b["type"] == "actions"]
    return [(e["action_id"], e.get("value") or e.get("url")) for e in actions["elements"]]


def fields(message: dict) -> str:
    return " ".join(
        f["text"] for b in message["blocks"] if b["type"] == "section" for f in b.get("fields", [])
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("triggered", [("acknowledge", "12"), ("resolve", "12"), ("open_incident", URL)]),
        ("acknowledged", [("resolve", "12"), ("open_incident", URL)]),
        ("resolved", [("open_incident", URL)]),
    ],
)
def test_the_buttons_follow_the_state(status, expected):
    assert buttons(blocks.incident_message(drawing(status=status))) == expected


def test_it_shows_the_incident_and_who_acted():
    at = datetime(2026, 11, 26, 10, 3, tzinfo=UTC)
    message = blocks.incident_message(
        drawing(
            status="acknowledged",
            assignee="alice",
            last_action="Acknowledged by alice via SMS",
            last_action_at=at,
        )
    )
    assert message["blocks"][0]["text"]["text"] == "#12 InstanceDown"
    assert "*Service*\nCheckout" in fields(message)
    assert "*Severity*\ncritical" in fields(message)
    assert "Acknowledged" in fields(message)
    assert "*Assignee*\nalice" in fields(message)
    (context,) = [b for b in message["blocks"] if b["type"] == "context"]
    said = context["elements"][0]["text"]
    assert said.startswith("Acknowledged by alice via SMS · <!date^1795687380^")
    assert said.endswith("|2026-11-26 10:03 UTC>")


def test_the_fallback_text_carries_the_links():
    links = {"acknowledge": "https://p.example/a/ack/", "resolve": "https://p.example/a/res/"}
    text = blocks.incident_message(drawing(intro="You are on call"), links=links)["text"]
    assert text.splitlines() == [
        "#12 [critical] Checkout: InstanceDown (triggered)",
        "You are on call",
        "Acknowledge: <https://p.example/a/ack/|acknowledge #12>",
        "Resolve: <https://p.example/a/res/|resolve #12>",
        f"Open: <{URL}|incident #12>",
    ]


def test_sender_text_cannot_mention_or_link():
    message = blocks.incident_message(
        drawing(title="<!channel> <https://evil.example|login> & co", service="<@U0BOSS>")
    )
    text = message["text"] + fields(message)
    assert "<!channel>" not in text and "<https://evil" not in text and "<@U0BOSS>" not in text
    assert "&lt;!channel&gt; &lt;https://evil.example|login&gt; &amp; co" in message["text"]
    # A header is plain text: Slack shows it as written, mentions and all inert.
    assert message["blocks"][0]["text"]["type"] == "plain_text"


def test_long_titles_are_cut_to_slacks_limits():
    message = blocks.incident_message(drawing(title="x" * 5000, intro="y" * 5000))
    assert len(message["blocks"][0]["text"]["text"]) == 150
    assert len(message["blocks"][1]["text"]["text"]) == 3000
    assert len(message["text"]) <= 4000


def test_the_link_request_has_one_button_naming_the_method():
    message = blocks.link_request(username="alice", method_id=7, text="code 123456")
    assert buttons(message) == [("slack_link", "7")]
    assert "*alice*" in message["blocks"][0]["text"]["text"]


def test_a_full_bundle_stays_within_slacks_limits():
    listed = [drawing(incident_id=n, title="<!channel> " + "x" * 300) for n in range(1, 21)]
    links = {
        n: {
            "acknowledge": f"https://pagerline.example/a/{'A' * 43}{n}/",
            "resolve": f"https://pagerline.example/a/{'R' * 43}{n}/",
        }
        for n in range(1, 21)
    }
    body = blocks.bundle_message(
        listed,
        more=280,
        more_url="https://pagerline.example/incidents/",
        links=links,
        all_value="77",
    )
    assert len(body["blocks"]) <= 50  # Slack's limit per message
    ids = [b["block_id"] for b in body["blocks"] if b["type"] == "actions"]
    assert len(ids) == len(set(ids)) == 21  # one per incident, and Acknowledge all
    assert body["blocks"][0]["text"]["text"] == "300 incidents need you"
    assert all(links[n]["resolve"] in body["text"] for n in links)  # nothing cut off
    assert len(body["text"]) <= 40000
    assert "<!channel>" not in body["text"]
    assert all("<!channel>" not in str(b) for b in body["blocks"])


def test_a_bundle_of_handled_incidents_has_no_acknowledge_all():
    body = blocks.bundle_message([drawing(status="resolved"), drawing(incident_id=13)])
    assert [b["block_id"] for b in body["blocks"] if b["type"] == "actions"] == [
        "incident-12",
        "incident-13",
    ]
