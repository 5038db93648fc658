"""Real local endpoints for notification tests: an SMTP sink (aiosmtpd) and an HTTP
receiver (http.server in a thread) that records requests and answers as told."""

from __future__ import annotations

import socket
import threading
import time
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    """Collects every message; `refuse` makes it answer RCPT with that SMTP reply."""

    def __init__(self):
        self.messages = []
        self.refuse: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


def running_smtp_sink(settings):
    """Generator for a fixture: `yield from running_smtp_sink(settings)`."""
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    sink.port = port
    yield sink
    controller.stop()


class Receiver:
    """Answers each POST with the next scripted reply (a status; "hang" to time out, "slow"
    to answer 200 after `hang_seconds`)."""

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
                receiver.requests.append({"headers": dict(self.headers), "body": body})
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
    import ipaddress

    settings.PAGERLINE_WEBHOOK_PRIVATE_NETWORKS = [ipaddress.ip_network("127.0.0.0/8")]
    if env is not None:
        env["PAGERLINE_WEBHOOK_PRIVATE_NETWORKS"] = "127.0.0.0/8"


def running_receiver():
    """Generator for a fixture: `yield from running_receiver()` (with `allow_loopback`)."""
    server = Receiver().start()
    yield server
    server.stop()
