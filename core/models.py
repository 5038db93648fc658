"""Things every app stands on: personal API tokens. Imports nothing from the other apps."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models


def hash_api_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    """A personal API token: shown once at creation, stored as SHA-256, revocable."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class AuditEntry(models.Model):
    """One configuration change: who did what to which object, and what changed.

    `team_id` is a plain integer (core sits below the app that defines teams); the
    entries of a team are shown to its managers. Never holds secrets: callers pass
    field changes with tokens, passwords and keys left out.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    team_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=64)  # e.g. "integration.created"
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=500)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.summary}"


class Milestone(models.Model):
    """Something that happens once in an installation's life, kept as a row whose primary
    key is its name, so the database itself refuses a second one (two requests racing to
    create the first administrator: one inserts, the other gets an IntegrityError)."""

    FIRST_ADMIN = "first_admin"

    name = models.CharField(max_length=64, primary_key=True)
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M}"
