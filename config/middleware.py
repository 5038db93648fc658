"""Security headers the pages need beyond Django's own (CSP, HSTS behind HTTPS)."""

from __future__ import annotations

from django.conf import settings

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


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.hsts = settings.PAGERLINE_BASE_URL.startswith("https://")

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        if self.hsts and request.is_secure():
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response
