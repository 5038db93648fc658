"""Personal notification rules as plain values: which urgency an incident pages with, and
the steps one page of a person runs. Pure functions; incidents.notify.pages runs them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

HIGH = "high"
LOW = "low"
# Rules may wait at most this long after the page (a day).
MAX_DELAY_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class Rule:
    delay_seconds: int
    contact_method_id: int


def urgency(severity: str, high_urgency_severities: Iterable[str]) -> str:
    """High urgency for the service's listed severities, low for the rest."""
    return HIGH if severity in set(high_urgency_severities) else LOW


def steps(rules: Iterable[Rule], *, fallback_method_ids: Iterable[int] = ()) -> list[dict]:
    """The steps of one page: one per distinct delay, in order, each naming every method
    of that delay once: [{"delay_seconds": 0, "methods": [3, 7]}, ...]. No rules: every
    fallback method at once (a person who never set rules still gets paged)."""
    by_delay: dict[int, list[int]] = {}
    for rule in sorted(rules, key=lambda r: (r.delay_seconds, r.contact_method_id)):
        methods = by_delay.setdefault(rule.delay_seconds, [])
        if rule.contact_method_id not in methods:
            methods.append(rule.contact_method_id)
    if not by_delay:
        fallback = sorted(set(fallback_method_ids))
        return [{"delay_seconds": 0, "methods": fallback}] if fallback else []
    return [{"delay_seconds": delay, "methods": by_delay[delay]} for delay in sorted(by_delay)]
