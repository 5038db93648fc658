from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from incidents.models import Incident, Integration, Service, hash_token
from oncall.models import Team

pytestmark = pytest.mark.django_db


def test_create_integration_prints_the_webhook_url_last(service, settings):
    out = StringIO()
    call_command(
        "create_integration", "--service", "checkout", "--source", "alertmanager", stdout=out
    )
    url = out.getvalue().strip().splitlines()[-1]
    assert url.startswith(f"{settings.PAGERLINE_BASE_URL}/hooks/alertmanager/")
    token = url.rsplit("/", 1)[1]
    assert Integration.objects.get().token_hash == hash_token(token)


def test_create_integration_names_an_unknown_service(db):
    with pytest.raises(CommandError, match="no service with slug 'nope'"):
        call_command("create_integration", "--service", "nope", "--source", "alertmanager")


def test_seed_demo_is_idempotent():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    counts = (Team.objects.count(), Service.objects.count(), Incident.objects.count())
    assert counts[:2] == (2, 5)
    assert Incident.objects.filter(status="resolved").count() >= 10
    assert Incident.objects.exclude(status="resolved").count() >= 2
    call_command("seed_demo", stdout=StringIO())
    assert (Team.objects.count(), Service.objects.count(), Incident.objects.count()) == counts
    assert "demo webhook: http" in out.getvalue()
