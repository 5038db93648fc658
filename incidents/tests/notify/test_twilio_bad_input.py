"""Bad input at Twilio's webhooks: forged, stale or missing signatures, replays, unknown
codes, numbers of nobody, incidents the sender may not touch. Each gets a clear 4xx or a
clear answer, changes nothing, and never a 5xx."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from incidents.models import (
    ContactMethod,
    InboundMessage,
    Incident,
    IncidentEvent,
    Notification,
)
from incidents.tests.factories import make_alert_incident, make_policy
from incidents.tests.support import fire
from incidents.tests.twilio_support import (
    ACCOUNT_SID,
    call_fields,
    inbound_sms,
    twilio_signature,
    use_twilio_settings,
)

pytestmark = pytest.mark.django_db

NUMBER = "+4915112345678"
BASE = "https://pagerline.example.com"
PATHS = [
    "/hooks/twilio/sms",
    "/hooks/twilio/voice",
    "/hooks/twilio/voice/keys",
    "/hooks/twilio/calls/{row}",
    "/hooks/twilio/calls/{row}/keys",
    "/hooks/twilio/status",
]


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    use_twilio_settings(settings, BASE)


@pytest.fixture
def world(service, users):
    """The responder (number verified) was paged for `paged`; `resolved` is closed; the
    outsider's team has an incident of its own."""
    from incidents.models import Service
    from incidents.timeline import actions
    from oncall.models import Team

    for kind in ("sms", "voice"):
        ContactMethod.objects.create(
            user=users["responder"], kind=kind, address=NUMBER, verified_at=timezone.now()
        )
    ContactMethod.objects.create(user=users["viewer"], kind="sms", address="+4915100000001")
    ContactMethod.objects.create(
        user=users["viewer"], kind="sms", address="+4915100000002", verified_at=timezone.now()
    )
    service.escalation_policy = make_policy(service.team, (0, [users["responder"]]))
    service.save()
    now = timezone.now()
    paged = make_alert_incident(service, now, key="paged")
    fire(paged, now)
    resolved = make_alert_incident(service, now, key="resolved")
    actions.incident_resolve(incident_id=resolved.pk, user=users["manager"])
    other = Service.objects.create(team=Team.objects.get(slug="other"), slug="x", name="X")
    foreign = make_alert_incident(other, now, key="foreign")
    row = Notification.objects.get(incident=paged, channel="voice")
    Notification.objects.filter(pk=row.pk).update(provider_id="CA" + "b" * 32)
    return {"paged": paged, "resolved": resolved, "foreign": foreign, "call": row}


def snapshot():
    return (
        list(Incident.objects.order_by("pk").values_list("status", "acknowledged_at")),
        IncidentEvent.objects.count(),
        list(ContactMethod.objects.order_by("pk").values_list("opted_out_at", flat=True)),
        list(Notification.objects.order_by("pk").values_list("delivery_status", flat=True)),
    )


def params_for(path: str, world) -> dict:
    if path.endswith("/sms"):
        return inbound_sms(NUMBER, f"{world['paged'].pk}a")
    if path.endswith("/status"):
        return {"AccountSid": ACCOUNT_SID, "CallSid": "CA" + "b" * 32, "CallStatus": "failed"}
    return call_fields("CA" + "c" * 32, caller=NUMBER, called=NUMBER, Digits="4")


