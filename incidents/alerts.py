"""The one shape every alert source is parsed into. Pure: no Django imports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"
    # A source-side acknowledgement (PagerDuty Events v2 `acknowledge`).
    ACKNOWLEDGED = "acknowledged"
    # A sender's note on an alert (Opsgenie's "add note"): changes no state, only the timeline.
    NOTE = "note"


class Severity(StrEnum):
    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Link:
    href: str
    text: str = ""


@dataclass(frozen=True)
class AlertEvent:
    """One alert's state as a sender reported it in one delivery.

    `incident_key` groups alerts into one incident (Alertmanager's groupKey, PagerDuty's
    dedup_key); `fingerprint` names the alert inside that incident.
    """

    source: str
    incident_key: str
    fingerprint: str
    status: AlertStatus
    title: str
    severity: Severity = Severity.ERROR
    labels: dict[str, str] = field(default_factory=dict, hash=False, compare=True)
    annotations: dict[str, str] = field(default_factory=dict, hash=False, compare=True)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    links: tuple[Link, ...] = ()
    # Alertmanager's always-firing Watchdog: proves the pipeline is alive, never pages.
    heartbeat: bool = False
    # How many alerts the sender left out of this group's payload (Alertmanager max_alerts).
    group_truncated: int = 0
    # Text the sender attached (Opsgenie's `note`): a note on the incident's timeline.
    note: str = ""


class PayloadError(ValueError):
    """The payload cannot be turned into alert events; `errors` name each bad field."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors
