"""Secrets at rest: values encrypted with the keys of PAGERLINE_ENCRYPTION_KEYS (Fernet,
AES-128-CBC + HMAC-SHA256). The first key encrypts; every key decrypts, so a key is rotated
by putting a new one first, running `manage.py encryption_rotate` (re-encrypts every stored
value with it), then dropping the old one."""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "PAGERLINE_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64-encoded bytes; "
            'make one with python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())")'
        ) from exc


def _keys() -> MultiFernet:
    return _fernet(tuple(settings.PAGERLINE_ENCRYPTION_KEYS))


def encrypt(plain: str) -> str:
    if plain == "":
        return ""
    return PREFIX + _keys().encrypt(plain.encode()).decode()


def decrypt(stored: str) -> str:
    """The plain text of a stored value. Raises ImproperlyConfigured when no configured key
    opens it (a key was dropped before rotation finished)."""
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        raise ValueError("not an encrypted value")
    try:
        return _keys().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "a stored secret cannot be decrypted with PAGERLINE_ENCRYPTION_KEYS "
            "(was a key removed before `manage.py encryption_rotate` ran?)"
        ) from exc


class EncryptedTextField(models.TextField):
    """Text stored encrypted; Python code sees the plain text. Not searchable: keep what
    must be looked up (a redacted form, a hash) in another column."""

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return value
        return encrypt(value)
