"""Reads for the integration pages: a service's integrations, and an integration's recent
deliveries with what their body parses into."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db.models import Max, QuerySet

from incidents.alerts import PayloadError
from incidents.intake import sources
from incidents.models import AlertDelivery, Integration, RoutingRule, Service

RECENT_DELIVERIES = 50
# Bodies larger than this are not parsed again for the page (the worker parsed them).
SUMMARY_MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class DeliveryRow:
    delivery: AlertDelivery
    # "2 alerts: firing HighCPU; resolved DiskFull", or why the body did not parse.
    parsed: str
    parse_failed: bool
    test: bool


def service_integrations(service: Service) -> QuerySet[Integration]:
    return service.integrations.annotate(last_received=Max("deliveries__received_at")).order_by(
        "name", "pk"
    )


def integration_routing_rules(integration: Integration) -> QuerySet[RoutingRule]:
    return integration.routing_rules.select_related("service")


def integration_deliveries(integration: Integration) -> QuerySet[AlertDelivery]:
    """Newest first, in a stable order (the API pages it)."""
    return AlertDelivery.objects.filter(integration=integration).order_by("-received_at", "-pk")


def delivery_rows(integration: Integration, deliveries) -> list[DeliveryRow]:
    """Each delivery with its parse result (parsed again from the stored body, with the
    source's pure parser) or the error that stopped it."""
    return [_row(integration, delivery) for delivery in deliveries]


def recent_deliveries(
    integration: Integration, limit: int = RECENT_DELIVERIES
) -> list[DeliveryRow]:
    return delivery_rows(integration, integration_deliveries(integration)[:limit])


def _row(integration: Integration, delivery: AlertDelivery) -> DeliveryRow:
    if len(delivery.body) > SUMMARY_MAX_BYTES:
        return DeliveryRow(delivery, "body too large to summarise here", False, False)
    try:
        payload = json.loads(delivery.body)
        events = sources.get(integration.source).parse(payload, integration.options)
    except PayloadError as exc:
        return DeliveryRow(delivery, "; ".join(exc.errors), True, False)
    except (ValueError, KeyError) as exc:
        return DeliveryRow(delivery, str(exc), True, False)
    test = any(e.title.startswith("[TEST]") for e in events)
    if not events:
        return DeliveryRow(delivery, "no alerts", False, test)
    described = "; ".join(f"{e.status.value} {e.title}" for e in events[:3])
    more = f" (and {len(events) - 3} more)" if len(events) > 3 else ""
    count = f"{len(events)} alert{'s' if len(events) != 1 else ''}"
    return DeliveryRow(delivery, f"{count}: {described}{more}", False, test)
