"""A local stand-in for a vendor's REST API: serves the canned JSON of a fixture file by
path and query, answers the paths listed in `throttle` once with HTTP 429 and
`Retry-After: 1`, and records every request (path, headers, status, time)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

FIXTURES = Path(__file__).with_name("fixtures")


def key(path: str) -> str:
    """`path?query` with the query sorted and the page size left out (clients choose it)."""
    parts = urlsplit(path)
    query = sorted((k, v) for k, v in parse_qsl(parts.query) if k != "limit")
    return parts.path + ("?" + urlencode(query) if query else "")


class Replay:
    def __init__(
        self, fixture: str, *, throttle: tuple[str, ...] = (), always_throttle: tuple[str, ...] = ()
    ):
        loaded = json.loads((FIXTURES / fixture).read_text())
        self.responses = {key(k): v for k, v in loaded["responses"].items()}
        self.throttle = set(throttle)
        self.always_throttle = set(always_throttle)  # answered 429 every time
        self.requests: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self):
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                found = key(self.path)
                if found in replay.throttle or found in replay.always_throttle:
                    replay.throttle.discard(found)
                    status, body, extra = 429, {"error": "rate limited"}, {"Retry-After": "1"}
                elif found in replay.responses:
                    status, body, extra = 200, replay.responses[found], {}
                else:
                    status, body, extra = 404, {"error": f"no canned answer for {found}"}, {}
                replay.requests.append(
                    {
                        "path": found,
                        "headers": dict(self.headers),
                        "status": status,
                        "at": time.monotonic(),
                    }
                )
                data = json.dumps(body).replace("{BASE}", replay.url).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
