"""A local stand-in for Slack: its Web API (chat.postMessage, chat.update,
chat.postEphemeral) answering with the bodies Slack documents, and response_url endpoints;
every request is recorded. Interactive requests are signed as Slack signs them, with
slack_sdk's own SignatureVerifier."""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode

from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
TEAM_ID = "T0PAGERLN"


class FakeSlack:
    """`replies[method]`: what the next calls of a method answer, in order, each a
    (status, body dict, headers dict); afterwards the documented success body."""

    def __init__(self):
        self.requests: list[dict] = []
        self.replies: dict[str, list[tuple[int, dict, dict]]] = {}
        self._ts = itertools.count(100)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.api_url = f"{self.url}/api/"

    # What was asked of it --------------------------------------------------------------------

    def calls(self, method: str) -> list[dict]:
        """The bodies (JSON or form) of the requests to one Web API method, in order."""
        return [r["body"] for r in self.requests if r["path"] == f"/api/{method}"]

    def responses(self) -> list[dict]:
        """The bodies POSTed to response_url endpoints."""
        return [r["body"] for r in self.requests if r["path"].startswith("/actions/")]

    def response_url(self, name: str = "1") -> str:
        return f"{self.url}/actions/{TEAM_ID}/{name}/xyzzy"

    def fail(self, method: str, *replies: tuple[int, dict, dict]) -> None:
        self.replies.setdefault(method, []).extend(replies)

    # Answers ---------------------------------------------------------------------------------

    def _answer(self, path: str, body: dict) -> tuple[int, dict, dict]:
        if path.startswith("/actions/"):
            return 200, {"ok": True}, {}
        method = path.removeprefix("/api/")
        with self._lock:
            scripted = self.replies.get(method)
            if scripted:
                return scripted.pop(0)
            ts = f"1700000000.{next(self._ts):06d}"
        channel = body.get("channel", "")
        if method == "chat.postMessage":
            # A DM to a user id lands in the app's DM channel with that user.
            posted = "D" + channel[1:] if channel[:1] in {"U", "W"} else channel
            message = {"type": "message", "text": body.get("text", ""), "ts": ts}
            message.update(user="U0BOT", bot_id="B0BOT", blocks=body.get("blocks", []))
            return 200, {"ok": True, "channel": posted, "ts": ts, "message": message}, {}
        if method == "chat.update":
            message = {"text": body.get("text", ""), "blocks": body.get("blocks", [])}
            reply = {"ok": True, "channel": channel, "ts": body.get("ts"), "text": body.get("text")}
            return 200, {**reply, "message": message}, {}
        if method == "chat.postEphemeral":
            return 200, {"ok": True, "message_ts": ts}, {}
        return 200, {"ok": False, "error": "unknown_method"}, {}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    body = json.loads(raw or b"{}")
                else:
                    body = dict(parse_qsl(raw.decode()))
                fake.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                status, answer, headers = fake._answer(self.path, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler

    def start(self) -> FakeSlack:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def slack_method(user, address: str = "U0RESPOND1", verified: bool = True, **options):
    """A Slack contact method (a linked account unless `verified=False`)."""
    from django.utils import timezone

    from incidents.models import ContactMethod

    return ContactMethod.objects.create(
        user=user,
        kind="slack",
        address=address,
        verified_at=timezone.now() if verified else None,
        **options,
    )


def slack_settings(fake: FakeSlack) -> dict[str, str]:
    """The environment that points Pagerline (a worker process too) at the stand-in."""
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_BASE_URL": fake.api_url,
    }


def running_fake_slack(settings):
    """Generator for a fixture: `yield from running_fake_slack(settings)`."""
    fake = FakeSlack().start()
    for name, value in slack_settings(fake).items():
        setattr(settings, name, value)
    yield fake
    fake.stop()


# Interactive requests, as Slack sends them ---------------------------------------------------


def block_actions(
    *,
    user_id: str,
    action_id: str,
    value: str,
    response_url: str,
    action_ts: str = "1700000100.000200",
    channel_id: str = "D0123ABCD",
    message_ts: str = "1700000000.000100",
) -> dict:
    """A block_actions payload as Slack documents it (one button press)."""
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": "jo", "name": "jo", "team_id": TEAM_ID},
        "api_app_id": "A0PAGERLN",
        "token": "verification-token-unused",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": f"1337.4242.{action_ts.replace('.', '')}",
        "team": {"id": TEAM_ID, "domain": "pagerline"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": "directmessage"},
        "message": {"type": "message", "ts": message_ts, "text": "#1", "blocks": []},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "incident",
                "text": {"type": "plain_text", "text": action_id.title(), "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": action_ts,
            }
        ],
    }


def signed(
    body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """The headers Slack sends with `body`: X-Slack-Request-Timestamp and X-Slack-Signature."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    return {
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": str(timestamp),
        "HTTP_X_SLACK_SIGNATURE": signature,
    }


def form(payload: dict) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()
