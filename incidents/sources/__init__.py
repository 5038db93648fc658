"""Alert source registry: one pure module per sender, each with validate() and parse()."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from incidents.alerts import AlertEvent
from incidents.sources import alertmanager


@dataclass(frozen=True)
class Source:
    name: str
    validate: Callable[[object], list[str]]
    parse: Callable[[object], list[AlertEvent]]


REGISTRY: dict[str, Source] = {
    alertmanager.SOURCE: Source(alertmanager.SOURCE, alertmanager.validate, alertmanager.parse),
}


def get(name: str) -> Source:
    return REGISTRY[name]
