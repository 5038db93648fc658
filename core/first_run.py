"""The first run: on a database with no user at all, the first visitor creates the first
administrator in the browser (`manage.py createsuperuser` does the same from a shell).

The page is open only while there is no user and no FIRST_ADMIN milestone; creating the
administrator inserts the milestone (its primary key is its name) in the same transaction,
so of two submissions racing, the database lets one through and the other is refused, and
the page stays closed afterwards even if every user were later deleted."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from core.accounts import account_errors
from core.audit import audit_record
from core.errors import FieldErrors
from core.models import Milestone


class FirstRunClosed(Exception):
    """The first administrator exists already."""


def first_run_open() -> bool:
    """True while nobody can sign in yet: no user and no first administrator ever made."""
    User = get_user_model()
    if User.objects.exists():
        return False
    return not Milestone.objects.filter(name=Milestone.FIRST_ADMIN).exists()


def _checked(*, username: str, email: str, password: str, password_again: str) -> dict:
    username, email = username.strip(), email.strip()
    errors = account_errors(
        username=username, email=email, password=password, password_again=password_again
    )
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = ["Enter an email address, e.g. you@example.com."]
    if errors:
        raise FieldErrors(errors)
    return {"username": username, "email": email}


def _create_admin(*, username: str, email: str, password: str):
    return get_user_model().objects.create_superuser(username, email=email, password=password)


def first_admin_create(*, username: str, email: str, password: str, password_again: str):
    """Create the first administrator (staff and superuser). Raises FieldErrors for bad
    input, FirstRunClosed when an administrator exists already (or another request made one
    while this one ran)."""
    clean = _checked(
        username=username, email=email, password=password, password_again=password_again
    )
    try:
        with transaction.atomic():
            # The milestone first: a concurrent transaction inserting the same primary key
            # waits here for this one, then fails, before it ever creates a user.
            Milestone.objects.create(name=Milestone.FIRST_ADMIN)
            if get_user_model().objects.exists():
                raise FirstRunClosed
            user = _create_admin(password=password, **clean)
            audit_record(
                actor=user,
                action="user.first_admin_created",
                obj=user,
                summary=f"First administrator {user.get_username()!r} created",
            )
    except IntegrityError as exc:
        raise FirstRunClosed from exc
    return user
