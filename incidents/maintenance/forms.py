"""The maintenance window form: local date-times in the user's zone in, aware UTC
instants out; the rules (ends after starts, services of the team) are
incidents.maintenance.windows'."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from incidents.models import Service

_LOCAL = "%Y-%m-%dT%H:%M"


class MaintenanceForm(forms.Form):
    team = forms.ModelChoiceField(queryset=None)
    services = forms.ModelMultipleChoiceField(queryset=None, widget=forms.CheckboxSelectMultiple)
    starts_at = forms.DateTimeField(
        input_formats=[_LOCAL], widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        input_formats=[_LOCAL], widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reason = forms.CharField(max_length=500)

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["services"].queryset = Service.objects.filter(team__in=teams).select_related(
            "team"
        )
        self.fields["services"].label_from_instance = lambda s: f"{s.name} ({s.team.name})"

    def clean(self):
        data = super().clean()
        team = data.get("team")
        if team is not None:
            # Times are typed in the team's own zone; storage is UTC.
            zone = ZoneInfo(team.time_zone)
            for name in ("starts_at", "ends_at"):
                if data.get(name):
                    data[name] = data[name].replace(tzinfo=None).replace(tzinfo=zone)
        return data


def _initial(teams) -> dict:
    first = teams[0] if teams else None
    zone = ZoneInfo(first.time_zone) if first else ZoneInfo("UTC")
    start = timezone.now().astimezone(zone).replace(second=0, microsecond=0)
    return {
        "team": first,
        "starts_at": start.strftime(_LOCAL),
        "ends_at": (start + timedelta(hours=1)).strftime(_LOCAL),
    }
