"""Incidents models, one module per area; every model is importable from here."""

from incidents.models.incident import (
    OPEN_STATUSES,
    Alert,
    AppendOnlyQuerySet,
    EventKind,
    Incident,
    IncidentEvent,
    IncidentStatus,
)
from incidents.models.intake import (
    AlertDelivery,
    DeliveryStatus,
    Integration,
    RoutingRule,
    Service,
    SourceKind,
    hash_token,
)

__all__ = [
    "OPEN_STATUSES",
    "Alert",
    "AlertDelivery",
    "AppendOnlyQuerySet",
    "DeliveryStatus",
    "EventKind",
    "Incident",
    "IncidentEvent",
    "IncidentStatus",
    "Integration",
    "RoutingRule",
    "Service",
    "SourceKind",
    "hash_token",
]
