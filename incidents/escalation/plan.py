"""An escalation policy frozen into plain values, and the order its steps fire in. Pure:
no Django, so the stepping rules are tested without a database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any


@dataclass(frozen=True)
class Target:
    """A user, or whoever is on call in a schedule when the step fires."""

    user_id: int | None = None
    schedule_id: int | None = None

    def __post_init__(self) -> None:
        if (self.user_id is None) == (self.schedule_id is None):
            raise ValueError("a target is either a user or a schedule")

    def to_json(self) -> dict[str, int]:
        if self.user_id is not None:
            return {"user_id": self.user_id}
        return {"schedule_id": self.schedule_id}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Target:
        return cls(user_id=data.get("user_id"), schedule_id=data.get("schedule_id"))


@dataclass(frozen=True)
class Step:
    delay_seconds: int
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Position:
    step: int
    round: int


@dataclass(frozen=True)
class Plan:
    policy_id: int | None
    name: str
    repeat: int
    fallback_user_id: int | None
    steps: tuple[Step, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "policy_id": self.policy_id,
            "name": self.name,
            "repeat": self.repeat,
            "fallback_user_id": self.fallback_user_id,
            "steps": [
                {
                    "delay_seconds": step.delay_seconds,
                    "targets": [target.to_json() for target in step.targets],
                }
                for step in self.steps
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        return cls(
            policy_id=data.get("policy_id"),
            name=data.get("name", ""),
            repeat=int(data.get("repeat", 0)),
            fallback_user_id=data.get("fallback_user_id"),
            steps=tuple(
                Step(
                    delay_seconds=int(step["delay_seconds"]),
                    targets=tuple(Target.from_json(t) for t in step["targets"]),
                )
                for step in data.get("steps", [])
            ),
        )

    def delay(self, position: Position) -> timedelta:
        """How long after the previous step (or the start) the step at `position` fires."""
        return timedelta(seconds=self.steps[position.step].delay_seconds)

    def following(self, position: Position) -> Position | None:
        """The step after `position`; after the last step the chain repeats `repeat` times,
        then there is nothing left (the escalation is exhausted)."""
        if position.step + 1 < len(self.steps):
            return Position(position.step + 1, position.round)
        if position.round < self.repeat:
            return Position(0, position.round + 1)
        return None

    def describe(self, position: Position) -> str:
        label = f"step {position.step + 1} of {len(self.steps)}"
        if self.repeat:
            label += f", round {position.round + 1} of {self.repeat + 1}"
        return label