def answer(response) -> str:
    root = ET.fromstring(response.content)  # noqa: S314 - our own answer
    return " ".join(e.text or "" for e in root.iter() if e.tag in {"Message", "Say"})


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "forgery",
    [
        "unsigned",
        "another token",
        "another url",
        "tampered field",
        "garbage",
        "no auth token configured",
    ],
)
def test_forged_requests_are_refused_and_change_nothing(client, world, settings, path, forgery):
    path = path.format(row=world["call"].pk)
    params = params_for(path, world)
    url = BASE + path
    headers = {"HTTP_X_TWILIO_SIGNATURE": twilio_signature(url, params)}
    if forgery == "unsigned":
        headers = {}
    elif forgery == "another token":
        headers["HTTP_X_TWILIO_SIGNATURE"] = twilio_signature(url, params, token="f" * 32)
    elif forgery == "another url":
        headers["HTTP_X_TWILIO_SIGNATURE"] = twilio_signature(BASE + "/hooks/twilio/other", params)
    elif forgery == "tampered field":
        params = {**params, "Digits": "6", "Body": "rr", "CallStatus": "busy"}
    elif forgery == "garbage":
        headers["HTTP_X_TWILIO_SIGNATURE"] = "\x00not base64 at all"
    elif forgery == "no auth token configured":
        settings.TWILIO_AUTH_TOKEN = ""
        headers["HTTP_X_TWILIO_SIGNATURE"] = twilio_signature(url, params, token="")
    before = snapshot()
    response = client.post(path, params, **headers)
    assert response.status_code == 403
    assert snapshot() == before
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize("path", PATHS)
def test_other_methods_are_refused(client, world, path):
    path = path.format(row=world["call"].pk)
    assert client.get(path).status_code == 405


def signed(client, path, params, **extra):
    return client.post(
        path, params, HTTP_X_TWILIO_SIGNATURE=twilio_signature(BASE + path, params), **extra
    )


@pytest.mark.parametrize(
    "signed_url",
    [
        # Behind a TLS proxy Twilio calls the public URL, PAGERLINE_BASE_URL + the path,
        # while the request reaches Pagerline at an inside address.
        BASE + "/hooks/twilio/sms",
        # The URL as the request itself says (with PAGERLINE_BEHIND_PROXY, the proxy's
        # X-Forwarded-Proto counts).
        "http://10.0.0.7:8000/hooks/twilio/sms",
    ],
)
def test_the_public_url_or_the_requests_own_may_be_signed(client, world, settings, signed_url):
    settings.ALLOWED_HOSTS = ["10.0.0.7"]
    params = inbound_sms(NUMBER, "help")
    response = client.post(
        "/hooks/twilio/sms",
        params,
        HTTP_X_TWILIO_SIGNATURE=twilio_signature(signed_url, params),
        HTTP_HOST="10.0.0.7:8000",
    )
    assert response.status_code == 200
    assert "Pagerline: reply 123a" in answer(response)


def test_behind_a_proxy_its_scheme_counts(client, world, settings):
    settings.ALLOWED_HOSTS = ["pagerline.internal"]
    settings.PAGERLINE_BASE_URL = "https://elsewhere.example.com"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    params = inbound_sms(NUMBER, "help")
    sig = twilio_signature("https://pagerline.internal/hooks/twilio/sms", params)
    response = client.post(
        "/hooks/twilio/sms",
        params,
        HTTP_X_TWILIO_SIGNATURE=sig,
        HTTP_HOST="pagerline.internal",
        HTTP_X_FORWARDED_PROTO="https",
    )
    assert response.status_code == 200
    params["MessageSid"] = params["SmsSid"] = params["SmsMessageSid"] = "SM" + "8" * 32
    sig = twilio_signature("https://pagerline.internal/hooks/twilio/sms", params)
    response = client.post(
        "/hooks/twilio/sms", params, HTTP_X_TWILIO_SIGNATURE=sig, HTTP_HOST="pagerline.internal"
    )
    assert response.status_code == 403  # without the proxy's header it is http://: not signed


