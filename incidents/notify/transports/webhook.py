"""The outbound webhook transport: a signed JSON POST (HMAC-SHA256 of the body with the
contact method's secret). The host is resolved and every address checked against
incidents.notify.address before sending, and the request is pinned to a checked address,
so DNS rebinding cannot reach an internal address. 4xx answers are permanent failures."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import socket
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings

from incidents.notify import address, message
from incidents.notify.transports import TransportError

_DEFAULT_PORTS = {"http": 80, "https": 443}


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookTransport:
    channel = "webhook"

    def endpoint(self, contact_method) -> str:
        parts = urlsplit(contact_method.address)
        return f"{parts.hostname or 'invalid'}:{_port(parts) or 0}"

    def notify(self, notification) -> None:
        method = notification.contact_method
        body = json.dumps(message.payload(notification), separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Pagerline",
            "X-Pagerline-Signature": signature(method.secret, body),
        }
        parts = urlsplit(method.address)
        port = _port(parts)
        if port is None or not parts.hostname:
            raise TransportError(f"invalid URL: {method.address!r}", permanent=True)
        ips = public_addresses(parts.hostname, port)
        response = _post_to_one(parts, ips, port, (body, headers))
        status = response.status
        if 200 <= status < 300:
            return
        text = response.data[:200].decode("utf-8", errors="replace")
        detail = f"HTTP {status}: {text}"
        # Overload and rate limits pass; other 4xx (and redirects) will fail the same way again.
        raise TransportError(detail, permanent=not (status >= 500 or status in {408, 429}))


def _port(parts) -> int | None:
    """The URL's port, or its scheme's; None when it has neither or a bad one."""
    try:
        return parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None


def _post_to_one(parts, ips: list[str], port: int, request: tuple[bytes, dict]):
    """POST to the first of the host's addresses that takes a connection (as a browser
    would, e.g. past a broken IPv6 route); its answer."""
    timeout = settings.PAGERLINE_WEBHOOK_TIMEOUT_SECONDS
    body, headers = request
    for n, ip in enumerate(ips, start=1):
        try:
            return _post(parts, ip, port, body, headers, timeout)
        except urllib3.exceptions.NewConnectionError as exc:  # first: a TimeoutError too
            if n < len(ips):
                continue
            reason = str(exc).rpartition(": ")[2]  # e.g. "[Errno 111] Connection refused"
            detail = f"ConnectionError: could not connect to {parts.netloc} ({reason})"
            raise TransportError(detail, permanent=False) from exc
        except urllib3.exceptions.ConnectTimeoutError as exc:
            if n < len(ips):
                continue
            raise TransportError(f"no answer within {timeout} s", permanent=False) from exc
        except urllib3.exceptions.TimeoutError as exc:
            raise TransportError(f"no answer within {timeout} s", permanent=False) from exc
        except urllib3.exceptions.HTTPError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}", permanent=False) from exc
    raise TransportError(f"{parts.hostname} has no address", permanent=False)


def public_addresses(host: str, port: int) -> list[str]:
    """The addresses to connect to: the host resolved here and checked (every address it
    has must be public or allowed), then connected to as checked, so a name that resolves
    again to somewhere else (DNS rebinding) cannot slip in between check and request."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TransportError(f"cannot resolve {host}: {exc}", permanent=False) from exc
    ips = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in found]
    allowed = settings.PAGERLINE_WEBHOOK_PRIVATE_NETWORKS
    for ip in ips:
        if address.refused_ip(ip, allowed):
            raise TransportError(address.refusal(host, ip), permanent=True)
    return list(dict.fromkeys(str(ip) for ip in ips))  # once each, in the resolver's order


def _ca_bundle() -> str:
    """The certificates webhooks trust: as requests chose them (a corporate CA given in
    REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE), else certifi's."""
    return (
        os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where()
    )


def _post(parts, ip: str, port: int, body: bytes, headers: dict, timeout: float):
    """POST to `ip`, presenting the URL's host name (Host header, TLS SNI and certificate
    check); no redirects, no retries (the notification's own retries decide)."""
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    options = {"timeout": urllib3.Timeout(connect=timeout, read=timeout), "retries": False}
    if parts.scheme.lower() == "https":
        pool = urllib3.HTTPSConnectionPool(
            ip,
            port,
            server_hostname=parts.hostname,
            assert_hostname=parts.hostname,
            cert_reqs="CERT_REQUIRED",
            ca_certs=_ca_bundle(),
            **options,
        )
    else:
        pool = urllib3.HTTPConnectionPool(ip, port, **options)
    with pool:
        return pool.urlopen(
            "POST",
            path,
            body=body,
            headers={**headers, "Host": parts.netloc},
            redirect=False,
            assert_same_host=False,
        )
