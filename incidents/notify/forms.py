"""Forms of the contact method, notification preference and notification rule pages. They
parse what a browser sends into the plain values incidents.notify.contacts and
rules_changes take; the rules live there."""

from __future__ import annotations

from django import forms

from incidents.models import Channel, Urgency
from incidents.notify.address import MAX_LENGTH
from incidents.notify.rules import MAX_DELAY_SECONDS


class ContactMethodForm(forms.Form):
    kind = forms.ChoiceField(choices=Channel.choices)
    address = forms.CharField(
        max_length=MAX_LENGTH,
        strip=False,
        help_text="An email address, an http(s) URL (e.g. a Slack incoming webhook), a phone "
        "number such as +4915112345678, a Slack user id, or an Apprise URL "
        "(discord://..., ntfys://ntfy.sh/topic, tgram://...).",
    )
    notify_escalations = forms.BooleanField(required=False, initial=True, label="Pages")
    notify_handoffs = forms.BooleanField(required=False, label="On-call handoffs")


class PreferencesForm(forms.Form):
    enabled = forms.BooleanField(required=False)
    notify_escalations = forms.BooleanField(required=False)
    notify_handoffs = forms.BooleanField(required=False)


class CodeForm(forms.Form):
    code = forms.CharField(max_length=20)


class NotificationRuleForm(forms.Form):
    """One rule, as the page's add form sends it: minutes, not seconds. `methods` are the
    user's own contact methods (the only ones offered; the service checks again)."""

    urgency = forms.ChoiceField(choices=Urgency.choices, widget=forms.HiddenInput)
    delay_minutes = forms.IntegerField(
        label="After (minutes)",
        min_value=0,
        max_value=MAX_DELAY_SECONDS // 60,
        initial=0,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    contact_method = forms.TypedChoiceField(label="Contact method", coerce=int)

    def __init__(self, *args, methods=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_method"].choices = [
            (m.pk, f"{m.get_kind_display()}: {m.address}") for m in methods
        ]


class TestPageForm(forms.Form):
    urgency = forms.ChoiceField(choices=Urgency.choices, initial=Urgency.HIGH)
