"""The frozen escalation plan and its stepping rules. Pure: no database."""

from datetime import timedelta

import pytest

from incidents.escalation.plan import Plan, Position, Step, Target


def plan(*delays: int, repeat: int = 0) -> Plan:
    return Plan(
        policy_id=1,
        name="Primary",
        repeat=repeat,
        fallback_user_id=None,
        steps=tuple(Step(delay_seconds=d, targets=(Target(user_id=7),)) for d in delays),
    )


def walk(p: Plan) -> list[tuple[int, int]]:
    position, seen = Position(0, 0), []
    while position is not None:
        seen.append((position.step, position.round))
        position = p.following(position)
    return seen


def test_it_walks_the_steps_then_stops():
    assert walk(plan(0, 60, 300)) == [(0, 0), (1, 0), (2, 0)]


def test_repeat_runs_the_whole_chain_again():
    assert walk(plan(0, 60, repeat=2)) == [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)]


def test_each_step_waits_its_own_delay():
    p = plan(0, 90)
    assert p.delay(Position(1, 0)) == timedelta(seconds=90)
    assert p.delay(Position(0, 1)) == timedelta(0)


def test_it_survives_a_round_trip_through_json():
    p = Plan(
        policy_id=3,
        name="Nights",
        repeat=1,
        fallback_user_id=9,
        steps=(Step(30, (Target(user_id=1), Target(schedule_id=5))),),
    )
    assert Plan.from_json(p.to_json()) == p
    assert p.to_json()["steps"][0]["targets"] == [{"user_id": 1}, {"schedule_id": 5}]


def test_a_target_is_a_user_or_a_schedule_never_both():
    with pytest.raises(ValueError, match="either a user or a schedule"):
        Target(user_id=1, schedule_id=2)
    with pytest.raises(ValueError, match="either a user or a schedule"):
        Target()


def test_it_describes_steps_and_rounds_for_people():
    assert plan(0, 60).describe(Position(1, 0)) == "step 2 of 2"
    assert plan(0, repeat=2).describe(Position(0, 1)) == "step 1 of 1, round 2 of 3"
