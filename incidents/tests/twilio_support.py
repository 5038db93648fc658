"""A local stand-in for Twilio's REST API and requests signed as Twilio signs them.

FakeTwilio (http.server in a thread) answers `POST /2010-04-01/Accounts/<sid>/Messages.json`
and `.../Calls.json` with the bodies Twilio documents (201, a new SID, status "queued"), an
invalid number with Twilio's error body (400, code 21211), and whatever status a test
scripts; it records every request. Inbound requests are signed with the twilio package's
own RequestValidator, as Twilio computes X-Twilio-Signature.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

from twilio.request_validator import RequestValidator

from tests.peers import Receiver

ACCOUNT_SID = "AC" + "5ef8" * 8
AUTH_TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
FROM_NUMBER = "+15005550006"
INVALID_NUMBER = "+15005550001"  # Twilio's magic test number for an invalid 'To'


def _date() -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())


def message_body(sid: str, form: dict) -> dict:
    """Twilio's answer to a created Message (Messaging API, Message resource)."""
    return {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": form.get("Body", ""),
        "date_created": _date(),
        "date_sent": None,
        "date_updated": _date(),
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form.get("From", ""),
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued",
        "subresource_uris": {
            "media": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}/Media.json"
        },
        "to": form.get("To", ""),
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
    }


def call_body(sid: str, form: dict) -> dict:
    """Twilio's answer to a created Call (Voice API, Call resource)."""
    return {
        "account_sid": ACCOUNT_SID,
        "annotation": None,
        "answered_by": None,
        "api_version": "2010-04-01",
        "caller_name": None,
        "date_created": _date(),
        "date_updated": _date(),
        "direction": "outbound-api",
        "duration": None,
        "end_time": None,
        "forwarded_from": None,
        "from": form.get("From", ""),
        "from_formatted": form.get("From", ""),
        "group_sid": None,
        "parent_call_sid": None,
        "phone_number_sid": "PN" + "0" * 32,
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "start_time": None,
        "status": "queued",
        "subresource_uris": {},
        "to": form.get("To", ""),
        "to_formatted": form.get("To", ""),
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{sid}.json",
    }


def error_body(status: int, code: int, message: str) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class FakeTwilio(Receiver):
    """Records each request ({"resource", "form", "auth"}) and answers as Twilio would;
    `replies` scripts the next answers (an HTTP status, or "hang" to time out)."""

    def __init__(self):
        super().__init__()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def messages(self) -> list[dict]:
        return [r["form"] for r in self.requests if r["resource"] == "Messages"]

    def calls(self) -> list[dict]:
        return [r["form"] for r in self.requests if r["resource"] == "Calls"]

    def _answer(self, path: str, form: dict, auth: str) -> tuple[int, dict]:
        prefix = f"/2010-04-01/Accounts/{ACCOUNT_SID}/"
        resource = path.removeprefix(prefix).removesuffix(".json")
        if not path.startswith(prefix) or resource not in {"Messages", "Calls"}:
            return 404, error_body(404, 20404, f"The requested resource {path} was not found")
        expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if auth != f"Basic {expected}":
            return 401, error_body(401, 20003, "Authenticate")
        self.requests.append({"resource": resource, "form": form, "auth": auth})
        reply = self.replies.pop(0) if self.replies else 201
        if reply == "hang":
            time.sleep(self.hang_seconds)
            reply = 201
        if reply != 201:
            return int(reply), error_body(int(reply), 20500 if reply >= 500 else 20429, "busy")
        if form.get("To") == INVALID_NUMBER:
            to = form["To"]
            return 400, error_body(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if resource == "Messages":
            return 201, message_body("SM" + secrets.token_hex(16), form)
        return 201, call_body("CA" + secrets.token_hex(16), form)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                form = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
                status, body = fake._answer(self.path, form, self.headers.get("Authorization", ""))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler


TWILIO_ENV = {
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "TWILIO_FROM_NUMBER": FROM_NUMBER,
}


def running_fake_twilio(settings, env: dict | None = None):
    """Generator for a fixture: `yield from running_fake_twilio(settings)`; Twilio's
    settings point at the stand-in here and, through `env`, in worker processes."""
    fake = FakeTwilio().start()
    values = {**TWILIO_ENV, "TWILIO_API_BASE_URL": fake.url}
    for name, value in values.items():
        setattr(settings, name, value)
    if env is not None:
        env.update(values)
    yield fake
    fake.stop()


def use_twilio_settings(settings, base_url: str) -> None:
    """Twilio configured (for webhooks only: the API base URL is not a stand-in) and
    Pagerline's public address, as the signatures are computed for it."""
    settings.PAGERLINE_BASE_URL = base_url
    for name, value in TWILIO_ENV.items():
        setattr(settings, name, value)


def twilio_signature(url: str, params: dict, token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post_signed(client, path: str, params: dict, *, base_url: str, **extra):
    """POST `params` to `path` as Twilio would, signed for `base_url` + `path`."""
    return client.post(
        path,
        params,
        HTTP_X_TWILIO_SIGNATURE=twilio_signature(base_url + path, params),
        **extra,
    )


def inbound_sms(sender: str, body: str, sid: str | None = None) -> dict:
    """The fields of Twilio's request for a text to the number (the messaging webhook)."""
    sid = sid or "SM" + secrets.token_hex(16)
    return {
        "ToCountry": "US",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "To": FROM_NUMBER,
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


def call_fields(sid: str, *, caller: str, called: str, **more) -> dict:
    """The fields of Twilio's request for a call (its Url, a Gather's action)."""
    return {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": sid,
        "CallStatus": "in-progress",
        "Called": called,
        "Caller": caller,
        "Direction": "outbound-api",
        "From": caller,
        "To": called,
        **more,
    }
