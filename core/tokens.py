"""One-time secrets sent to people in links (invitations, acknowledge/resolve links): 256
random bits, shown once, stored only as SHA-256, and compared in constant time after the
unique index has found the row by its hash. The apps keep their own rows and rules (who may
use a link, when it expires); this is the part they would otherwise write twice."""

from __future__ import annotations

import hashlib
import hmac
import secrets

# Minted tokens are 43 characters; anything much longer is not worth hashing.
MAX_LENGTH = 100


def token_mint() -> tuple[str, str]:
    """(plain, stored): the plain token goes into the link, its digest into the row."""
    plain = secrets.token_urlsafe(32)
    return plain, token_digest(plain)


def token_digest(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def token_plausible(plain: str | None) -> bool:
    """Worth looking up at all (not empty, not absurdly long)."""
    return bool(plain) and len(plain) <= MAX_LENGTH


def token_matches(stored: str, plain: str) -> bool:
    """The index found the row by equality; the constant-time comparison is the rule for
    secrets."""
    return hmac.compare_digest(stored, token_digest(plain))
