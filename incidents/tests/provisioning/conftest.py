from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from oncall.tests.factories import make_user

SAMPLE = Path(__file__).with_name("sample.yaml")


@pytest.fixture
def people(db):
    """The accounts sample.yaml names (it creates their team and memberships)."""
    return {name: make_user(name, email=f"{name}@example.com") for name in ("ana", "bo", "cy")}


def z(text: str) -> datetime:
    """'2027-03-15T14:00' as an aware UTC instant: the hand-written shift lists."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def provision(*args: str) -> str:
    """Run `manage.py provision ...`; its output."""
    out = StringIO()
    call_command("provision", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def sample_file(tmp_path) -> Path:
    path = tmp_path / "team.yaml"
    path.write_text(SAMPLE.read_text())
    return path


def run_import(vendor: str, url: str, tmp_path: Path) -> tuple[Path, str]:
    """`manage.py provision import --from vendor` against `url`; the document's path and the
    report's text."""
    out, report = tmp_path / f"{vendor}.yaml", tmp_path / f"{vendor}-report.txt"
    call_command(
        "provision", "import", "--from", vendor, "--url", url, "--token", "s3cret",
        "-o", str(out), "--report", str(report),
    )  # fmt: skip
    return out, report.read_text()


def shifts_of(team_slug: str, schedule_name: str, start, end) -> list[tuple]:
    """The final shifts Pagerline computes for a stored schedule: (start, end, username)."""
    from oncall.models import Schedule
    from oncall.selectors import schedule_shifts

    schedule = Schedule.objects.get(team__slug=team_slug, name=schedule_name)
    return [(s.start, s.end, s.user) for s in schedule_shifts(schedule, start=start, end=end)]


def was_throttled_then_served(requests: list[dict], path: str) -> bool:
    """`path` was answered 429 once, asked again no sooner than Retry-After (1 s), then 200."""
    tries = [r for r in requests if r["path"] == path]
    return [r["status"] for r in tries] == [429, 200] and tries[1]["at"] - tries[0]["at"] >= 0.95
