"""Liveness and readiness probes for load balancers and the launcher."""

from __future__ import annotations

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET


@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


# How long /readyz waits for a database connection before it answers 503.
_DATABASE_WAIT_SECONDS = 2.0


def _database_check() -> None:
    """SELECT 1 on the default database. A pooled process (gevent web workers) would wait
    the pool's timeout (10 s) for a connection while the server is down, and a probe would
    time out instead of reading "database unreachable": it waits 2 s at most."""
    pool = connection.pool if connection.vendor == "postgresql" else None
    if pool is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return
    pool.open()  # as Django does on first use; nothing if open already
    with pool.connection(timeout=_DATABASE_WAIT_SECONDS) as conn:  # checked before use
        conn.execute("SELECT 1")


@require_GET
def readyz(request):
    failed = {}
    try:
        _database_check()
    except Exception as exc:
        failed["database"] = type(exc).__name__
    try:
        from config.celery import app

        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        failed["broker"] = type(exc).__name__
    if failed:
        detail = ", ".join(f"{name} unreachable ({error})" for name, error in failed.items())
        return JsonResponse(
            {"status": "unavailable", "message": detail, "failed": failed}, status=503
        )
    return JsonResponse({"status": "ready"})


@csrf_exempt
def bench_bare(request):
    """The floor for bench/ingest.py: Django's full middleware stack, no I/O, a 202."""
    return JsonResponse({"status": "accepted"}, status=202)
