"""Webhook contact methods reach public addresses only, unless an administrator allows a
private network: no paging the cloud metadata service, Redis or a database on the inside."""

import ipaddress
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from incidents.models import ContactMethod, Notification
from incidents.notify import address, sending
from incidents.tests.notify_support import allow_loopback, running_receiver

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
NONE = []
LOOPBACK = [ipaddress.ip_network("127.0.0.0/8")]


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",  # noqa: S104 - an address under test, not one we bind
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
    ],
)
def test_addresses_on_the_inside_are_refused(ip):
    assert address.refused_ip(ipaddress.ip_address(ip), NONE)


@pytest.mark.parametrize("ip", ["93.184.215.14", "203.0.114.1", "2606:4700:4700::1111"])
def test_public_addresses_are_not(ip):
    assert not address.refused_ip(ipaddress.ip_address(ip), NONE)


def test_an_allowed_network_is_let_through_and_only_it():
    allowed = [ipaddress.ip_network("10.20.0.0/16")]
    assert not address.refused_ip(ipaddress.ip_address("10.20.3.4"), allowed)
    assert address.refused_ip(ipaddress.ip_address("10.21.3.4"), allowed)
    assert address.refused_ip(ipaddress.ip_address("::1"), allowed)  # other version


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:8000/hook",
        "http://[::1]/hook",
        "https://10.0.0.5/hook",
    ],
)
def test_a_url_naming_a_private_address_is_refused_when_saved(settings, url):
    settings.PAGERLINE_WEBHOOK_PRIVATE_NETWORKS = []
    problem = address.address_problem("webhook", url)
    assert problem is not None
    assert "private address" in problem
    assert "PAGERLINE_WEBHOOK_PRIVATE_NETWORKS" in problem


def test_a_url_in_an_allowed_network_is_accepted(settings):
    settings.PAGERLINE_WEBHOOK_PRIVATE_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]
    assert address.address_problem("webhook", "https://10.0.0.5/hook") is None
    assert address.address_problem("webhook", "https://192.168.0.5/hook") is not None


def _page(user):
    (row,) = sending.users_notify(
        users=[user], reason="escalation", subject="s", text="Checkout needs you", at=T0
    )[user.pk]
    return row


@pytest.mark.django_db
def test_a_name_that_resolves_inside_is_refused_when_sent_and_not_retried(settings, users):
    """A host name is checked where it resolves, when the webhook is sent (here `localhost`,
    saved before the rule existed): nothing reaches the server, the attempt fails for good."""
    settings.PAGERLINE_WEBHOOK_PRIVATE_NETWORKS = []
    serving = running_receiver()
    receiver = next(serving)
    try:
        port = receiver.url.rsplit(":", 1)[1].split("/")[0]
        method = ContactMethod.objects.create(
            verified_at=timezone.now(),
            user=users["responder"],
            kind="webhook",
            address=f"http://localhost:{port}/hook",
        )
        row = _page(users["responder"])
        assert sending.notification_send(notification_id=row.pk, now=T0) == "failed"
        row.refresh_from_db()
        assert "localhost (127.0.0.1) is a private address" in row.error
        assert receiver.requests == []
        assert not Notification.objects.filter(status="pending").exists()  # not retried

        allow_loopback(settings)  # an administrator allows the network: it is reached
        method.address = receiver.url
        method.save()
        row = _page(users["responder"])
        assert sending.notification_send(notification_id=row.pk, now=T0) == "sent"
        assert len(receiver.requests) == 1
    finally:
        serving.close()


def test_sending_tries_the_next_address_when_one_refuses_the_connection():
    """A host with two addresses, the first not listening (a broken IPv6 route, say)."""
    from urllib.parse import urlsplit

    from incidents.notify.transports import webhook

    serving = running_receiver()
    receiver = next(serving)
    try:
        parts = urlsplit(receiver.url)
        answer = webhook._post_to_one(
            parts, ["127.0.0.2", "127.0.0.1"], parts.port, (b"{}", {"X-Test": "1"})
        )
        assert answer.status == 200
        assert len(receiver.requests) == 1
        with pytest.raises(webhook.TransportError, match="ConnectionError: could not connect"):
            webhook._post_to_one(parts, ["127.0.0.2", "127.0.0.3"], parts.port, (b"{}", {}))
    finally:
        serving.close()
