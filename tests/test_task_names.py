"""Celery task names are written once, in each app's task_names.py: every constant names a
task the Celery app registers (as a worker loads them), every task of ours has a constant,
every beat entry runs a registered task, and no task name is written as a string literal
anywhere else in the code (a typo there would be a message no worker ever takes)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from config.celery import app

ROOT = Path(__file__).resolve().parents[1]
# Apps with Celery tasks (oncall has none: its handoff notices are sent by incidents).
APPS = ("incidents", "metrics")
SOURCE_FOLDERS = ("config", "core", "oncall", "incidents", "metrics", "tests")
NAME_MODULES = {ROOT / app / "task_names.py" for app in APPS}
# Where names may be written: the constants, and this test's own examples of the scan.
ALLOWED = NAME_MODULES | {Path(__file__).resolve()}
# Calls whose first argument, or `name=`, is a task name.
TASK_CALLS = {"send_task", "signature", "shared_task", "task"}


def _constants() -> dict[str, str]:
    """Every name constant, as "app.CONSTANT" -> task name."""
    found = {}
    for app_name in APPS:
        module = importlib.import_module(f"{app_name}.task_names")
        for key, value in vars(module).items():
            if key.isupper() and isinstance(value, str):
                found[f"{app_name}.{key}"] = value
    return found


def _registered() -> set[str]:
    """Our tasks as a worker registers them (autodiscovery, on the worker's import signal)."""
    app.loader.import_default_modules()
    return {name for name in app.tasks if name.partition(".")[0] in APPS}


def _sources() -> list[Path]:
    return [
        path
        for folder in SOURCE_FOLDERS
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "migrations" not in path.parts and path not in ALLOWED
    ]


def _called(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _literal_names(tree: ast.AST, known: set[str]) -> list[tuple[int, str]]:
    """(line, text) of each string literal that is, or stands where there should be, a task
    name: a known name anywhere, the name given to send_task / signature / shared_task, and
    the "task" of a beat entry."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value in known:
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.Call) and _called(node) in TASK_CALLS:
            named = [kw.value for kw in node.keywords if kw.arg == "name"]
            if _called(node) != "shared_task" and node.args:
                named.append(node.args[0])
            found += [
                (value.lineno, value.value)
                for value in named
                if isinstance(value, ast.Constant) and isinstance(value.value, str)
            ]
        elif isinstance(node, ast.Dict):
            found += [
                (value.lineno, value.value)
                for key, value in zip(node.keys, node.values, strict=True)
                if isinstance(key, ast.Constant)
                and key.value == "task"
                and isinstance(value, ast.Constant)
                and isinstance(value.value, str)
            ]
    return sorted(set(found))


def test_every_name_constant_is_a_registered_task_and_every_task_has_one():
    constants = _constants()
    assert constants, "no task name constants found"
    names = list(constants.values())
    assert len(names) == len(set(names)), "two constants name the same task"
    for key, name in constants.items():
        assert name.partition(".")[0] == key.partition(".")[0], f"{key} = {name!r}: another app"
    assert set(names) == _registered()


def test_every_beat_entry_runs_a_registered_task():
    registered, constants = _registered(), set(_constants().values())
    schedule = app.conf.beat_schedule
    assert schedule
    for entry, spec in schedule.items():
        assert spec["task"] in registered, entry
        assert spec["task"] in constants, entry


@pytest.mark.parametrize(
    "code, expected",
    [
        ('app.send_task("incidents.drain_deliveries")', ["incidents.drain_deliveries"]),
        ('current_app.send_task("typo.task", args=[1])', ["typo.task"]),
        ('@shared_task(name="x.y")\ndef f(): pass', ["x.y"]),
        ('sig = app.signature("x.y")', ["x.y"]),
        ('BEAT = {"e": {"task": "x.y", "schedule": 5.0}}', ["x.y"]),
        ('NAME = "metrics.rollup_closed_weeks"', ["metrics.rollup_closed_weeks"]),
        ("app.send_task(task_names.DRAIN_DELIVERIES)", []),
        ('"""Runs `incidents.escalate` on beat."""', []),
    ],
)
def test_the_scan_finds_literal_task_names(code, expected):
    known = {"incidents.drain_deliveries", "metrics.rollup_closed_weeks"}
    assert [text for _, text in _literal_names(ast.parse(code), known)] == expected


def test_no_task_name_is_written_as_a_literal_outside_task_names():
    known = set(_constants().values()) | _registered()
    sources = _sources()
    assert len(sources) > 50
    found = []
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found += [
            f"{path.relative_to(ROOT)}:{line}: {text!r}"
            for line, text in _literal_names(tree, known)
        ]
    assert not found, "use the constants of <app>/task_names.py:\n" + "\n".join(found)
