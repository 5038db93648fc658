"""The rules of a new account, written once: the first administrator (core.first_run) and
an invited person (oncall.invitations) choose a username and a password the same way."""

from __future__ import annotations

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError


def account_errors(
    *, username: str, email: str, password: str, password_again: str, except_user=None
) -> dict[str, list[str]]:
    """What is wrong with this username and password, by field (empty when nothing): the
    username must be valid, at most the model's length and not taken (in any case); the
    password typed twice alike and pass Django's password validators."""
    User = get_user_model()
    errors: dict[str, list[str]] = {}
    longest = User._meta.get_field("username").max_length
    if not username:
        errors["username"] = ["Choose a username."]
    else:
        try:
            User.username_validator(username)
        except ValidationError as exc:
            errors["username"] = list(exc.messages)
        if len(username) > longest:
            errors.setdefault("username", []).append(f"At most {longest} characters.")
        elif (
            User.objects.filter(username__iexact=username)
            .exclude(pk=getattr(except_user, "pk", None))
            .exists()
        ):
            errors["username"] = [f"{username} is taken; choose another username."]
    if password != password_again:
        errors["password_again"] = ["The two passwords differ."]
    try:
        password_validation.validate_password(password, User(username=username, email=email))
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    return errors
