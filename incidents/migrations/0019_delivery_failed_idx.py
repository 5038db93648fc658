"""A partial index of failed deliveries, for /metrics. On PostgreSQL it is built
CONCURRENTLY: the deliveries table is large and takes webhooks all the time, and a plain
CREATE INDEX would hold their inserts for as long as it reads the table."""

from django.db import migrations, models

INDEX = models.Index(fields=["id"], name="delivery_failed_idx", condition=models.Q(status="failed"))


def create(apps, schema_editor):
    model = apps.get_model("incidents", "AlertDelivery")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(model, INDEX, concurrently=True)
    else:
        schema_editor.add_index(model, INDEX)


def drop(apps, schema_editor):
    model = apps.get_model("incidents", "AlertDelivery")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(model, INDEX, concurrently=True)
    else:
        schema_editor.remove_index(model, INDEX)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("incidents", "0018_counter_totals"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="alertdelivery", index=INDEX)],
            database_operations=[migrations.RunPython(create, drop)],
        ),
    ]
