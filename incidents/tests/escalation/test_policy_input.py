"""The pure checks behind the policy and contact method forms and API: no database."""

import pytest

from core.errors import FieldErrors
from incidents.escalation.policy_input import (
    StepInput,
    TargetInput,
    delay_label,
    parse,
)
from incidents.notify.address import address_problem, redacted


def test_it_types_a_valid_policy():
    parsed = parse(
        {
            "name": "  Primary ",
            "repeat": 2,
            "fallback_user": "",
            "steps": [
                {"targets": [{"user": "alice"}]},
                {"delay_seconds": 300, "targets": [{"schedule": 7}, {"user": "bob"}]},
            ],
        }
    )
    assert parsed == {
        "name": "Primary",
        "repeat": 2,
        "fallback_user": None,
        "steps": (
            StepInput(0, (TargetInput(user="alice"),)),
            StepInput(300, (TargetInput(schedule=7), TargetInput(user="bob"))),
        ),
    }


def test_it_checks_only_the_fields_it_is_given():
    assert parse({"repeat": 0}) == {"repeat": 0}
    assert parse({}) == {}


def test_it_names_every_refused_field_at_once():
    with pytest.raises(FieldErrors) as error:
        parse(
            {
                "name": "",
                "repeat": 1.5,
                "steps": [
                    {"delay_seconds": "5", "targets": [{"user": ""}, {"schedule": 0}]},
                    {"targets": [{"user": "a", "schedule": 1}, "bob"]},
                ],
                "colour": "red",
            }
        )
    assert set(error.value.errors) == {
        "name",
        "repeat",
        "steps[0].delay_seconds",
        "steps[0].targets[0].user",
        "steps[0].targets[1].schedule",
        "steps[1].targets[0]",
        "steps[1].targets[1]",
        "colour",
    }


def test_it_caps_sizes_so_a_body_cannot_build_a_huge_policy():
    many = [{"targets": [{"user": "a"}]}] * 51
    with pytest.raises(FieldErrors) as error:
        parse({"steps": many})
    assert "At most 50 steps" in " ".join(error.value.errors["steps"])
    crowd = [{"user": f"u{i}"} for i in range(51)]
    with pytest.raises(FieldErrors) as error:
        parse({"steps": [{"targets": crowd}]})
    assert "steps[0].targets" in error.value.errors


@pytest.mark.parametrize(
    ("seconds", "label"),
    [
        (0, "at once"),
        (45, "after 45 s"),
        (300, "after 5 min"),
        (7200, "after 2 h"),
        (90, "after 90 s"),
    ],
)
def test_delays_read_as_people_say_them(seconds, label):
    assert delay_label(seconds) == label


@pytest.mark.parametrize(
    ("kind", "address", "ok"),
    [
        ("email", "a@example.com", True),
        ("email", "a@example.com\n", False),
        ("webhook", "https://example.com/x", True),
        ("webhook", "http://[2606:4700:4700::1111]:8080/x", True),
        ("webhook", "http://[::1]:8080/x", False),  # a private address (see PRIVATE_NETWORKS)
        ("webhook", "https://a:b@example.com/x", False),
        ("webhook", "gopher://example.com/", False),
        ("webhook", "https://example.com:0x50/", False),
        ("pager", "123", False),
        ("email", None, False),
    ],
)
def test_address_rules(kind, address, ok):
    assert (address_problem(kind, address) is None) is ok


def test_audit_log_sees_only_the_host_of_a_webhook():
    assert redacted("webhook", "https://hooks.slack.com/services/T/B/SECRET") == (
        "https://hooks.slack.com/…"
    )
    assert redacted("email", "a@example.com") == "a@example.com"
