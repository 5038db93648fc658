from __future__ import annotations

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
