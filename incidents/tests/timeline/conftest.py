"""Fixtures of the timeline tests."""

import pytest

from incidents.tests.factories import make_service


@pytest.fixture
def other_service(team):
    """A second service of `team`, beside the shared `service` (checkout)."""
    return make_service(team, "payments-api", "Payments API")
