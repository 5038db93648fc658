"""The timeline is append-only in the database on SQLite too, with one way to remove events.

Both databases refuse every UPDATE of an incident event, and every DELETE (on PostgreSQL
also TRUNCATE) unless the transaction holds a row in `incidents_timeline_removal`, which
only `incidents.timeline.removal.timeline_removal()` writes (and removes again before its
transaction ends, so no other transaction ever sees one). SQLite's triggers belong to the
table: a later migration that rebuilds `incidents_incidentevent` on SQLite must create them
again (incidents/tests/timeline/test_append_only.py checks that they exist).
"""

from django.db import migrations

GUARD = "CREATE TABLE incidents_timeline_removal (token varchar(32) PRIMARY KEY)"
DROP_GUARD = "DROP TABLE incidents_timeline_removal"

SQLITE_FORBID = [
    """
    CREATE TRIGGER incidents_event_no_update
    BEFORE UPDATE ON incidents_incidentevent
    BEGIN
        SELECT RAISE(ABORT, 'incident events are append-only (UPDATE refused)');
    END
    """,
    """
    CREATE TRIGGER incidents_event_no_delete
    BEFORE DELETE ON incidents_incidentevent
    WHEN NOT EXISTS (SELECT 1 FROM incidents_timeline_removal)
    BEGIN
        SELECT RAISE(ABORT, 'incident events are append-only (DELETE refused outside timeline_removal())');
    END
    """,
]
SQLITE_ALLOW = [
    "DROP TRIGGER incidents_event_no_delete",
    "DROP TRIGGER incidents_event_no_update",
]

# The function of 0002 keeps its name and its row trigger; it now lets a removal through.
# RETURN OLD lets a row's DELETE proceed; a statement trigger (TRUNCATE) ignores it.
POSTGRESQL_FORBID = [
    """
    CREATE OR REPLACE FUNCTION incidents_event_append_only() RETURNS trigger AS $$
    BEGIN
        IF TG_OP <> 'UPDATE' AND EXISTS (SELECT 1 FROM incidents_timeline_removal) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'incident events are append-only (% refused%)', TG_OP,
            CASE WHEN TG_OP = 'UPDATE' THEN '' ELSE ' outside timeline_removal()' END;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER incidents_event_no_truncate
        BEFORE TRUNCATE ON incidents_incidentevent
        FOR EACH STATEMENT EXECUTE FUNCTION incidents_event_append_only()
    """,
]
POSTGRESQL_ALLOW = [
    "DROP TRIGGER incidents_event_no_truncate ON incidents_incidentevent",
    # The function as 0002 created it.
    """
    CREATE OR REPLACE FUNCTION incidents_event_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'incident events are append-only (% refused)', TG_OP;
    END;
    $$ LANGUAGE plpgsql
    """,
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE_FORBID, "postgresql": POSTGRESQL_FORBID}.get(vendor, [])
    for statement in [GUARD, *statements]:
        schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE_ALLOW, "postgresql": POSTGRESQL_ALLOW}.get(vendor, [])
    for statement in [*statements, DROP_GUARD]:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0010_incident_key_resolved_idx")]

    operations = [
        migrations.RunPython(forward, backward),
    ]
