"""Writes for the incidents app, one module per area. Import the module you need
(`from incidents.services import intake`); the names below are the common entry points."""

from incidents.services.actions import (
    InvalidTransition,
    incident_acknowledge,
    incident_resolve,
)
from incidents.services.intake import (
    alerts_apply,
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
    "InvalidTransition",
    "alerts_apply",
    "deliveries_claim",
    "deliveries_drain",
    "deliveries_kick",
    "deliveries_overdue",
    "delivery_accept",
    "delivery_process",
    "delivery_retry",
    "incident_acknowledge",
    "incident_resolve",
    "integration_create",
    "integration_set_token",
    "webhook_url",
]
