"""The Opsgenie API end to end through a real Celery worker, and real Opsgenie clients nobody
here wrote pointed at a real Pagerline (gunicorn and a worker): the official `opsgenie-sdk`
Python package, and Prometheus Alertmanager (Debian package) with `opsgenie_configs`."""

import json
import shutil
import subprocess
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from incidents.models import AlertDelivery, DeliveryStatus, EventKind, Incident, IncidentStatus
from incidents.tests.factories import make_integration
from tests.peers import free_port
from tests.support import fixture_json, post_json, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def opsgenie(service):
    return make_integration(service, source="opsgenie", name="Opsgenie senders")


def test_a_real_worker_dedups_by_alias_and_closes(client, opsgenie, celery_worker):
    _, key = opsgenie
    header = {"Authorization": f"GenieKey {key}"}
    for _ in range(2):  # the same alias twice: one alert, one incident
        response = post_json(client, "/v2/alerts", fixture_json("opsgenie/create.json"), **header)
        assert response.status_code == 202, response.content
    incident = wait_for(
        lambda: Incident.objects.filter(status=IncidentStatus.TRIGGERED).first(),
        message="the worker did not open an incident",
    )
    response = post_json(
        client,
        "/v2/alerts/checkout-api-error-rate/close?identifierType=alias",
        fixture_json("opsgenie/close.json"),
        **header,
    )
    assert response.status_code == 202
    wait_for(
        lambda: Incident.objects.filter(pk=incident.pk, status=IncidentStatus.RESOLVED).exists(),
        message="the worker did not resolve the incident",
    )
    assert Incident.objects.count() == 1
    statuses = set(AlertDelivery.objects.values_list("status", flat=True))
    assert statuses == {DeliveryStatus.PROCESSED}


@pytest.mark.peer
def test_the_official_sdk_creates_acknowledges_notes_and_closes(opsgenie, make_web, make_worker):
    opsgenie_sdk = pytest.importorskip("opsgenie_sdk")
    _, key = opsgenie
    web = make_web()
    make_worker()
    configuration = opsgenie_sdk.configuration.Configuration()
    configuration.host = web.url
    configuration.api_key["Authorization"] = key
    configuration.retry_enabled = False  # a failure must show, not be retried for a minute
    alerts = opsgenie_sdk.AlertApi(api_client=opsgenie_sdk.api_client.ApiClient(configuration))

    created = alerts.create_alert(
        create_alert_payload=opsgenie_sdk.CreateAlertPayload(
            message="Queue depth above 10k",
            alias="orders-queue-depth",
            description="orders-worker is falling behind",
            responders=[{"name": "Payments", "type": "team"}],
            tags=["orders", "queue"],
            details={"queue": "orders"},
            entity="orders-worker",
            priority="P2",
            source="sdk-test",
        )
    )
    assert created.result == "Request will be processed"

    def processed(request_id):
        try:
            return alerts.get_request_status(request_id=request_id).data
        except opsgenie_sdk.ApiException as error:
            assert error.status == 404  # "might not be processed, yet"
            return None

    status = wait_for(
        lambda: processed(created.request_id), timeout=20, message="create never processed"
    )
    assert status.is_success and status.action == "Create"
    alert_id = status.alert_id  # the SDK's usual flow: act on the id the status gives

    incident = Incident.objects.get()
    assert incident.title == "Queue depth above 10k"
    assert incident.severity == "error"

    acknowledged = alerts.acknowledge_alert(
        identifier=alert_id,
        acknowledge_alert_payload=opsgenie_sdk.AcknowledgeAlertPayload(
            user="sdk-test", note="looking"
        ),
    )
    wait_for(lambda: processed(acknowledged.request_id), timeout=20, message="ack not processed")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED

    noted = alerts.add_note(
        identifier="orders-queue-depth",
        identifier_type="alias",
        add_note_to_alert_payload=opsgenie_sdk.AddNoteToAlertPayload(note="scaled to 8 workers"),
    )
    wait_for(lambda: processed(noted.request_id), timeout=20, message="note not processed")
    texts = [e.data["text"] for e in incident.events.filter(kind=EventKind.NOTE)]
    assert any(text.startswith("scaled to 8 workers") for text in texts), texts

    closed = alerts.close_alert(
        identifier=alert_id,
        close_alert_payload=opsgenie_sdk.CloseAlertPayload(note="drained"),
    )
    wait_for(lambda: processed(closed.request_id), timeout=20, message="close not processed")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED
    assert Incident.objects.count() == 1


ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


@pytest.mark.peer
@pytest.mark.skipif(ALERTMANAGER is None, reason="needs Debian's prometheus-alertmanager")
def test_alertmanager_opsgenie_configs_open_and_close_one_incident(
    opsgenie, make_web, make_worker, tmp_path
):
    _, key = opsgenie
    web = make_web()
    make_worker()
    am_port, am_cluster_port = free_port(), free_port()
    config = {
        "route": {
            "receiver": "pagerline",
            "group_by": ["alertname"],
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [
            {
                "name": "pagerline",
                "opsgenie_configs": [
                    {
                        "api_key": key,
                        "api_url": f"{web.url}/",
                        "priority": "P1",
                        "send_resolved": True,
                    }
                ],
            }
        ],
    }
    (tmp_path / "alertmanager.yml").write_text(json.dumps(config))  # JSON is YAML
    process = subprocess.Popen(
        [
            ALERTMANAGER,
            f"--config.file={tmp_path / 'alertmanager.yml'}",
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{am_port}",
            f"--cluster.listen-address=127.0.0.1:{am_cluster_port}",
        ],
        stdout=(tmp_path / "alertmanager.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    am = f"http://127.0.0.1:{am_port}"
    try:
        wait_for(lambda: _ready(am), timeout=20, interval=0.25, message="Alertmanager not ready")
        now = datetime.now(UTC)
        alert = {
            "labels": {"alertname": "DiskFull", "instance": "db-1"},
            "annotations": {"summary": "disk full on db-1"},
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(hours=1)).isoformat(),
        }
        _post(f"{am}/api/v2/alerts", [alert])
        incident = wait_for(
            lambda: Incident.objects.filter(status=IncidentStatus.TRIGGERED).first(),
            timeout=40,
            interval=0.25,
            message=f"no incident opened; {_log(tmp_path)}",
        )
        assert incident.severity == "critical"  # P1
        _post(f"{am}/api/v2/alerts", [{**alert, "endsAt": datetime.now(UTC).isoformat()}])
        wait_for(
            lambda: Incident.objects.filter(pk=incident.pk, status="resolved").exists(),
            timeout=40,
            interval=0.25,
            message=f"the incident did not resolve; {_log(tmp_path)}",
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert Incident.objects.count() == 1
    incident.refresh_from_db()
    assert "DiskFull" in incident.title


def _ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/-/ready", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _post(url: str, body) -> None:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def _log(tmp_path) -> str:
    return (tmp_path / "alertmanager.log").read_text()[-2000:]
