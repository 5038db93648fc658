"""Real local endpoints for the tests that send something out: an SMTP sink (aiosmtpd) and
an HTTP receiver (http.server in a thread) that records requests and answers as told.
Tests get them as fixtures: `smtp` (root conftest.py) and `receiver`
(incidents/tests/conftest.py)."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    """A local port nobody listens on (once the probe socket closes)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    """Collects every message: `envelopes` as received, `messages` parsed, `arrived` when
    each arrived (epoch seconds). `refuse` makes it answer RCPT with that SMTP reply."""

    def __init__(self):
        self.envelopes = []
        self.messages = []
        self.arrived: list[float] = []
        self.refuse: str | None = None
        self.port: int | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.arrived.append(time.time())
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"

    @property
    def recipients(self) -> list[str]:
        return [address for envelope in self.envelopes for address in envelope.rcpt_tos]


def send_email_to(settings, port: int) -> None:
    """Point Django's email at plain SMTP on 127.0.0.1:`port` (a sink, or nobody)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""


class Receiver:
    """Answers each POST with the next scripted reply (a status; "hang" to time out, "slow"
    to answer 200 after `hang_seconds`); records each request's headers, body, path and
    arrival (`at`, epoch seconds; bench/paging.py times messages with it)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.replies: list[int | str] = []
        self.default: int | str = 200
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.hang_seconds = 2.0

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(
                    {
                        "headers": dict(self.headers),
                        "body": body,
                        "path": self.path,
                        "at": time.time(),
                    }
                )
                reply = receiver.replies.pop(0) if receiver.replies else receiver.default
                if reply == "hang":
                    time.sleep(receiver.hang_seconds)  # a slow server, past our timeout
                    reply = 200
                elif reply == "slow":
                    time.sleep(receiver.hang_seconds)  # slow, but within our timeout
                    reply = 200
                self.send_response(int(reply))
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if int(reply) < 400 else b"nope")

            def log_message(self, *args):
                pass

        return Handler

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def allow_loopback(settings, env: dict | None = None) -> None:
    """Let webhooks reach this machine (the receiver listens on 127.0.0.1): in this process
    (`settings`) and in worker processes started with `env`."""
    settings.PAGERLINE_WEBHOOK_PRIVATE_NETWORKS = [ipaddress.ip_network("127.0.0.0/8")]
    if env is not None:
        env["PAGERLINE_WEBHOOK_PRIVATE_NETWORKS"] = "127.0.0.0/8"
