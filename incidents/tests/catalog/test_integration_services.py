"""The integration services behind the pages, the API and the command: a test alert goes
the real intake path (stored, drained, parsed, applied), rotation, and the audit trail."""

from io import StringIO

import pytest
from django.core.management import call_command

from core.errors import FieldErrors
from core.models import AuditEntry
from incidents.catalog import changes
from incidents.intake import drain
from incidents.models import AlertDelivery, DeliveryStatus, Incident
from incidents.tests.factories import make_integration

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("source", ["alertmanager", "grafana", "pagerduty", "generic"])
def test_a_test_alert_opens_one_test_incident_and_a_second_joins_it(source, service, users):
    integration, _ = make_integration(service, source=source)
    first = changes.integration_send_test(actor=users["manager"], integration=integration)
    drain.deliveries_drain()
    incident = Incident.objects.get()
    assert incident.service == service
    assert incident.title.startswith("[TEST] ") and "manager" in incident.title
    assert incident.status == "triggered"

    second = changes.integration_send_test(actor=users["manager"], integration=integration)
    drain.deliveries_drain()
    assert second != first
    assert Incident.objects.get() == incident, "the second test alert opened another incident"
    statuses = set(AlertDelivery.objects.values_list("status", flat=True))
    assert statuses == {DeliveryStatus.PROCESSED}


def test_a_test_alert_follows_a_generic_integrations_own_mapping(service, users):
    integration, _ = make_integration(service, source="generic")
    changes.integration_update(
        actor=users["manager"],
        integration=integration,
        options={"mapping": {"title": "event.summary", "dedup_key": "event.id"}},
    )
    changes.integration_send_test(actor=users["manager"], integration=integration)
    drain.deliveries_drain()
    assert Incident.objects.get().title.startswith("[TEST] ")


def test_a_test_alert_is_audited_and_refused_for_a_disabled_integration(service, users):
    integration, _ = make_integration(service)
    changes.integration_send_test(actor=users["manager"], integration=integration)
    entry = AuditEntry.objects.get(action="integration.test_sent")
    assert entry.actor == users["manager"] and entry.team_id == service.team_id

    changes.integration_update(actor=users["manager"], integration=integration, enabled=False)
    with pytest.raises(FieldErrors) as refused:
        changes.integration_send_test(actor=users["manager"], integration=integration)
    assert "disabled" in str(refused.value)
    assert AlertDelivery.objects.count() == 1


def test_the_create_integration_command_goes_through_the_audited_service(service):
    out = StringIO()
    call_command("create_integration", "--service", "checkout", "--source", "grafana", stdout=out)
    entry = AuditEntry.objects.get(action="integration.created")
    assert entry.actor is None and entry.team_id == service.team_id
    token = out.getvalue().strip().rsplit("/", 1)[1]
    assert token not in entry.summary + str(entry.changes)


def test_the_api_sends_a_test_alert_and_lists_deliveries_with_their_parse_result(
    client, users, integration
):
    record, _ = integration
    client.force_login(users["responder"])
    assert client.post(f"/api/v1/integrations/{record.pk}/test/").status_code == 403
    client.force_login(users["manager"])
    sent = client.post(f"/api/v1/integrations/{record.pk}/test/")
    assert sent.status_code == 202
    drain.deliveries_drain()
    page = client.get(f"/api/v1/integrations/{record.pk}/deliveries/").json()
    (row,) = page["results"]
    assert row["id"] == sent.json()["delivery"] and row["status"] == "processed"
    assert row["test"] is True and row["parse_failed"] is False
    assert row["parsed"].startswith("1 alert: firing [TEST] Test alert from Pagerline")
    client.force_login(users["outsider"])
    assert client.get(f"/api/v1/integrations/{record.pk}/deliveries/").status_code == 404
