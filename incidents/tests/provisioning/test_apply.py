"""`provision apply`: refusals name the object and field and change nothing; --prune;
--invite."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.utils import timezone

from core.models import AuditEntry
from incidents.models import Integration, Service
from incidents.provisioning import document, export
from incidents.tests.factories import make_incident
from incidents.tests.provisioning.conftest import SAMPLE, provision
from oncall import invitations
from oncall.models import Invitation, Membership, Team
from oncall.tests.factories import invitation_token_in

pytestmark = pytest.mark.django_db


def _write(tmp_path, raw: dict):
    path = tmp_path / "changed.yaml"
    path.write_text(document.dump_text(raw))
    return path


def _refused(path) -> str:
    before = AuditEntry.objects.count(), Team.objects.count(), Service.objects.count()
    with pytest.raises(CommandError) as refused:
        provision("apply", str(path), "--apply")
    assert "nothing was changed" in str(refused.value)
    assert (AuditEntry.objects.count(), Team.objects.count(), Service.objects.count()) == before
    return str(refused.value)


@pytest.fixture
def raw() -> dict:
    return document.parse_text(SAMPLE.read_text())


def test_an_unknown_user_is_refused_by_email_where_first_named(people, raw, tmp_path):
    raw["teams"][0]["members"].append({"email": "dee@example.com", "role": "responder"})
    message = _refused(_write(tmp_path, raw))
    assert "team 'payments': members: no user has the email dee@example.com" in message
    assert "--invite" in message


def test_a_bad_time_zone_is_refused_naming_the_schedule(people, raw, tmp_path):
    raw["teams"][0]["schedules"][0]["time_zone"] = "Mars/Olympus"
    message = _refused(_write(tmp_path, raw))
    assert "schedule payments/Primary: time_zone: Unknown IANA time zone 'Mars/Olympus'" in message


def test_a_bad_team_time_zone_is_refused_naming_the_team(people, raw, tmp_path):
    raw["teams"][0]["time_zone"] = "Europe/Atlantis"
    assert "team payments: time_zone: Unknown IANA time zone" in _refused(_write(tmp_path, raw))


def test_an_unknown_schedule_in_a_policy_step_is_refused(people, raw, tmp_path):
    raw["teams"][0]["escalation_policies"][0]["steps"][0]["targets"] = [{"schedule": "Nope"}]
    message = _refused(_write(tmp_path, raw))
    assert "escalation policy 'Default': steps[0].targets[0].schedule" in message


def test_duplicate_service_slugs_are_refused(people, raw, tmp_path):
    raw["teams"][0]["services"][1]["slug"] = "checkout"
    assert "service 'checkout': slug: duplicate service slug" in _refused(_write(tmp_path, raw))


def test_a_refusal_late_in_the_document_undoes_everything_before_it(people, raw, tmp_path):
    """The routing rule's matcher is judged by the catalog's own rule, after the team,
    schedules, policies and services were made: all of it is rolled back."""
    route = raw["teams"][0]["services"][0]["integrations"][0]["routing"][0]
    route["matchers"] = [{"label": "service", "op": "~~", "value": "x"}]
    message = _refused(_write(tmp_path, raw))
    assert "integration payments/checkout/Prometheus: routing[0].matchers" in message
    assert not Team.objects.exists() and not Membership.objects.exists()


def test_a_viewer_as_policy_target_is_refused_by_the_policy_rules(people, raw, tmp_path):
    raw["teams"][0]["escalation_policies"][0]["steps"][1]["targets"] = [{"user": "cy@example.com"}]
    message = _refused(_write(tmp_path, raw))
    assert "policy payments/Default: steps[1].targets[0].user: cy is a viewer" in message


def test_without_prune_what_the_file_omits_stays(people, sample_file, raw, tmp_path):
    provision("apply", str(sample_file), "--apply")
    raw["teams"][0]["services"].pop()
    raw["teams"][0]["services"][0]["integrations"][0]["routing"] = []
    raw["teams"][0]["maintenance_windows"] = []
    path = _write(tmp_path, raw)
    plan = provision("apply", str(path), "--plan")
    assert (
        plan.startswith("~ update integration payments/checkout/Prometheus")
        and "delete" not in plan
    )
    provision("apply", str(path), "--apply")
    assert Service.objects.filter(slug="refunds").exists()


def test_prune_deletes_what_the_file_omits_but_never_a_service_with_incidents(
    people, sample_file, raw, tmp_path
):
    provision("apply", str(sample_file), "--apply")
    make_incident(Service.objects.get(slug="checkout"), detected=timezone.now())
    raw["teams"][0]["services"] = []
    raw["teams"][0]["maintenance_windows"] = []
    path = _write(tmp_path, raw)
    plan = provision("apply", str(path), "--plan", "--prune")
    assert "= keep service payments/checkout: has 1 incident(s)" in plan
    assert "- delete service payments/refunds" in plan
    assert "- delete integration payments/refunds/Custom checks" in plan
    assert "= keep integration payments/checkout/Prometheus: its service is kept" in plan
    provision("apply", str(path), "--apply", "--prune")
    assert list(Service.objects.values_list("slug", flat=True)) == ["checkout"]
    assert list(Integration.objects.values_list("name", flat=True)) == ["Prometheus"]
    # What remains is kept, and the plan keeps saying why.
    assert provision("apply", str(path), "--plan", "--prune").splitlines() == [
        "= keep integration payments/checkout/Prometheus: its service is kept "
        "(service payments/checkout)",
        "= keep service payments/checkout: has 1 incident(s); a service with incidents is "
        "never deleted",
    ]


def test_a_changed_field_is_planned_then_applied(people, sample_file, raw, tmp_path):
    provision("apply", str(sample_file), "--apply")
    raw["teams"][0]["members"][2]["role"] = "responder"
    raw["teams"][0]["schedules"][0]["layers"][0]["participants"].reverse()
    path = _write(tmp_path, raw)
    plan = provision("apply", str(path), "--plan")
    assert '~ update member payments/cy@example.com\n    role: "viewer" -> "responder"' in plan
    assert "~ update schedule payments/Primary" in plan
    provision("apply", str(path), "--apply")
    assert Membership.objects.get(user__username="cy").role == "responder"
    assert provision("apply", str(path), "--plan").strip() == "No changes."


def test_invite_creates_the_unknown_user_and_emails_a_link(people, raw, tmp_path, smtp):
    raw["teams"][0]["members"].append({"email": "dee@example.com", "role": "responder"})
    raw["teams"][0]["schedules"][0]["layers"][0]["participants"].append("dee@example.com")
    path = _write(tmp_path, raw)
    plan = provision("apply", str(path), "--plan", "--invite")
    assert plan.startswith("+ invite user dee@example.com\n")
    assert smtp.recipients == [] and not Invitation.objects.exists()
    provision("apply", str(path), "--apply", "--invite")
    assert smtp.recipients == ["dee@example.com"]
    invitation = Invitation.objects.get()
    assert invitation.team.slug == "payments" and invitation.role == "responder"
    placeholder = get_user_model().objects.get(email="dee@example.com")
    assert not placeholder.has_usable_password()
    # Applying again invites nobody twice.
    assert provision("apply", str(path), "--plan", "--invite").strip() == "No changes."
    # The emailed link makes the account theirs, still in the rotation.
    token = invitation_token_in(smtp.messages[0].get_content())
    user = invitations.invitation_accept(
        token=token, username="dee", password="lantern orbit 1843",
        password_again="lantern orbit 1843",
    )  # fmt: skip
    assert user.pk == placeholder.pk and user.check_password("lantern orbit 1843")
    assert provision("apply", str(path), "--plan").strip() == "No changes."


def test_export_of_one_team_and_an_unknown_one(people, sample_file):
    provision("apply", str(sample_file), "--apply")
    assert "slug: payments" in provision("export", "--team", "payments")
    with pytest.raises(CommandError, match="no team with slug 'nope'"):
        provision("export", "--team", "nope")


def test_ended_overrides_and_windows_are_not_exported(people, sample_file):
    provision("apply", str(sample_file), "--apply")
    exported = export.export(now=timezone.now() + timedelta(days=365 * 10))
    assert exported["teams"][0]["schedules"][0]["overrides"] == []
    assert exported["teams"][0]["maintenance_windows"] == []


def _opsgenie(raw: dict) -> dict:
    (refunds,) = (s for s in raw["teams"][0]["services"] if s["slug"] == "refunds")
    return next(i for i in refunds["integrations"] if i["source"] == "opsgenie")


def test_named_heartbeats_are_changed_removed_and_keep_their_last_ping(
    people, sample_file, raw, tmp_path
):
    from incidents.models import NamedHeartbeat

    provision("apply", str(sample_file), "--apply")
    beats = NamedHeartbeat.objects.filter(integration__name="Opsgenie senders")
    assert sorted(beats.values_list("name", "interval_seconds")) == [
        ("cron", 600),
        ("nightly-backup", 93600),
    ]
    pinged = timezone.now() - timedelta(minutes=3)
    beats.filter(name="cron").update(last_ping_at=pinged)

    integration = _opsgenie(raw)
    integration["heartbeats"] = [{"name": "cron", "interval_seconds": 900}]
    path = _write(tmp_path, raw)
    plan = provision("apply", str(path), "--plan")
    assert "~ update integration payments/refunds/Opsgenie senders" in plan
    assert "heartbeats:" in plan
    provision("apply", str(path), "--apply")
    (cron,) = beats.all()
    assert (cron.name, cron.interval_seconds, cron.last_ping_at) == ("cron", 900, pinged)
    assert provision("apply", str(path), "--plan").strip() == "No changes."


def test_a_heartbeat_on_an_integration_that_cannot_be_pinged_is_refused(people, raw, tmp_path):
    (refunds,) = (s for s in raw["teams"][0]["services"] if s["slug"] == "refunds")
    custom = next(i for i in refunds["integrations"] if i["source"] == "generic")
    custom["heartbeats"] = [{"name": "cron", "interval_seconds": 600}]
    message = _refused(_write(tmp_path, raw))
    assert "Custom checks" in message and "only an Opsgenie integration has them" in message


def test_duplicate_heartbeat_names_are_refused(people, raw, tmp_path):
    _opsgenie(raw)["heartbeats"].append({"name": "cron", "interval_seconds": 60})
    assert "duplicate heartbeat name 'cron'" in _refused(_write(tmp_path, raw))
