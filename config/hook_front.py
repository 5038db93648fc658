"""The webhook paths, answered in front of Django's request handling.

`config.wsgi.application` is `HookFront(django_application)`: a POST to
`/hooks/<source>/<token>`, `/hooks/<source>` (bearer token) or `/v2/enqueue` is answered
here by the same functions the Django views call (incidents.intake.webhooks.alert_hook and
enqueue_hook: method, type, size, JSON, validation, authentication, storage, answers);
every other request, `/hooks/heartbeat/...` and `/hooks/slack/...` included, goes to Django
unchanged.

Why: a webhook needs none of the middleware (no session, user, CSRF or messages), yet
building the request and running the middleware and URL resolver cost as much CPU as the
whole intake work, and acceptance must cost about what a bare request costs
(docs/performance.md). What this keeps of Django's stack for these paths: ALLOWED_HOSTS
and SECURE_SSL_REDIRECT (a request failing either is left to Django, which refuses or
redirects it as before), the headers the middleware adds (config.middleware.
response_headers), and the "Bad Request: <path>" log line of a 4xx/5xx (path redacted by
the logging filter), and the request_started/finished signals (Django's connections are
closed there when too old or broken, or handed back to the pool under gevent); a
connection dropped mid-request is reopened by incidents.intake.store.on_live_connection.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import LimitedStream, WSGIRequest, get_path_info
from django.core.signals import request_finished, request_started, setting_changed
from django.dispatch import receiver
from django.utils.http import parse_header_parameters

from config.logformat import request_id, request_id_from
from config.middleware import response_headers
from incidents.intake import webhooks

# Django's `slug` and `str` converters, as in incidents/urls.py's hook patterns.
_HOOK_PATH = re.compile(r"/hooks/(?P<source>[-a-zA-Z0-9_]+)(?:/(?P<token>[^/]+))?")
_ENQUEUE_PATHS = {"/v2/enqueue", "/v2/enqueue/"}
# Django views: /hooks/heartbeat/<token>, /hooks/slack/interactions (Slack's button presses)
# and Twilio's /hooks/twilio/... (replies, calls, status callbacks).
_NOT_HERE = {"heartbeat", "slack", "twilio"}

request_log = logging.getLogger("django.request")


@functools.cache
def _headers(secure: bool) -> tuple[tuple[str, str], ...]:
    return tuple(response_headers(secure=secure))


@receiver(setting_changed)
def _forget_headers(**kwargs) -> None:
    _headers.cache_clear()


class HookFront:
    """WSGI middleware: answer the webhook paths, hand everything else to `app`."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = get_path_info(environ)
        route = _route(path)
        if route is None:
            return self.app(environ, start_response)
        probe = _Probe(environ)
        try:
            probe.get_host()
        except DisallowedHost:
            return self.app(environ, start_response)
        secure = probe.is_secure()
        if settings.SECURE_SSL_REDIRECT and not secure:
            return self.app(environ, start_response)
        # As config.middleware.RequestIdMiddleware does for Django's views.
        rid = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        rid_token = request_id.set(rid)
        request_started.send(sender=self.__class__, environ=environ)  # as Django's handler
        try:
            answer = _answer(route, _hook_request(environ))
        except Exception:  # as Django's handler would: log it, answer 500
            request_log.exception("Internal Server Error: %s", path, extra={"status_code": 500})
            answer = webhooks.Answer(500, {"status": "error", "message": "internal server error"})
        else:
            if answer.status >= 400:
                level = logging.ERROR if answer.status >= 500 else logging.WARNING
                phrase = HTTPStatus(answer.status).phrase
                request_log.log(level, "%s: %s", phrase, path, extra={"status_code": answer.status})
        finally:
            request_finished.send(sender=self.__class__)  # e.g. a pooled connection goes back
            request_id.reset(rid_token)
        body = json.dumps(answer.body).encode()
        status = HTTPStatus(answer.status)
        start_response(
            f"{status.value} {status.phrase}",
            [
                ("Content-Type", "application/json"),
                *answer.headers,
                ("Content-Length", str(len(body))),
                *_headers(secure),
                ("X-Request-ID", rid),
            ],
        )
        return [body]


class _Probe(WSGIRequest):
    """Only for Django's own Host (ALLOWED_HOSTS, USE_X_FORWARDED_HOST) and scheme
    (SECURE_PROXY_SSL_HEADER) rules: get_host() and is_secure() read nothing but the
    environ, so the rest of a request (query, cookies, body streams) is not built."""

    def __init__(self, environ):
        self.environ = self.META = environ


def _route(path: str) -> tuple[str, str] | None:
    """(source, token) for an alert webhook, ("", "") for /v2/enqueue, None for Django."""
    if path in _ENQUEUE_PATHS:
        return "", ""
    match = _HOOK_PATH.fullmatch(path)
    if match is None or match["source"] in _NOT_HERE:
        return None
    return match["source"], match["token"] or ""


def _hook_request(environ) -> webhooks.HookRequest:
    # As django.core.handlers.wsgi.WSGIRequest reads them.
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return webhooks.HookRequest(
        method=environ["REQUEST_METHOD"].upper(),
        content_type=parse_header_parameters(environ.get("CONTENT_TYPE", ""))[0],
        content_length=environ.get("CONTENT_LENGTH") or "",
        authorization=environ.get("HTTP_AUTHORIZATION", ""),
        read=LimitedStream(environ["wsgi.input"], length).read,
    )


def _answer(route: tuple[str, str], request: webhooks.HookRequest) -> webhooks.Answer:
    source, token = route
    if not source:
        return webhooks.enqueue_hook(request)
    return webhooks.alert_hook(request, source, token)
