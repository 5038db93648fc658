"""Forms of the account pages (first administrator, accepting an invitation). They only read
what the browser sends; the rules (Django's password validators, username syntax) are in
the services, whose FieldErrors come back onto these fields."""

from __future__ import annotations

from django import forms


class _PasswordTwice(forms.Form):
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False
    )
    password_again = forms.CharField(
        label="Password again",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )


class FirstAdminForm(_PasswordTwice):
    field_order = ["username", "email", "password", "password_again"]
    username = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    email = forms.CharField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class AcceptInvitationForm(_PasswordTwice):
    field_order = ["username", "password", "password_again"]
    username = forms.CharField(
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
        help_text="What you sign in with.",
    )
