"""HTML forms: overrides on the schedule page and the user's own settings."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

from django import forms

from core.instants import EARLIEST, LATEST
from oncall.models import Role
from oncall.rotation.wallclock import to_utc

DATETIME_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class WallClockField(forms.CharField):
    """A wall-clock time from an <input type=datetime-local>, returned naive; the form turns it
    into an instant in the schedule's zone with the same DST rules as handoffs."""

    widget = DATETIME_LOCAL

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError("Enter a date and time like 2026-03-29 09:00.") from None
        if parsed.tzinfo is not None:
            raise forms.ValidationError("Enter a local time without a UTC offset.")
        if not EARLIEST.year <= parsed.year < LATEST.year:
            raise forms.ValidationError("Enter a time between 1970 and 2999.")
        return parsed


class OverrideForm(forms.Form):
    user = forms.ChoiceField(label="Who is on call")
    start = WallClockField(label="From")
    end = WallClockField(label="Until")
    replaces = forms.ChoiceField(
        label="Only instead of (optional)",
        required=False,
        help_text="Leave empty to cover whoever is on call.",
    )

    def __init__(self, *args, members: list, choosable: list, time_zone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.time_zone = time_zone
        self.members = {user.get_username(): user for user in members}
        self.fields["user"].choices = [(u.get_username(), u.get_username()) for u in choosable]
        self.fields["replaces"].choices = [("", "anyone")] + [
            (name, name) for name in sorted(self.members)
        ]
        self.fields["start"].help_text = f"Local time in {time_zone}."
        self.fields["end"].help_text = f"Local time in {time_zone}."

    def clean(self):
        data = super().clean()
        tz = ZoneInfo(self.time_zone)
        for key in ("start", "end"):
            if data.get(key) is not None:
                data[key] = to_utc(data[key], tz)
        data["user"] = self.members.get(data.get("user"))
        data["replaces"] = self.members.get(data.get("replaces") or "")
        return data


class ProfileForm(forms.Form):
    time_zone = forms.ChoiceField(label="Your time zone")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(z, z) for z in sorted(available_timezones())]


class InvitationForm(forms.Form):
    """Who to invite; the rules (who may invite to which team) are oncall.invitations'."""

    email = forms.CharField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    team = forms.ChoiceField(required=False)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.RESPONDER)

    def __init__(self, *args, teams, allow_no_team: bool, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(team.slug, team.name) for team in teams]
        if allow_no_team:
            choices.insert(0, ("", "— no team —"))
        self.fields["team"].choices = choices
