"""`manage.py seed_demo` (run by `make run` on first start): the whole product on first load,
through the services, once."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.models import AuditEntry
from incidents.models import ContactMethod, Incident, NotificationRule, Service
from metrics.models import Drill, MttxWeek, WeeklyReport
from metrics.weeks import iso_week_of, shift_week
from oncall.models import Override, Schedule, Team
from tests.support import charts_in

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_the_demo_shows_the_whole_product_on_first_load(client):
    output = seed()
    assert "demo login: demo / pagerline-demo" in output
    assert "demo webhook: http" in output

    assert sorted(Team.objects.values_list("slug", flat=True)) == ["payments", "platform"]
    for schedule in Schedule.objects.all():
        assert schedule.layers.count() >= 2
    assert Override.objects.filter(end__gt=timezone.now()).count() == 2
    assert not Service.objects.filter(escalation_policy__isnull=True).exists()
    methods = ContactMethod.objects.all()
    assert methods.count() >= 8 and not methods.filter(verified_at__isnull=True).exists()
    assert {m.address.rsplit("@", 1)[1] for m in methods} == {"example.com"}
    assert NotificationRule.objects.filter(urgency="high", delay_seconds=0).count() == 8

    # Twelve closed weeks of incidents, and two still open.
    now = timezone.now()
    first = shift_week(iso_week_of(now, "UTC"), -12)
    detected = Incident.objects.order_by("detected_at").values_list("detected_at", flat=True)
    assert iso_week_of(detected.first(), "UTC") <= first
    assert Incident.objects.filter(status="resolved").count() >= 100
    assert Incident.objects.exclude(status="resolved").count() == 2

    # The finished drill, with its incidents attached and a reviewed result.
    drill = Drill.objects.get()
    assert drill.status == Drill.Status.FINISHED and drill.attachments.count() == 2

    # Rolled up at seed time and two past weekly reports per team.
    assert MttxWeek.objects.filter(drills=False, incidents__gt=0).count() >= 40
    assert WeeklyReport.objects.filter(team__slug="payments").count() == 2

    client.login(username="demo", password="pagerline-demo")
    page = client.get("/").content.decode()
    mttd, mttr = charts_in(page)
    assert len(mttd["data"]) == 5  # every service has a line
    for line in mttd["data"]:
        assert len(line["x"]) == 12 and sum(v is not None for v in line["y"]) >= 6
    checkout = next(line for line in mttr["data"] if line["name"] == "Payments / Checkout")
    values = [v for v in checkout["y"] if v is not None]
    assert values[0] > values[-1]  # the team got faster over the weeks
    review = client.get(f"/drills/{drill.pk}/").content.decode()
    assert 'data-role="drill-result">fail<' in review and "result-pass" in review
    report = WeeklyReport.objects.filter(team__slug="payments").order_by("-week").first()
    assert client.get(f"/reports/payments/{report.week}/").status_code == 200


def test_a_second_run_changes_nothing_and_says_so():
    seed()
    counts = [
        model.objects.count()
        for model in (Team, Service, Incident, Schedule, Drill, WeeklyReport, AuditEntry)
    ]
    output = seed()
    assert "demo data already loaded" in output and "demo webhook: http" in output
    assert counts == [
        model.objects.count()
        for model in (Team, Service, Incident, Schedule, Drill, WeeklyReport, AuditEntry)
    ]
