"""gunicorn settings that are code, not flags (`--config config/gunicorn_conf.py`, passed by
config.launch.web_server_args). Given as a file and importing nothing of the app: gunicorn
loads it in the arbiter, and the app's settings must first be read in a worker, after
gevent has patched the standard library (core.runtime.green decides the connection pool)."""


def on_starting(server):
    """Refuse `--preload` with gevent workers: the app, and its settings, would be loaded
    before gevent patches the standard library, so the connection pool and the shared
    webhook commit would silently be off and every request greenlet would hold its own
    PostgreSQL connection."""
    if server.cfg.preload_app and "gevent" in server.cfg.worker_class_str:
        raise SystemExit(
            "Pagerline: --preload cannot be used with gevent workers (see "
            "config.launch.web_server_args); start gunicorn without it"
        )


def post_request(worker, req, environ, resp):
    """In a gevent worker, let the other requests of this process run before this
    connection's next one is read.

    A greenlet gives the process up only when it would block, and a kept-alive client that
    sends its next request at once never blocks it: a few connections then take a whole
    process while the others wait (measured at c=32 on the bare view: p50 0.8 ms, p90 88
    ms, p99 215-650 ms; with this yield p99 34-57 ms at about the same throughput)."""
    if worker.__class__.__name__ == "GeventWorker":
        import gevent

        gevent.sleep(0)


def post_worker_init(worker):
    """Keep the app's long-lived objects, loaded by now, out of the garbage collector's
    full collections: they only ever stall every request a process has in hand."""
    import gc

    gc.freeze()
