"""Django's database sessions, refusing session keys Django never makes.

Django's keys are 32 lowercase letters and digits; it only checks a cookie's key for
length before looking it up. A key with a NUL byte then made PostgreSQL refuse the query
(a 500 instead of a login page). A key of any other shape is treated as no session.
"""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key):
        return super()._validate_session_key(key) and key.isascii() and key.isalnum()
