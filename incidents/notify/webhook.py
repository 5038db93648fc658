from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import urlsplit

import requests
from django.conf import settings

from incidents.notify import TransportError, message

_DEFAULT_PORTS = {"http": 80, "https": 443}


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookTransport:
    channel = "webhook"

    def endpoint(self, contact_method) -> str:
        parts = urlsplit(contact_method.address)
        try:
            port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
        except ValueError:
            port = 0
        return f"{parts.hostname or 'invalid'}:{port}"

    def notify(self, notification) -> None:
        method = notification.contact_method
        body = json.dumps(message.payload(notification), separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Pagerline",
            "X-Pagerline-Signature": signature(method.secret, body),
        }
        timeout = settings.PAGERLINE_WEBHOOK_TIMEOUT_SECONDS
        try:
            response = requests.post(
                method.address, data=body, headers=headers, timeout=timeout, allow_redirects=False
            )
        except requests.Timeout as exc:
            raise TransportError(f"no answer within {timeout} s", permanent=False) from exc
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
        ) as exc:
            raise TransportError(f"invalid URL: {exc}", permanent=True) from exc
        except requests.RequestException as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}", permanent=False) from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        detail = f"HTTP {status}: {response.text[:200]}"
        # Overload and rate limits pass; other 4xx (and redirects) will fail the same way again.
        raise TransportError(detail, permanent=not (status >= 500 or status in {408, 429}))
