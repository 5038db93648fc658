"""Deployment checks of our own, run by `manage.py check --deploy` beside Django's."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register

_WHAT_BREAKS = {
    "SECRET_KEY": "sessions, password reset and acknowledge links signed on one host "
    "fail on another",
    "PAGERLINE_ENCRYPTION_KEYS": "contact methods encrypted on one host cannot be "
    "decrypted on another, and the key is not in a database backup",
}


@register(Tags.security, deploy=True)
def check_keys_come_from_the_environment(app_configs, **kwargs) -> list[Warning]:
    """A key made up on this host (kept under VAR_DIR) differs on every other host."""
    return [
        Warning(
            f"{name} is not set: this host uses a key it made up and kept in "
            f"{settings.VAR_DIR}; with more than one host {_WHAT_BREAKS[name]}.",
            hint=f"Set {name} to the same value on every web and worker host "
            "(docs/operations.md, Production settings).",
            id="pagerline.W001" if name == "SECRET_KEY" else "pagerline.W002",
        )
        for name in settings.PAGERLINE_KEYS_FROM_VAR
    ]
