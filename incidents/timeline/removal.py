"""The one deliberate way to remove incident events, the same on SQLite and PostgreSQL.

The timeline is append-only down to the database (migrations 0002 and 0011): a trigger
refuses every UPDATE of an event, and every DELETE (on PostgreSQL also TRUNCATE) unless
the transaction holds a row in `incidents_timeline_removal`. `timeline_removal()` writes
that row when its block starts and deletes it when the block ends, inside one transaction:
other transactions never see it, and if the block fails the rollback takes it away too.

The test suite's flushes come through here (incidents/management/commands/flush.py), and
so will retention. Tested in incidents/tests/timeline/test_append_only.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction


@contextmanager
def timeline_removal(*, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Within this block (one transaction), events may be deleted; updates stay refused."""
    # A token per block, so a nested block's end does not close the outer one's removal.
    token = secrets.token_hex(16)
    connection = connections[using]
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO incidents_timeline_removal (token) VALUES (%s)", [token])
        yield
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM incidents_timeline_removal WHERE token = %s", [token])
