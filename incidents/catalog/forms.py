"""The service form of the service pages. It only carries the input; every rule (slug,
known severities, a Slack channel id, a policy of the service's own team) is
incidents.catalog.changes', whose refusals land on these fields."""

from __future__ import annotations

from django import forms

from incidents.alerts import Severity
from incidents.models import EscalationPolicy, default_high_urgency

SEVERITY_CHOICES = [(severity.value, severity.value.title()) for severity in Severity]


class ServiceForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200, required=False)
    slug = forms.CharField(
        label="Slug",
        max_length=50,
        required=False,
        help_text="Names the service in URLs, alerts' routing and the API; cannot change later.",
    )
    team = forms.ChoiceField(label="Owning team")
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    high_urgency_severities = forms.MultipleChoiceField(
        label="High-urgency severities",
        choices=SEVERITY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Incidents of these severities page with people's high-urgency rules; "
        "the others with their low-urgency rules.",
    )
    slack_channel = forms.CharField(
        label="Slack channel ID",
        max_length=64,
        required=False,
        help_text="Each new incident is posted there (e.g. C0123ABCD); leave empty for none.",
    )
    escalation_policy = forms.ChoiceField(
        label="Escalation policy",
        required=False,
        help_text="Whom to page when an incident triggers. Without one, nobody is paged.",
    )

    def __init__(self, *args, teams, service=None, **kwargs):
        """`teams`: those the user manages (a new service's owner is one of them); `service`:
        the one edited, whose slug and team stay as they are."""
        kwargs["initial"] = {
            "high_urgency_severities": default_high_urgency(),
            **kwargs.get("initial", {}),
        }
        super().__init__(*args, **kwargs)
        self.teams = {team.slug: team for team in teams}
        if service is not None:
            del self.fields["slug"]
            del self.fields["team"]
            team_ids = [service.team_id]
        else:
            self.fields["team"].choices = [(t.slug, t.name) for t in teams]
            team_ids = [t.pk for t in teams]
        policies = EscalationPolicy.objects.filter(team_id__in=team_ids).select_related("team")
        several = len(team_ids) > 1
        self.fields["escalation_policy"].choices = [("", "none: nobody is paged")] + [
            (str(p.pk), f"{p.name} ({p.team.name})" if several else p.name)
            for p in policies.order_by("team__name", "name", "pk")
        ]

    def values(self) -> dict:
        """The cleaned input as catalog.changes takes it."""
        data = self.cleaned_data
        policy = data.get("escalation_policy")
        values = {
            "name": data["name"],
            "description": data["description"],
            "high_urgency_severities": list(data["high_urgency_severities"]),
            "slack_channel": data["slack_channel"].strip(),
            "escalation_policy_id": int(policy) if policy else None,
        }
        if "slug" in self.fields:
            values["slug"] = data["slug"].strip()
            values["team"] = self.teams[data["team"]]
        return values
