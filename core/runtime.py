"""What kind of process this is, for code that behaves differently under gevent (the
connection pool in config/settings.py, the shared webhook commit in
incidents.intake.group_commit). Kept in core so apps need not import config.
"""

from __future__ import annotations


def green() -> bool:
    """True in a process whose `threading` is gevent's (gunicorn's gevent workers patch the
    standard library before they load the app): there, threads are greenlets of one OS
    thread, so many requests are in hand at once and each holds Django's connections."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return monkey.is_module_patched("threading")
