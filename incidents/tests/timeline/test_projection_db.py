"""The timeline is append-only down to the database: even raw SQL cannot change it on
PostgreSQL (a trigger refuses), whatever code runs."""

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection, transaction

from incidents.models import IncidentEvent
from incidents.timeline import actions

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the append-only trigger is PostgreSQL's"
    ),
]


@pytest.fixture
def event(service):
    incident = actions.incident_create(
        service=service,
        title="Checkout down",
        severity="critical",
        at=datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
    )
    return incident.events.get()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE incidents_incidentevent SET kind = 'resolved' WHERE id = %s",
        "DELETE FROM incidents_incidentevent WHERE id = %s",
    ],
)
def test_raw_sql_cannot_change_the_timeline(event, statement):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [event.pk])
    assert IncidentEvent.objects.get(pk=event.pk).kind == "triggered"
