"""Upgrades run `manage.py migrate` while the previous release still serves
(docs/operations.md, "Upgrades"), so a migration must leave a schema that release's code can
still use: no column it reads may go away or change type, and no column it does not know may
refuse its INSERTs. Migrations written before this rule that break it are listed here, and
in the docs, by name: an upgrade across one of them stops web and workers for the migration."""

from __future__ import annotations

from django.db import connection, migrations
from django.db.migrations.loader import MigrationLoader
from django.db.models import NOT_PROVIDED

# (app, migration, what) -- each adds a NOT NULL column without a database default.
BEFORE_THE_RULE = {
    ("incidents", "0003_integration_options_routing", "adds integration.options NOT NULL"),
    (
        "incidents",
        "0003_integration_options_routing",
        "adds integration.reopen_window_seconds NOT NULL",
    ),
    ("incidents", "0005_delivery_note", "adds alertdelivery.note NOT NULL"),
    ("incidents", "0006_incident_actions", "adds incident.description NOT NULL"),
    ("incidents", "0013_paging", "adds contactmethod.secret_target NOT NULL"),
    ("incidents", "0013_paging", "adds contactmethod.verify_attempts NOT NULL"),
    ("incidents", "0013_paging", "adds contactmethod.verify_code_hash NOT NULL"),
    ("incidents", "0013_paging", "adds notification.delivery_status NOT NULL"),
    ("incidents", "0013_paging", "adds notification.provider_id NOT NULL"),
    ("incidents", "0013_paging", "adds service.high_urgency_severities NOT NULL"),
    ("incidents", "0013_paging", "adds service.slack_channel NOT NULL"),
}
OURS = {"core", "oncall", "incidents", "metrics"}
GONE = (
    migrations.RemoveField,
    migrations.RenameField,
    migrations.DeleteModel,
    migrations.RenameModel,
)


def _problems(loader: MigrationLoader, key: tuple[str, str]) -> set[tuple[str, str, str]]:
    app, name = key
    migration = loader.disk_migrations[key]
    state = loader.project_state(key, at_end=False)  # just before this migration
    # Tables created here are new to the previous release: it reads and writes none of them.
    created = {
        op.name_lower for op in migration.operations if isinstance(op, migrations.CreateModel)
    }
    found = set()
    for operation in migration.operations:
        if getattr(operation, "model_name_lower", None) in created:
            operation.state_forwards(app, state)
            continue
        if isinstance(operation, GONE):
            found.add((app, name, f"{type(operation).__name__} {operation.describe()}"))
        elif isinstance(operation, migrations.AddField):
            field = operation.field
            if field.many_to_many or field.null or field.db_default is not NOT_PROVIDED:
                pass
            else:
                found.add((app, name, f"adds {operation.model_name}.{operation.name} NOT NULL"))
        elif isinstance(operation, migrations.AlterField):
            old = state.models[app, operation.model_name_lower].fields[operation.name]
            new = operation.field
            if old.null and not new.null:
                found.add((app, name, f"makes {operation.model_name}.{operation.name} NOT NULL"))
            # A relation's column follows its target's key: only plain columns are compared.
            plain = not (old.is_relation or new.is_relation)
            if plain and old.db_type(connection) != new.db_type(connection):
                found.add(
                    (app, name, f"changes the type of {operation.model_name}.{operation.name}")
                )
        operation.state_forwards(app, state)
    return found


def test_migrations_leave_a_schema_the_previous_release_can_use():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    found = set()
    for key in loader.disk_migrations:
        if key[0] in OURS:
            found |= _problems(loader, key)
    assert found - BEFORE_THE_RULE == set(), (
        "add NOT NULL columns with db_default (or nullable), and remove or rename in two "
        "releases: docs/operations.md, Upgrades"
    )
    assert found >= BEFORE_THE_RULE  # the list names what is there, no more
