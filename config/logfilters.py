"""Keep secrets out of logs: webhook, calendar, acknowledge/resolve, invitation and password
reset link URLs carry their token in the path, and Django logs the path of every 4xx/5xx
response."""

from __future__ import annotations

import logging
import re

# /hooks/<source>/<token>, /ical/schedule/<token>.ics, /ical/user/<token>.ics, /a/<token>/,
# /invite/<token>/, /accounts/reset/<uid>/<token>/
SECRET_PATH = re.compile(
    r"(/hooks/[\w-]+/|/ical/(?:schedule|user)/|/a/|/invite/|/accounts/reset/[^\s/?#\"']+/)"
    r"[^\s/?#\"']+"
)
# (/a/ anywhere, also inside a full URL: redacting a harmless path too is the cheaper mistake.)
REDACTED = r"\1[redacted]"


def redact(value: object) -> object:
    return SECRET_PATH.sub(REDACTED, value) if isinstance(value, str) else value


class RedactSecretPaths(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: redact(arg) for key, arg in record.args.items()}
        return True
