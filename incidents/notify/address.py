"""Is this a usable address for a channel? One rule for the model (admin), the contact method
service (pages and API) and nothing else. No database."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email

MAX_LENGTH = 1000
_URL = URLValidator(schemes=["http", "https"])


def address_problem(kind: str, address: object) -> str | None:
    """What is wrong with `address` for a contact method of `kind`, or None if it is fine."""
    if not isinstance(address, str) or not address.strip():
        return "Enter an address."
    if len(address) > MAX_LENGTH:
        return f"At most {MAX_LENGTH} characters."
    if address != address.strip() or any(ord(c) < 32 or ord(c) == 127 for c in address):
        return "Remove the spaces and control characters around or inside the address."
    if kind == "email":
        try:
            validate_email(address)
        except ValidationError:
            return "Enter a valid email address."
        return None
    if kind == "webhook":
        return _url_problem(address)
    return "Unknown kind of contact method."


def _url_problem(address: str) -> str | None:
    parts = urlsplit(address)
    if parts.scheme.lower() not in {"http", "https"}:
        return "Enter an http:// or https:// URL."
    # Credentials in a URL end up in logs and breaker keys; receivers should check the
    # X-Pagerline-Signature header instead.
    if "@" in parts.netloc:
        return "URLs with a user name or password are not accepted; verify the signature instead."
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        return "Enter a valid port number."
    if not parts.hostname:
        return "Enter a URL with a host name."
    try:
        _URL(address)
    except ValidationError:
        return "Enter a valid URL."
    return None


def redacted(kind: str, address: str) -> str:
    """An address safe for the audit log: a webhook URL's path and query often hold a secret
    (Slack's incoming webhooks do), so only its scheme and host are kept."""
    if kind != "webhook":
        return address
    parts = urlsplit(address)
    return f"{parts.scheme}://{parts.netloc}/…"
