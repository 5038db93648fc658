"""Fixtures of the incidents tests (the shared ones are in the root conftest.py)."""

import pytest

from tests.peers import Receiver, allow_loopback


@pytest.fixture
def receiver(settings):
    """A local HTTP server that webhooks are allowed to reach (tests.peers.Receiver)."""
    allow_loopback(settings)
    server = Receiver().start()
    yield server
    server.stop()
