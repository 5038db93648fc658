"""The timeline is append-only down to the database on SQLite and PostgreSQL alike: even raw
SQL cannot change or delete an event, whatever code runs. Deliberate removals (the test
suite's flushes, later retention) go through one path, `timeline_removal()`."""

import threading
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.color import no_style
from django.core.management.sql import sql_flush
from django.db import DatabaseError, connection, connections, transaction

from incidents.models import IncidentEvent
from incidents.timeline import actions
from incidents.timeline.removal import timeline_removal

pytestmark = pytest.mark.django_db

UPDATE = "UPDATE incidents_incidentevent SET kind = 'resolved' WHERE id = %s"
DELETE = "DELETE FROM incidents_incidentevent WHERE id = %s"
# The triggers each database must have once every migration has run (0002 and 0011).
TRIGGERS = {
    "sqlite": {"incidents_event_no_update", "incidents_event_no_delete"},
    "postgresql": {"incidents_event_append_only", "incidents_event_no_truncate"},
}
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="TRUNCATE and concurrent writers: PostgreSQL"
)


def _open(service, title="Checkout down") -> IncidentEvent:
    incident = actions.incident_create(
        service=service,
        title=title,
        severity="critical",
        at=datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
    )
    return incident.events.get()


@pytest.fixture
def event(service):
    return _open(service)


def _execute(statement: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _removals_open() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM incidents_timeline_removal")
        return cursor.fetchone()[0]


def test_the_triggers_exist_after_all_migrations():
    # The test database is built by running every migration: a later one that rebuilt the
    # events table on SQLite (which drops its triggers) without creating them again fails here.
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master"
                " WHERE type = 'trigger' AND tbl_name = 'incidents_incidentevent'"
            )
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger"
                " WHERE tgrelid = 'incidents_incidentevent'::regclass AND NOT tgisinternal"
            )
        assert {name for (name,) in cursor.fetchall()} == TRIGGERS[connection.vendor]


@pytest.mark.parametrize("statement", [UPDATE, DELETE], ids=["update", "delete"])
def test_raw_sql_cannot_change_the_timeline(event, statement):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _execute(statement, event.pk)
    assert IncidentEvent.objects.get(pk=event.pk).kind == "triggered"


def test_it_deletes_events_within_a_timeline_removal(event):
    with timeline_removal():
        _execute(DELETE, event.pk)
    assert not IncidentEvent.objects.filter(pk=event.pk).exists()
    assert _removals_open() == 0


def test_it_refuses_updates_even_within_a_timeline_removal(event):
    with pytest.raises(DatabaseError, match="UPDATE refused"), timeline_removal():
        _execute(UPDATE, event.pk)
    assert IncidentEvent.objects.get(pk=event.pk).kind == "triggered"


def test_it_refuses_deletes_again_once_the_removal_ends(event):
    with timeline_removal():
        pass
    with pytest.raises(DatabaseError, match="DELETE refused"), transaction.atomic():
        _execute(DELETE, event.pk)
    assert IncidentEvent.objects.filter(pk=event.pk).exists()


def test_a_removal_that_fails_leaves_nothing_open(event):
    with pytest.raises(RuntimeError), timeline_removal():
        _execute(DELETE, event.pk)
        raise RuntimeError("retention gave up")
    assert IncidentEvent.objects.filter(pk=event.pk).exists()  # rolled back
    assert _removals_open() == 0


def test_a_nested_removal_leaves_the_outer_one_open(service):
    first, second = _open(service, "one"), _open(service, "two")
    with timeline_removal():
        with timeline_removal():
            _execute(DELETE, first.pk)
        _execute(DELETE, second.pk)
    assert not IncidentEvent.objects.filter(pk__in=[first.pk, second.pk]).exists()
    assert _removals_open() == 0


@postgresql_only
def test_truncate_needs_a_timeline_removal_too(transactional_db, service):
    # Committed first: PostgreSQL refuses to TRUNCATE a table its own transaction just wrote.
    _open(service)
    with pytest.raises(DatabaseError, match="TRUNCATE refused"), transaction.atomic():
        _execute("TRUNCATE incidents_incidentevent")
    with timeline_removal():
        _execute("TRUNCATE incidents_incidentevent")
    assert not IncidentEvent.objects.exists()


@postgresql_only
def test_another_transaction_never_sees_a_removal(transactional_db, service):
    mine, theirs = _open(service, "one"), _open(service, "two")
    errors = []

    def delete_theirs():
        try:
            with transaction.atomic():
                _execute(DELETE, theirs.pk)
        except DatabaseError as error:
            errors.append(error)
        finally:
            connections.close_all()

    with timeline_removal():
        _execute(DELETE, mine.pk)
        other = threading.Thread(target=delete_theirs)
        other.start()
        other.join()
    assert len(errors) == 1 and "append-only" in str(errors[0])
    assert list(IncidentEvent.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_flush_removes_the_timelines_through_the_removal(transactional_db, service):
    _open(service)
    call_command("flush", interactive=False, verbosity=0)
    assert not IncidentEvent.objects.exists()
    assert _removals_open() == 0


def test_a_flush_outside_the_removal_is_refused(transactional_db, service):
    event = _open(service)
    statements = sql_flush(no_style(), connection)
    with pytest.raises(DatabaseError, match="append-only"):
        connection.ops.execute_sql_flush(statements)
    assert IncidentEvent.objects.filter(pk=event.pk).exists()


def test_the_admin_offers_no_incident_deletion(admin_client, event):
    # Deleting an incident deletes its timeline: the database would refuse.
    url = f"/admin/incidents/incident/{event.incident_id}/delete/"
    assert admin_client.get(url).status_code == 403