@pytest.mark.parametrize(
    ("sender", "body", "expected", "who"),
    [
        (NUMBER, "hello there", "Unknown code. Reply 123a to ack #123", "responder"),
        (NUMBER, "{paged}x", "Unknown code.", "responder"),
        (NUMBER, "999999999a", "No incident #999999999 that you can see", "responder"),
        (NUMBER, "{foreign}a", "No incident #{foreign} that you can see", "responder"),
        (NUMBER, "{resolved}a", "#{resolved} is already resolved", "responder"),
        (NUMBER, "{resolved}r", "#{resolved} is already resolved", "responder"),
        ("+4915100000002", "{paged}a", "You may not respond to #{paged} (Checkout)", "viewer"),
        ("+4915100000002", "aa", "Nothing acknowledged; not #{paged} (not allowed)", "viewer"),
        ("+4915100000001", "{paged}a", "This number is not set up", None),  # unverified
        ("+4930999999", "{paged}a", "This number is not set up", None),  # nobody's
        ("+4930999999", "aa", "This number is not set up", None),
        ("+4930999999", "help", "This number is not set up", None),
        ("", "{paged}a", "This number is not set up", None),
    ],
)
def test_replies_that_cannot_act_say_why_and_change_nothing(
    client, world, users, sender, body, expected, who
):
    if who == "viewer":
        # The viewer was paged too (a viewer in a policy), but may not respond.
        from incidents.models import PersonalPage

        PersonalPage.objects.create(
            incident=world["paged"],
            user=users["viewer"],
            urgency="high",
            reason="escalation",
            state="done",
            started_at=timezone.now(),
        )
    ids = {name: world[name].pk for name in ("paged", "resolved", "foreign")}
    before = snapshot()
    response = signed(client, "/hooks/twilio/sms", inbound_sms(sender, body.format(**ids)))
    assert response.status_code == 200
    assert expected.format(**ids) in answer(response)
    assert snapshot() == before
    record = InboundMessage.objects.get()
    assert record.user == (users[who] if who else None)


def test_a_replayed_sid_with_another_body_gets_the_first_answer(client, world):
    sid = "SM" + "7" * 32
    first = signed(client, "/hooks/twilio/sms", inbound_sms(NUMBER, "help", sid))
    before = snapshot()
    replay = signed(client, "/hooks/twilio/sms", inbound_sms(NUMBER, f"{world['paged'].pk}a", sid))
    assert answer(replay) == answer(first)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/hooks/twilio/sms", {"From": NUMBER, "Body": "aa"}, 400),  # no MessageSid
        ("/hooks/twilio/sms", {"MessageSid": "SM'; DROP", "From": NUMBER, "Body": "aa"}, 400),
        (
            "/hooks/twilio/sms",
            {"MessageSid": "SM" + "1" * 32, "From": NUMBER, "Body": "a\x00"},
            400,
        ),
        ("/hooks/twilio/status", {"MessageSid": "SM" + "1" * 32}, 400),  # no status
        ("/hooks/twilio/status", {"CallStatus": "failed"}, 400),  # no SID
        ("/hooks/twilio/voice/keys", {"From": NUMBER, "Digits": "4"}, 400),
        ("/hooks/twilio/calls/{row}/keys", {"To": NUMBER, "Digits": "4"}, 400),
    ],
)
def test_malformed_requests_are_400_and_change_nothing(client, world, path, params, status):
    path = path.format(row=world["call"].pk)
    before = snapshot()
    assert signed(client, path, params).status_code == status
    assert snapshot() == before


@pytest.mark.parametrize("notification", ["0", "999999", str(2**63), "9" * 30])
def test_a_call_that_does_not_exist_hangs_up_politely(client, world, notification):
    for path in (f"/hooks/twilio/calls/{notification}", f"/hooks/twilio/calls/{notification}/keys"):
        fields = call_fields("CA" + "d" * 32, caller=NUMBER, called=NUMBER, Digits="4")
        before = snapshot()
        response = signed(client, path, fields)
        assert response.status_code == 200
        assert "no longer needed" in answer(response)
        assert snapshot() == before


def test_a_status_with_an_unknown_value_is_ignored(client, world):
    before = snapshot()
    fields = {"CallSid": "CA" + "b" * 32, "CallStatus": "exploded" * 20}
    assert signed(client, "/hooks/twilio/status", fields).status_code == 204
    assert snapshot() == before
