"""Incidents models, one module per area; every model is importable from here."""

from incidents.models.escalation import (
    EscalationPolicy,
    EscalationState,
    EscalationStep,
    EscalationTarget,
    IncidentEscalation,
)
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
from incidents.models.maintenance import MaintenanceWindow
from incidents.models.notifications import (
    Channel,
    CircuitBreaker,
    ContactMethod,
    Notification,
    NotificationReason,
    NotificationStatus,
)

__all__ = [
    "OPEN_STATUSES",
    "Alert",
    "AlertDelivery",
    "AppendOnlyQuerySet",
    "Channel",
    "CircuitBreaker",
    "ContactMethod",
    "DeliveryStatus",
    "EscalationPolicy",
    "EscalationState",
    "EscalationStep",
    "EscalationTarget",
    "EventKind",
    "Incident",
    "IncidentEscalation",
    "IncidentEvent",
    "IncidentStatus",
    "Integration",
    "MaintenanceWindow",
    "Notification",
    "NotificationReason",
    "NotificationStatus",
    "RoutingRule",
    "Service",
    "SourceKind",
    "hash_token",
]
