from django.db import migrations

# On PostgreSQL the database itself refuses to change the timeline, whatever code runs.
# 0011 replaces the function: it lets DELETE through inside timeline_removal() and refuses
# TRUNCATE outside it, and adds the same rules on SQLite.
FORBID = """
CREATE OR REPLACE FUNCTION incidents_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'incident events are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER incidents_event_append_only
    BEFORE UPDATE OR DELETE ON incidents_incidentevent
    FOR EACH ROW EXECUTE FUNCTION incidents_event_append_only();
"""
ALLOW = """
DROP TRIGGER IF EXISTS incidents_event_append_only ON incidents_incidentevent;
DROP FUNCTION IF EXISTS incidents_event_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORBID, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW, params=None)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
