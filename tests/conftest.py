"""Fixtures of the cross-app tests in this folder (the shared ones are in the root
conftest.py)."""

import pytest

from tests.access_world import module_world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The access world (tests/access_world.py), built once for the test module; each test
    runs in a savepoint inside its transaction, so what one request changes, the next never
    sees."""
    with module_world(django_db_blocker) as built:
        yield built
