"""HTML forms: they parse what a browser sends. The rules (what may be done, which values
are acceptable) live in incidents.timeline.actions, which the views call with the parsed
values; a rule broken there comes back as an error on the field it names."""

from __future__ import annotations

from django import forms
from django.conf import settings

from incidents.alerts import Severity
from incidents.models import IncidentStatus

SEVERITY_CHOICES = [(s.value, s.value.capitalize()) for s in Severity]
STATUS_CHOICES = [("", "Any status"), ("open", "Open (not resolved)")] + [
    (s.value, s.label) for s in IncidentStatus
]
ORDERING_CHOICES = [
    ("-detected_at", "Newest first"),
    ("detected_at", "Oldest first"),
    ("severity", "Most severe first"),
    ("-updated_at", "Recently active"),
    ("status", "Status"),
]
_ZONE_HELP = f"Times in {settings.TIME_ZONE}, or ISO 8601 with an offset."


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self):
        super().__init__(format="%Y-%m-%dT%H:%M")


class IncidentFilterForm(forms.Form):
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)
    service = forms.ChoiceField(required=False)
    severity = forms.ChoiceField(choices=[("", "Any severity"), *SEVERITY_CHOICES], required=False)
    since = forms.DateTimeField(
        required=False, label="Detected from", widget=DateTimeLocalInput(), help_text=_ZONE_HELP
    )
    until = forms.DateTimeField(
        required=False, label="Detected before", widget=DateTimeLocalInput()
    )
    ordering = forms.ChoiceField(choices=ORDERING_CHOICES, required=False)

    def __init__(self, *args, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", "Any service")] + [
            (service.slug, service.name) for service in services
        ]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since >= until:
            self.add_error("until", "must be after 'Detected from'")
        return data


class ManualIncidentForm(forms.Form):
    service = forms.ModelChoiceField(queryset=None, empty_label=None)
    title = forms.CharField(max_length=1000)
    severity = forms.ChoiceField(choices=SEVERITY_CHOICES, initial=Severity.ERROR.value)
    impact_started_at = forms.DateTimeField(
        required=False,
        label="Impact started (optional)",
        widget=DateTimeLocalInput(),
        help_text=_ZONE_HELP,
    )
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 5}), help_text="Markdown."
    )

    def __init__(self, *args, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services


class ReasonForm(forms.Form):
    reason = forms.CharField(required=False)


class NoteForm(forms.Form):
    text = forms.CharField(required=False, strip=False)


class SeverityForm(forms.Form):
    severity = forms.ChoiceField(choices=SEVERITY_CHOICES)


class AssignForm(forms.Form):
    # Empty means "unassign".
    assignee = forms.IntegerField(required=False)


class ImpactStartForm(forms.Form):
    impact_started_at = forms.DateTimeField(widget=DateTimeLocalInput())
    reason = forms.CharField(required=False)
