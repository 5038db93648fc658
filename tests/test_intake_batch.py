"""Group commit of webhook inserts (incidents.intake.group_commit), as gevent web workers
use it: requests answered at the same moment share one transaction, each still gets its
own delivery id only after the commit, and one bad row or a dropped connection loses
nothing else."""

import json
import logging
import threading
from datetime import UTC, datetime

import pytest
import requests
from django.db import DatabaseError, connection

from incidents.catalog import changes
from incidents.intake import group_commit, store
from incidents.models import AlertDelivery, hash_token
from tests.support import am_alert, am_payload, other_connection

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the batching is PostgreSQL's (gevent workers)"
    ),
    pytest.mark.django_db(transaction=True),
]

RECEIVED = datetime(2026, 11, 26, 21, 0, tzinfo=UTC)


@pytest.fixture
def batching(monkeypatch):
    """delivery_accept goes through the committer, as in a gevent worker (here the
    requests are real threads)."""
    monkeypatch.setattr(group_commit, "wanted", lambda: True)
    yield
    group_commit.stop_all()


def _accept_all(calls):
    """Run each delivery_accept call in its own thread, released together; results in order."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, kwargs):
        barrier.wait()
        try:
            outcomes[index] = store.delivery_accept(received_at=RECEIVED, **kwargs)
        except Exception as exc:
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    return threads, outcomes


def _commits_of(ids):
    """How many transactions stored these deliveries (rows of one transaction share xmin)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(DISTINCT xmin::text) FROM incidents_alertdelivery WHERE id = ANY(%s)",
            [list(ids)],
        )
        return cursor.fetchone()[0]


def test_requests_waiting_together_share_one_commit_and_each_gets_its_own_id(batching, integration):
    _, token = integration
    assert store.delivery_accept(
        source="alertmanager", token=token, body='{"n": -1}', received_at=RECEIVED
    )  # the committer is connected and idle
    with other_connection() as locker, locker.transaction():
        # Hold the committer's next insert, so that every request below waits for it.
        locker.execute("LOCK TABLE incidents_alertdelivery IN EXCLUSIVE MODE")
        calls = [
            {"source": "alertmanager", "token": token, "body": json.dumps({"n": n})}
            for n in range(30)
        ]
        calls.append({"source": "alertmanager", "token": "not-a-token", "body": "{}"})
        threads, outcomes = _accept_all(calls)
        # Nobody is answered before the commit: all are still waiting behind the lock.
        threads[0].join(timeout=0.5)
        assert all(thread.is_alive() for thread in threads)
    for thread in threads:
        thread.join(timeout=30)

    ids, unknown = outcomes[:-1], outcomes[-1]
    assert unknown is None  # no such integration: nothing stored, the others unaffected
    assert all(isinstance(delivery_id, int) for delivery_id in ids), ids
    assert len(set(ids)) == 30
    stored = dict(AlertDelivery.objects.filter(id__in=ids).values_list("id", "body"))
    assert [json.loads(stored[delivery_id])["n"] for delivery_id in ids] == list(range(30))
    # At most two commits: the batch the committer had taken when it met the lock, and
    # everything that queued behind it.
    assert _commits_of(ids) <= 2
    assert AlertDelivery.objects.count() == 31


def test_each_row_of_a_statement_gets_the_id_of_its_own_delivery(service, integration):
    _, am_token = integration
    _, pd_token = changes.integration_create(service=service, source="pagerduty")
    given = [
        ("alertmanager", am_token, "first"),
        ("alertmanager", "unknown", "no such token"),
        ("pagerduty", am_token, "right token, wrong source"),
        ("pagerduty", pd_token, "second"),
        ("alertmanager", am_token, "third"),
    ]
    rows = [
        group_commit.Row(hash_token(token), source, RECEIVED, body) for source, token, body in given
    ]
    committer = group_commit.Committer(connection.alias)
    try:
        ids = committer._insert_together(rows)
    finally:
        committer.stop()

    assert [delivery_id is None for delivery_id in ids] == [False, True, True, False, False]
    stored = dict(AlertDelivery.objects.values_list("id", "body"))
    assert [stored.get(delivery_id) for delivery_id in ids] == [
        "first",
        None,
        None,
        "second",
        "third",
    ]
    assert AlertDelivery.objects.get(body="second").integration.source == "pagerduty"


