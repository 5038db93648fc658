"""A user named in a timeline is deactivated, never deleted: `actor` becomes PROTECT, so
Django refuses before the database would (SET_NULL meant an UPDATE of the events, which the
triggers of 0002 and 0011 refuse). No SQL on either database: on_delete and names live in
Django's model state, so SQLite does not rebuild the table and its triggers stay."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0011_timeline_removal"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="incidentevent",
            options={
                "ordering": ["incident_id", "seq"],
                "verbose_name": "incident timeline entry",
                "verbose_name_plural": "incident timeline entries",
            },
        ),
        migrations.AlterField(
            model_name="incidentevent",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
