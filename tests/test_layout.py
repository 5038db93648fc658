"""Layout rules the code base keeps: no application module grows past a readable size.

A module over 500 lines usually holds more than one responsibility; split it by what it does
(as oncall/rotation/ was) rather than raising the limit. Migrations and tests are exempt:
they are generated or tabular, and read one case at a time.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP_FOLDERS = ("config", "core", "oncall", "incidents", "metrics")
EXEMPT_FOLDERS = {"migrations", "tests"}
MAX_LINES = 500


def _modules() -> list[Path]:
    found = []
    for folder in APP_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if EXEMPT_FOLDERS.isdisjoint(path.relative_to(ROOT).parts[:-1]):
                found.append(path)
    return found


def test_it_keeps_every_module_under_500_lines():
    modules = _modules()
    assert modules, f"no modules found under {ROOT}"
    too_long = {}
    for path in modules:
        with path.open(encoding="utf-8") as source:
            count = sum(1 for _ in source)
        if count > MAX_LINES:
            too_long[str(path.relative_to(ROOT))] = count
    assert not too_long, f"modules over {MAX_LINES} lines (split them by responsibility): " + (
        ", ".join(f"{name} ({count} lines)" for name, count in sorted(too_long.items()))
    )
