import pytest
import requests

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_probe(make_web, users):
    web = make_web()
    assert requests.get(f"{web.url}/accounts/login/", timeout=5).status_code == 200
