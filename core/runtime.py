"""Read settings from the environment, failing loudly at start-up on bad values.

Each helper raises ImproperlyConfigured naming the variable, so a typo in a
deployment shows up as one clear line instead of a surprise at 3 a.m.
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
