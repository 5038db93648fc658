"""The pure half: checking a document and comparing two, without a database."""

from __future__ import annotations

import copy

import pytest

from incidents.provisioning import diff, document
from incidents.tests.provisioning.conftest import SAMPLE


@pytest.fixture
def raw() -> dict:
    return document.parse_text(SAMPLE.read_text())


def problems(raw: dict) -> list[str]:
    with pytest.raises(document.DocumentError) as refused:
        document.check(raw)
    return refused.value.problems


def test_the_sample_is_valid_and_its_defaults_are_written_out(raw):
    canonical = document.load(SAMPLE.read_text())
    schedule = canonical["teams"][0]["schedules"][0]
    assert schedule["handoff_notice_seconds"] == 1800
    assert schedule["layers"][0]["end"] is None
    assert canonical["teams"][0]["maintenance_windows"][0]["ends_at"] == "2030-03-02T02:00:00Z"


def test_it_refuses_duplicate_service_slugs_naming_them(raw):
    raw["teams"][0]["services"][1]["slug"] = "checkout"
    assert any("service 'checkout': slug: duplicate service slug" in p for p in problems(raw)), (
        problems(raw)
    )


def test_it_refuses_duplicate_team_slugs(raw):
    raw["teams"].append(copy.deepcopy(raw["teams"][0]))
    assert any("duplicate team slug 'payments'" in p for p in problems(raw))


def test_it_names_a_policy_step_schedule_the_team_does_not_have(raw):
    raw["teams"][0]["escalation_policies"][0]["steps"][0]["targets"] = [{"schedule": "Nope"}]
    assert problems(raw) == [
        "team 'payments' / escalation policy 'Default': steps[0].targets[0].schedule: "
        "no schedule named 'Nope' in team 'payments'"
    ]


def test_it_names_a_participant_who_is_not_a_member(raw):
    raw["teams"][0]["schedules"][0]["layers"][0]["participants"].append("zed@example.com")
    assert problems(raw) == [
        "team 'payments' / schedule 'Primary': layers[0].participants: zed@example.com is not "
        "listed in the team's members"
    ]


def test_it_refuses_a_team_without_a_manager(raw):
    raw["teams"][0]["members"][0]["role"] = "responder"
    assert problems(raw) == ["team 'payments': members: a team needs at least one manager"]


def test_it_refuses_unknown_fields_and_wrong_types_by_path(raw):
    raw["teams"][0]["services"][0]["integrations"][0]["token"] = "secret"
    raw["teams"][0]["schedules"][0]["layers"][0]["every"] = "weekly"
    found = problems(raw)
    assert any(p.startswith("teams[0].schedules[0].layers[0].every:") for p in found), found
    assert any(
        p.startswith("teams[0].services[0].integrations[0]:") and "'token'" in p for p in found
    ), found


def test_it_refuses_what_is_not_yaml():
    with pytest.raises(document.DocumentError, match="not valid YAML"):
        document.parse_text("teams: [\n")


def _objects(raw):
    return diff.objects(document.canonical(raw))


def test_an_unchanged_document_has_no_changes(raw):
    assert diff.diff(_objects(raw), _objects(raw), prune=True) == []


def test_a_changed_field_is_one_update_naming_old_and_new(raw):
    before = _objects(raw)
    raw["teams"][0]["services"][0]["name"] = "Checkout API"
    changes = diff.diff(before, _objects(raw), prune=False)
    assert changes == [
        diff.Change(
            "update", ("service", "payments", "checkout"), {"name": ["Checkout", "Checkout API"]}
        )
    ]
    assert diff.describe(changes) == [
        "~ update service payments/checkout",
        '    name: "Checkout" -> "Checkout API"',
    ]


def test_what_the_document_drops_is_deleted_only_with_prune(raw):
    before = _objects(raw)
    del raw["teams"][0]["maintenance_windows"]
    raw["teams"][0]["services"].pop()  # refunds
    raw["teams"][0]["services"][0]["integrations"][0]["routing"] = []
    after = _objects(raw)
    kept = diff.diff(before, after, prune=False)
    assert [c.action for c in kept] == ["update"]
    pruned = diff.diff(
        before,
        after,
        prune=True,
        undeletable={("service", "payments", "refunds"): "has 2 incident(s)"},
    )
    assert [(c.action, c.key[0]) for c in pruned] == [
        ("update", "integration"),
        ("delete", "window"),
        ("keep", "integration"),
        ("keep", "integration"),
        ("keep", "service"),
    ]
    assert diff.describe(pruned)[-3] == (
        "= keep integration payments/refunds/Custom checks: its service is kept "
        "(service payments/refunds)"
    )
    assert diff.describe(pruned)[-1] == "= keep service payments/refunds: has 2 incident(s)"


def test_creations_come_in_dependency_order(raw):
    changes = diff.diff({}, _objects(raw), prune=False)
    kinds = [c.kind for c in changes]
    assert kinds == sorted(kinds, key=diff.KINDS.index)
    assert kinds[0] == "team"


def test_teams_outside_the_document_are_left_alone(raw):
    other = {("team", "other"): {"name": "Other", "time_zone": "UTC"},
             ("service", "other", "legacy"): {"name": "Legacy"}}  # fmt: skip
    changes = diff.diff({**_objects(raw), **other}, _objects(raw), prune=True)
    assert changes == []


def test_it_refuses_times_that_do_not_exist(raw):
    raw["teams"][0]["schedules"][0]["layers"][0]["handoff"] = "2030-02-30T09:00"
    raw["teams"][0]["schedules"][0]["layers"][1]["restrictions"][0]["end"] = "25:00"
    assert problems(raw) == [
        "team 'payments' / schedule 'Primary': layers[0].handoff: '2030-02-30T09:00' is not a "
        "real date and time",
        "team 'payments' / schedule 'Primary': layers[1].restrictions[0].end: '25:00' is not a "
        "real date and time",
    ]