def test_a_row_that_fails_fails_alone(batching, integration, caplog):
    _, token = integration
    store.delivery_accept(source="alertmanager", token=token, body="{}", received_at=RECEIVED)
    with other_connection() as locker, locker.transaction():
        locker.execute("LOCK TABLE incidents_alertdelivery IN EXCLUSIVE MODE")
        bodies = ['{"n": 1}', '{"n": 2}', "NUL \x00 cannot be stored", '{"n": 4}', '{"n": 5}']
        calls = [{"source": "alertmanager", "token": token, "body": body} for body in bodies]
        with caplog.at_level(logging.ERROR, logger="incidents.intake.group_commit"):
            threads, outcomes = _accept_all(calls)
            threads[0].join(timeout=0.5)
    for thread in threads:
        thread.join(timeout=30)

    assert isinstance(outcomes[2], DatabaseError)  # that webhook answers 503
    good = [outcomes[n] for n in (0, 1, 3, 4)]
    assert all(isinstance(delivery_id, int) for delivery_id in good), outcomes
    assert sorted(AlertDelivery.objects.filter(id__in=good).values_list("body", flat=True)) == [
        '{"n": 1}',
        '{"n": 2}',
        '{"n": 4}',
        '{"n": 5}',
    ]
    assert AlertDelivery.objects.count() == 5


def test_the_committer_reconnects_when_its_connection_was_dropped(batching, integration, caplog):
    _, token = integration
    first = store.delivery_accept(
        source="alertmanager", token=token, body='{"n": 1}', received_at=RECEIVED
    )
    committer = group_commit._committers[connection.alias]
    with other_connection() as other:
        pid = committer.connection.info.backend_pid
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)

    with caplog.at_level(logging.WARNING, logger="incidents.intake.group_commit"):
        second = store.delivery_accept(
            source="alertmanager", token=token, body='{"n": 2}', received_at=RECEIVED
        )
    assert "reconnecting" in caplog.text
    assert second is not None and second != first
    assert AlertDelivery.objects.filter(id__in=[first, second]).count() == 2


def test_a_gevent_web_process_answers_concurrent_webhooks_with_shared_commits(
    integration, make_web
):
    """make run's server on PostgreSQL: gevent workers, one shared commit per moment."""
    _, token = integration
    server = make_web("web", workers=1)
    answers: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def sender(n: int) -> None:
        with requests.Session() as session:
            for i in range(10):
                body = am_payload(am_alert(fingerprint=f"fp-{n}-{i}"), group_key=f"g-{n}-{i}")
                response = session.post(
                    f"{server.url}/hooks/alertmanager/{token}", json=body, timeout=10
                )
                with lock:
                    answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [status for status, _ in answers] == [202] * 240
    ids = [answer["delivery"] for _, answer in answers]
    assert len(set(ids)) == 240
    assert AlertDelivery.objects.filter(id__in=ids).count() == 240
    assert _commits_of(ids) < 240  # some requests shared a commit

    # The other webhook paths of the same server: PagerDuty's, generic JSON (its integration
    # is read through Django's pooled connection first), a heartbeat, an unknown token.
    _, pd_token = changes.integration_create(service=integration[0].service, source="pagerduty")
    _, generic_token = changes.integration_create(service=integration[0].service, source="generic")
    event = {"routing_key": pd_token, "event_action": "trigger", "dedup_key": "pd-1"}
    event["payload"] = {"summary": "Disk full", "source": "db-1", "severity": "critical"}
    enqueued = requests.post(f"{server.url}/v2/enqueue", json=event, timeout=10)
    assert (enqueued.status_code, enqueued.json()["dedup_key"]) == (202, "pd-1")
    generic = requests.post(
        f"{server.url}/hooks/generic/{generic_token}",
        json={"title": "Disk full", "dedup_key": "db-1/disk"},
        timeout=10,
    )
    assert generic.status_code == 202
    assert json.loads(AlertDelivery.objects.get(pk=generic.json()["delivery"]).body) == {
        "title": "Disk full",
        "dedup_key": "db-1/disk",
    }
    assert requests.get(f"{server.url}/hooks/heartbeat/{token}", timeout=10).status_code == 200
    unknown = requests.post(
        f"{server.url}/hooks/alertmanager/nope", json=am_payload(am_alert()), timeout=10
    )
    assert unknown.status_code == 404
    assert AlertDelivery.objects.count() == 242
