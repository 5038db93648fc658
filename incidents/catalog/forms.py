"""Forms of the service and integration pages. They turn what a browser sends into the plain values
incidents.catalog.changes takes; the rules live there (and in incidents.intake.routing), and
a rule broken there comes back as an error on the field it names."""

from __future__ import annotations

import re
import secrets

from django import forms

from incidents.alerts import Severity
from incidents.intake import sources
from incidents.models import EscalationPolicy, SourceKind, default_high_urgency

# `label=value`, `label!=value`, `label=~regex`, `label!~regex`: Alertmanager's matcher syntax.
_MATCHER = re.compile(r"^\s*([^\s=!~]+)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


def matchers_from_text(text: str) -> tuple[list[dict], list[str]]:
    """One matcher per line; the errors name the line that could not be read."""
    matchers, errors = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        found = _MATCHER.match(line)
        if not found:
            errors.append(
                f"line {number}: expected label=value, label!=value, label=~regex or label!~regex"
            )
            continue
        label, op, value = found.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        matchers.append({"label": label, "op": op, "value": value})
    return matchers, errors


def matchers_text(matchers: list[dict]) -> str:
    return ", ".join(f"{m['label']}{m.get('op', '=')}{m['value']}" for m in matchers)


class IntegrationForm(forms.Form):
    source = forms.ChoiceField(
        label="Sender",
        choices=[(kind.value, kind.label) for kind in SourceKind if kind.value in sources.REGISTRY],
    )
    name = forms.CharField(
        max_length=200,
        required=False,
        help_text="Optional; e.g. “Prometheus production”. Default: the sender and service.",
    )
    # One per rendered form: the same form posted twice (a reload of the answer, which
    # cannot redirect because it shows the token once) creates one integration.
    submission = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission", secrets.token_urlsafe(16))


class RoutingRuleForm(forms.Form):
    matchers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        help_text="One per line, all must hold: severity=critical, team!=db, "
        "instance=~db-.* (regular expressions match the whole value).",
    )
    service = forms.ChoiceField(label="Send to service")
    position = forms.IntegerField(
        min_value=0,
        max_value=10_000,
        initial=0,
        help_text="Rules are tried from the lowest position; the first that matches wins.",
    )

    def __init__(self, *args, services: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [(s.slug, s.name) for s in services]

    def clean_matchers(self) -> list[dict]:
        # Only the syntax here: what a matcher may hold is checked by the service
        # (incidents.intake.routing.validate_matchers), whose errors land on this field.
        matchers, errors = matchers_from_text(self.cleaned_data["matchers"])
        if errors:
            raise forms.ValidationError(errors)
        return matchers


# The service form of the service pages. It only carries the input; every rule (slug, known
# severities, a Slack channel id, a policy of the service's own team) is
# incidents.catalog.changes', whose refusals land on these fields.

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


class NamedHeartbeatForm(forms.Form):
    """A named heartbeat of an Opsgenie integration (the same rules as `POST /v2/heartbeats`,
    incidents.intake.heartbeats.named_heartbeat_create)."""

    name = forms.CharField(
        max_length=200, help_text="The sender pings /v2/heartbeats/<name>/ping with its key."
    )
    interval_minutes = forms.IntegerField(
        label="Interval (minutes)",
        min_value=1,
        max_value=525_600,
        initial=10,
        help_text="No ping for longer than this opens a critical incident.",
    )


class NamedHeartbeatEditForm(forms.Form):
    """What of a named heartbeat changes (incidents.intake.heartbeats.named_heartbeat_update,
    as `PATCH /api/v1/heartbeats/<id>/`): its name stays, since senders ping by it."""

    interval_minutes = forms.IntegerField(
        label="Interval (minutes)",
        min_value=1,
        max_value=525_600,
        help_text="No ping for longer than this opens a critical incident.",
    )
    description = forms.CharField(
        label="Description",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What pings it, and what to check when it stops.",
    )
    enabled = forms.BooleanField(
        label="Watched",
        required=False,
        help_text="When not watched, no incident opens when pings stop (one already open "
        "stays open until resolved); pings are still recorded.",
    )
