import pytest


def test_healthz_answers_without_io(client):
    # No django_db mark: any database access here would raise.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_database_and_broker(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ready"}


@pytest.mark.django_db
def test_readyz_names_the_broker_when_it_is_unreachable(client, settings):
    from config.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get("/readyz")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    assert "broker unreachable" in response.json()["message"]


@pytest.mark.django_db(transaction=True)
def test_readyz_names_the_database_when_it_is_unreachable(client):
    from django.db import connection

    from tests.peers import free_port

    port = connection.settings_dict.get("PORT")
    if connection.vendor != "postgresql":
        pytest.skip("SQLite is a file; it cannot be unreachable")
    connection.close()
    connection.settings_dict["PORT"] = str(free_port())  # nothing listens there
    try:
        response = client.get("/readyz")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port
    assert response.status_code == 503
    assert response.json()["message"].startswith("database unreachable")
