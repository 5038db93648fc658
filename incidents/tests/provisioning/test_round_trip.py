"""export -> apply to an empty database -> export again gives the same document; applying
twice changes nothing."""

from __future__ import annotations

import jsonschema
import pytest
import yaml

from incidents.provisioning import document
from incidents.tests.provisioning.conftest import provision
from oncall.models import Team


@pytest.mark.django_db
def test_it_applies_the_sample_and_exports_it_back(people, sample_file, tmp_path):
    plan = provision("apply", str(sample_file), "--plan")
    assert "+ create team payments" in plan
    assert "+ create service payments/refunds" in plan
    provision("apply", str(sample_file), "--apply")

    exported = provision("export")
    data = yaml.safe_load(exported)
    jsonschema.validate(data, document.schema())
    assert data == document.load(sample_file.read_text())
    team = data["teams"][0]
    assert team["schedules"][0]["layers"][1]["restrictions"] == [
        {"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}
    ]
    assert team["services"][0]["high_urgency_severities"] == ["critical", "error"]
    assert "token" not in exported


@pytest.mark.django_db
def test_the_second_plan_is_empty(people, sample_file):
    provision("apply", str(sample_file), "--apply")
    assert provision("apply", str(sample_file), "--plan").strip() == "No changes."
    assert provision("apply", str(sample_file), "--apply").strip() == "No changes."


@pytest.mark.django_db
def test_an_export_applied_to_an_empty_database_exports_the_same(people, sample_file, tmp_path):
    provision("apply", str(sample_file), "--apply")
    first = tmp_path / "first.yaml"
    provision("export", "-o", str(first))
    # Empty the configuration (the accounts stay: people are not part of the document).
    Team.objects.all().delete()
    assert yaml.safe_load(provision("export"))["teams"] == []
    provision("apply", str(first), "--apply")
    assert provision("export") == first.read_text()
