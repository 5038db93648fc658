"""Forms of the contact method and notification preference pages. They parse what a
browser sends into the plain values incidents.notify.contacts takes; the rules live there."""

from __future__ import annotations

from django import forms

from incidents.models import Channel
from incidents.notify.address import MAX_LENGTH


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
