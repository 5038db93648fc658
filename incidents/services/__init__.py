"""Writes for the incidents app, one module per area. Import the module you need
(`from incidents.services import intake`); the names below are the common entry points."""

from incidents.services.actions import (
    InvalidInput,
    InvalidTransition,
    incident_acknowledge,
    incident_add_note,
    incident_assign,
    incident_correct_impact_start,
    incident_create,
    incident_reopen,
    incident_resolve,
    incident_set_severity,
    incident_unacknowledge,
)
from incidents.services.alerts import alerts_apply, heartbeats_check, integration_heartbeat
from incidents.services.intake import (
    deliveries_claim,
    deliveries_drain,
    deliveries_kick,
    deliveries_overdue,
    delivery_accept,
    delivery_process,
    delivery_retry,
    integration_create,
    integration_set_token,
    webhook_url,
)

__all__ = [
    "InvalidInput",
    "InvalidTransition",
    "alerts_apply",
    "deliveries_claim",
    "deliveries_drain",
    "deliveries_kick",
    "deliveries_overdue",
    "delivery_accept",
    "delivery_process",
    "delivery_retry",
    "heartbeats_check",
    "incident_acknowledge",
    "incident_add_note",
    "incident_assign",
    "incident_correct_impact_start",
    "incident_create",
    "incident_reopen",
    "incident_resolve",
    "incident_set_severity",
    "incident_unacknowledge",
    "integration_create",
    "integration_heartbeat",
    "integration_set_token",
    "webhook_url",
]
