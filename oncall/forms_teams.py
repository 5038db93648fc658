"""HTML forms of the team pages. They only carry the input; the rules (slug format, a team
keeps a manager, a user is added once) are oncall.teams', whose refusals land on these
forms' fields."""

from __future__ import annotations

from zoneinfo import available_timezones

from django import forms

from oncall.models import Role

ROLE_CHOICES = [(role.value, role.label) for role in Role]
ROLE_HELP = (
    "Viewers read; responders also acknowledge, resolve and are paged; managers also change "
    "the team's configuration and members."
)


class TeamForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200, required=False)
    slug = forms.CharField(
        label="Slug",
        max_length=50,
        required=False,
        help_text="Names the team in URLs and the API: lowercase letters, digits, hyphens.",
    )
    time_zone = forms.ChoiceField(label="Time zone", help_text="Weekly reports are counted in it.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(z, z) for z in sorted(available_timezones())]


TIME_ZONE_EFFECTS = (
    "The team's weeks run Monday to Sunday in it: its weekly statistics and reports are "
    "counted in it (past weeks are recounted in the new zone), and the weekly report is due "
    "on Monday at 06:00 in it; members who set no time zone of their own see the report's "
    "hours in it. Schedules keep their own time zones."
)


class TeamSettingsForm(TeamForm):
    """A team's name and time zone (oncall.teams.team_update); its slug stays."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["slug"]
        self.fields["time_zone"].help_text = TIME_ZONE_EFFECTS


class MemberAddForm(forms.Form):
    user = forms.CharField(
        label="Username or email",
        max_length=254,
        required=False,
        help_text="Of someone who already has an account.",
    )
    role = forms.ChoiceField(label="Role", choices=ROLE_CHOICES, initial=Role.RESPONDER)
