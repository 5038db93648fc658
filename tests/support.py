"""Helpers shared by tests that are neither model builders (those are the apps'
tests/factories.py) nor fixtures (conftest.py): aware datetimes, payload builders, posting
JSON, polling for asynchronous work, a WSGI client, running manage.py. See tests/README.md."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.utils.datastructures import CaseInsensitiveMapping

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "incidents" / "tests" / "fixtures"


def utc(*args) -> datetime:
    """utc(2026, 3, 29, 9): a timezone-aware UTC datetime."""
    return datetime(*args, tzinfo=UTC)


def fixture_json(relative: str) -> dict:
    return json.loads((FIXTURES / relative).read_text())


def am_alert(
    name: str = "HighErrorRate",
    *,
    status: str = "firing",
    fingerprint: str | None = None,
    starts_at: str = "2026-11-26T10:00:00Z",
    ends_at: str = "0001-01-01T00:00:00Z",
    severity: str = "critical",
    **labels: str,
) -> dict:
    return {
        "status": status,
        "labels": {"alertname": name, "severity": severity, **labels},
        "annotations": {"summary": f"{name} on checkout"},
        "startsAt": starts_at,
        "endsAt": ends_at,
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        "fingerprint": fingerprint or f"fp-{name}".lower(),
    }


def am_payload(*alerts: dict, group_key: str = '{}:{alertname="HighErrorRate"}', truncated=0):
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": truncated,
        "status": status,
        "receiver": "pagerline",
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


def charts_in(page: str) -> list[dict]:
    """The plotly figures a server-rendered page carries (metrics/charts.py builds them)."""
    marker = '<script type="application/json" data-chart>'
    return [json.loads(part.split("</script>")[0]) for part in page.split(marker)[1:]]


def post_json(client, url: str, body, content_type="application/json", **headers):
    """POST `body` (a str or bytes as it is, anything else as JSON) with the Django test
    client or a WsgiClient; `headers` by their HTTP names (Authorization=...)."""
    if not isinstance(body, str | bytes):
        body = json.dumps(body)
    return client.generic("POST", url, body, content_type=content_type, headers=headers)


def wait_for(predicate, *, timeout: float = 10.0, interval: float = 0.05, message: str = ""):
    """Poll `predicate` until it returns a truthy value; fail the test after `timeout`.

    Only for work that really happens in another process (a Celery worker, a server).
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(message or f"condition not met within {timeout}s")
        time.sleep(interval)


class WsgiResponse:
    """What WsgiClient got back, read like a Django test client response."""

    def __init__(self, status: str, headers: list[tuple[str, str]], content: bytes):
        self.status_code = int(status.split()[0])
        self.headers = CaseInsensitiveMapping(dict(headers))
        self.content = content

    def __getitem__(self, name: str) -> str:
        return self.headers[name]

    def json(self):
        return json.loads(self.content)


class WsgiClient:
    """Requests made to config.wsgi.application as gunicorn makes them, so the webhook paths
    are answered by config.hook_front.HookFront (the Django test client calls the views).
    Like the test client, it keeps Django from closing the test's database connection."""

    def __init__(self, host: str = "127.0.0.1", application=None):
        from config.wsgi import application as served

        self.application = application or served
        self.host = host

    def generic(
        self,
        method: str,
        path: str,
        data: str | bytes = b"",
        content_type: str | None = "application/octet-stream",
        secure: bool = False,
        headers: dict | None = None,
        **environ,
    ) -> WsgiResponse:
        from django.core.signals import request_finished, request_started
        from django.db import close_old_connections

        body = data.encode() if isinstance(data, str) else data
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "443" if secure else "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": self.host,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "https" if secure else "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            **({"CONTENT_TYPE": content_type} if content_type else {}),
            **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()},
            **environ,
        }
        answer = {}

        def start_response(status, response_headers, exc_info=None):
            answer.update(status=status, headers=response_headers)

        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            result = self.application(environ, start_response)
            try:
                content = b"".join(result)
            finally:
                getattr(result, "close", lambda: None)()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        return WsgiResponse(answer["status"], answer["headers"], content)

    def get(self, path: str, **kwargs) -> WsgiResponse:
        return self.generic("GET", path, content_type=None, **kwargs)

    def post(self, path: str, data="", content_type="application/json", **kwargs) -> WsgiResponse:
        return self.generic("POST", path, data, content_type=content_type, **kwargs)


def other_connection():
    """A second PostgreSQL connection to the test database, outside Django (autocommit):
    to lock a table or terminate a backend while the code under test holds its own."""
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=True)


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `manage.py *args` in a process of its own with the environment `env` (as a host
    would, e.g. against another database); its output is captured as text. Not checked:
    the caller looks at `returncode`."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
