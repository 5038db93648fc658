"""Celery tasks: thin wrappers that take ids (or nothing) and call services."""

from celery import shared_task

from incidents import services


@shared_task(name="incidents.drain_deliveries", ignore_result=True)
def drain_deliveries() -> int:
    return services.deliveries_drain()


@shared_task(name="incidents.redrive_deliveries", ignore_result=True)
def redrive_deliveries() -> int:
    """Beat safety net: drain if a delivery waited too long (lost kick, killed worker)."""
    if services.deliveries_overdue():
        return services.deliveries_drain()
    return 0
