from __future__ import annotations

from django.conf import settings
from django.db import models


class Team(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    # Weekly reports and ISO weeks are counted in the team's zone; storage stays UTC.
    time_zone = models.CharField(max_length=64, default="UTC")
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    RESPONDER = "responder", "Responder"
    MANAGER = "manager", "Manager"


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.RESPONDER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="membership_team_user_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


class UserProfile(models.Model):
    """Per-user settings; created lazily (``services.profile_for``) the first time it is needed."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oncall_profile"
    )
    # IANA zone in which the user's own pages and notices show times ("pages outside working
    # hours" are judged in it too).
    time_zone = models.CharField(max_length=64, default="UTC")
    # SHA-256 of the secret in the personal iCal feed URL; the plain token is shown once.
    ical_token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)

    def __str__(self) -> str:
        return f"profile of {self.user}"


class Schedule(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="schedules")
    name = models.CharField(max_length=200)
    # Handoffs, restriction windows and layer ends are wall-clock times in this zone.
    time_zone = models.CharField(max_length=64, default="UTC")
    # Email the incoming person this long before their shift starts; 0 turns notices off.
    handoff_notice_seconds = models.PositiveIntegerField(default=30 * 60)
    ical_token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team__name", "name", "id"]

    def __str__(self) -> str:
        return self.name


class RotationUnit(models.TextChoices):
    HOURS = "hours", "Hours"
    DAYS = "days", "Days"
    WEEKS = "weeks", "Weeks"


class Layer(models.Model):
    """One rotation of a schedule; ``position`` 0 has the highest priority.

    Wall-clock values are stored as separate DateField + TimeField pairs rather than a
    DateTimeField: with USE_TZ a DateTimeField is always an aware instant, and a handoff at
    "09:00 in Berlin" is not an instant but a rule that yields a different UTC time in summer.
    """

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(max_length=200)
    position = models.PositiveIntegerField()
    rotation_unit = models.CharField(max_length=8, choices=RotationUnit.choices)
    rotation_every = models.PositiveIntegerField(default=1)
    handoff_date = models.DateField()
    handoff_time = models.TimeField()
    # [{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}], weekdays 0 = Monday;
    # end < start crosses midnight. Empty: on call around the clock.
    restrictions = models.JSONField(default=list, blank=True)
    end_date = models.DateField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True)
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="LayerParticipant", related_name="+"
    )

    class Meta:
        ordering = ["schedule_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "position"], name="layer_schedule_position_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True, end_time__isnull=True)
                | models.Q(end_date__isnull=False, end_time__isnull=False),
                name="layer_end_date_and_time_together",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.schedule} / {self.name}"


class LayerParticipant(models.Model):
    """A place in a layer's rotation order; one user may hold several places."""

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["layer_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["layer", "position"], name="layer_participant_position_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} #{self.position} in {self.layer}"


class Override(models.Model):
    """``user`` is on call over [start, end) instead of whoever the layers say (or only
    instead of ``replaces``). Among overlapping overrides the latest created (highest id) wins."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    replaces = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["start", "id"]
        indexes = [models.Index(fields=["schedule", "end"], name="override_schedule_end")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="override_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.schedule} from {self.start:%Y-%m-%d %H:%M}"


class HandoffNotice(models.Model):
    """One "your shift starts soon" notice; the unique key makes sending idempotent."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    shift_start = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Why nothing was sent (e.g. the user has no email address); empty when sent.
    skipped_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "user", "shift_start"], name="handoff_notice_unique"
            )
        ]

    def __str__(self) -> str:
        return f"notice to {self.user} for {self.schedule} at {self.shift_start:%Y-%m-%d %H:%M}"


class Invitation(models.Model):
    """A person asked by email to join (a team, with a role). The emailed link carries a
    one-time token of which only the SHA-256 is kept here (core.tokens); resending mints a
    new one, so an older link stops working. oncall/invitations.py has the rules."""

    email = models.EmailField(max_length=254)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.RESPONDER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"invitation of {self.email}" + (f" to {self.team}" if self.team_id else "")

    def state_at(self, now) -> str:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if now >= self.expires_at:
            return "expired"
        return "pending"
