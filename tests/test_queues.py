"""Messages to people travel on a queue of their own, which a worker started without -Q
consumes along with the default one: a page's message never waits behind a backlog of
escalations (bench/paging.py measured 800 s of it in one FIFO queue). The worker tests
(e.g. incidents/tests/notify/test_bundling.py) show real workers consuming both."""

from django.conf import settings

from config.celery import app
from incidents import task_names


def test_messages_to_people_go_on_their_own_queue():
    queue = app.amqp.router.route({}, task_names.SEND_NOTIFICATION)["queue"]
    assert queue.name == settings.PAGERLINE_NOTIFY_QUEUE != settings.CELERY_TASK_DEFAULT_QUEUE
    everything_else = app.amqp.router.route({}, task_names.ESCALATE_MANY)["queue"]
    assert everything_else.name == settings.CELERY_TASK_DEFAULT_QUEUE


def test_a_worker_consumes_both_and_each_gets_only_its_own_messages():
    default, notify = settings.CELERY_TASK_DEFAULT_QUEUE, settings.PAGERLINE_NOTIFY_QUEUE
    # (Other tests declare queues of their own on the app; these two are the configured ones.)
    queues = {
        name: (app.amqp.queues[name].exchange.name, app.amqp.queues[name].routing_key)
        for name in (default, notify)
    }
    # Bound by their own names: a message published for one is never copied to the other.
    assert queues == {default: (default, default), notify: (notify, notify)}
