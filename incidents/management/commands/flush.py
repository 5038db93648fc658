"""Django's `flush`, with its statements run inside `timeline_removal()`.

Flushing empties every table: DELETE on SQLite, TRUNCATE on PostgreSQL, both refused for
the incident events outside the one deliberate path (incidents/timeline/removal.py). The
test suite's transactional tests flush after each test (pytest-django calls this command),
so they go through here. Only the statements run inside the removal, not the confirmation
prompt: a flush waiting for "yes" holds no lock on the database.
"""

from __future__ import annotations

from django.core.management.commands import flush
from django.db import connections

from incidents.timeline.removal import timeline_removal


class Command(flush.Command):
    help = flush.Command.help + " Incident timelines are removed through timeline_removal()."

    def handle(self, **options):
        alias = options["database"]
        ops = connections[alias].ops
        execute_sql_flush = ops.execute_sql_flush

        def execute_within_removal(sql_list):
            with timeline_removal(using=alias):
                execute_sql_flush(sql_list)

        # Django's flush has no hook between the prompt and its statements; this
        # connection's operations run them, so they are wrapped for this command only.
        ops.execute_sql_flush = execute_within_removal
        try:
            super().handle(**options)
        finally:
            del ops.execute_sql_flush
