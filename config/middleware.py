"""Security headers the pages need beyond Django's own (CSP and friends; HSTS is Django's,
from SECURE_HSTS_SECONDS)."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect
from django.utils.log import log_response

from config.logformat import request_id, request_id_from

# Everything is served from our own origin: plotly.js, Swagger UI (sidecar), our scripts.
# plotly styles its SVG with inline style attributes, hence 'unsafe-inline' for styles only;
# scripts stay 'self' (no inline scripts: data for charts travels in JSON script tags).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def pagerline_headers(*, secure: bool) -> list[tuple[str, str]]:
    """The headers SecurityHeadersMiddleware adds to a response that has none of them."""
    headers = [
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ]
    return headers


def response_headers(*, secure: bool) -> list[tuple[str, str]]:
    """Every header the MIDDLEWARE stack adds to a response that sets none of them itself:
    ours, then Django's SecurityMiddleware's and XFrameOptionsMiddleware's (which only add
    what is still missing). The webhook front (config.hook_front), which answers before
    the middleware, sends these; tests/test_hook_front.py checks both ways agree."""
    headers = pagerline_headers(secure=secure)
    if secure and settings.SECURE_HSTS_SECONDS:
        hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            hsts += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            hsts += "; preload"
        headers.append(("Strict-Transport-Security", hsts))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        policy = settings.SECURE_REFERRER_POLICY
        headers.append(("Referrer-Policy", policy if isinstance(policy, str) else ",".join(policy)))
    headers.append(("X-Frame-Options", settings.X_FRAME_OPTIONS.upper()))
    first: dict[str, tuple[str, str]] = {}
    for name, value in headers:  # the first to set a header wins, as with setdefault
        first.setdefault(name.lower(), (name, value))
    return list(first.values())


class RequestIdMiddleware:
    """Gives each request an id (its X-Request-ID when sane, else a new one), which every log
    line written while it runs carries (config.logformat) and the response returns."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        value = request_id_from(request.headers.get("X-Request-ID"))
        token = request_id.set(value)
        try:
            response = self.get_response(request)
            if response.status_code >= 400:
                # Django's handler logs a 4xx/5xx after the middleware has returned, which
                # is after the id is gone; logged here it carries the id (once: the handler
                # skips a response already logged).
                log_response(
                    "%s: %s",
                    response.reason_phrase,
                    request.path,
                    response=response,
                    request=request,
                )
        finally:
            request_id.reset(token)
        response["X-Request-ID"] = value
        return response


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        for name, value in pagerline_headers(secure=request.is_secure()):
            response.headers.setdefault(name, value)
        return response


# Paths that never lead to the first-run page: machines (API, webhooks, probes, feeds) get
# their usual answers, and the page's own assets must load.
FIRST_RUN_EXEMPT = (
    "/setup/",
    "/static/",
    "/api/",
    "/hooks/",
    "/v2/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/ical/",
    "/favicon",
)


class FirstRunMiddleware:
    """On a database with no user yet, any page leads to the first-administrator page.

    Costs nothing once someone is signed in (a session cookie means a user existed), and one
    indexed EXISTS for a visitor without one (the login page, links in messages)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.method in ("GET", "HEAD")
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and not request.path.startswith(FIRST_RUN_EXEMPT)
        ):
            # Imported here: this module is loaded (by config.hook_front) before the apps'
            # models are ready.
            from core.first_run import first_run_open

            if first_run_open():
                return redirect("first-admin")
        return self.get_response(request)
