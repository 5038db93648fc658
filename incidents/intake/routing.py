"""Routing rules: which service an alert belongs to. Pure: plain values in and out."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

from core.text import NUL_MESSAGE, has_nul

OPERATORS = ("=", "!=", "=~", "!~")


class InvalidMatcher(ValueError):
    pass


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern:
    # Anchored like Alertmanager's matchers: `=~ "db.*"` must match the whole value.
    return re.compile(f"(?:{pattern})\\Z")


def validate_matchers(matchers: object) -> list[str]:
    """Field errors for a rule's matchers (used by forms and the API).

    Takes any JSON value and never raises: a label, op or value of the wrong type (a number,
    an object, a list...) is named like any other bad matcher, so the API answers 400."""
    if not isinstance(matchers, list) or not matchers:
        return ["matchers: expected a non-empty list"]
    errors = []
    for index, matcher in enumerate(matchers):
        where = f"matchers[{index}]"
        if not isinstance(matcher, dict):
            errors.append(f"{where}: expected an object")
            continue
        if has_nul(matcher):  # no database stores it in text or JSON
            errors.append(f"{where}: {NUL_MESSAGE}")
        label, op, value = matcher.get("label"), matcher.get("op", "="), matcher.get("value")
        if not isinstance(label, str) or not label:
            errors.append(f"{where}.label: expected a label name")
        # Only a string is compared with the operators: an object or a list is unhashable.
        if not isinstance(op, str) or op not in OPERATORS:
            errors.append(f"{where}.op: expected one of {', '.join(OPERATORS)}")
        if not isinstance(value, str):
            errors.append(f"{where}.value: expected a string")
        elif op in ("=~", "!~"):
            try:
                _regex(value)
            except (re.error, OverflowError, RecursionError) as exc:
                # OverflowError: a repeat count too large; RecursionError: nesting too deep.
                errors.append(f"{where}.value: invalid regular expression ({exc})")
    return errors


def matches(matchers: Sequence[Mapping], labels: Mapping[str, str]) -> bool:
    """True when every matcher holds for the labels (a missing label counts as "")."""
    for matcher in matchers:
        value = labels.get(matcher["label"], "")
        op = matcher.get("op", "=")
        expected = matcher["value"]
        if op == "=":
            ok = value == expected
        elif op == "!=":
            ok = value != expected
        elif op == "=~":
            ok = _regex(expected).match(value) is not None
        elif op == "!~":
            ok = _regex(expected).match(value) is None
        else:
            raise InvalidMatcher(f"unknown operator {op!r}")
        if not ok:
            return False
    return True


def route(rules: Sequence[tuple[Sequence[Mapping], int]], labels: Mapping[str, str]) -> int | None:
    """The service id of the first rule (in order) whose matchers all hold, else None."""
    for matchers, service_id in rules:
        if matches(matchers, labels):
            return service_id
    return None
