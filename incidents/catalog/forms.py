"""Forms of the integration pages. They turn what a browser sends into the plain values
incidents.catalog.changes takes; the rules live there (and in incidents.intake.routing), and
a rule broken there comes back as an error on the field it names."""

from __future__ import annotations

import re

from django import forms

from incidents.intake import sources
from incidents.models import SourceKind

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
