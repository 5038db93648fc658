import pytest

from core.models import ApiToken, hash_api_token

pytestmark = pytest.mark.django_db


def test_it_creates_a_token_shown_once_and_stored_hashed(client, users):
    client.force_login(users["responder"])
    response = client.post("/account/tokens/", {"name": "chaos tooling"})
    page = response.content.decode()
    token = ApiToken.objects.get()
    plain = page.split('data-role="new-token">', 1)[1].split("<", 1)[0]
    assert plain.startswith("pl_") and token.token_hash == hash_api_token(plain)
    assert plain not in client.get("/account/tokens/").content.decode()


def test_a_token_name_with_a_nul_is_refused(client, users):
    # PostgreSQL text cannot hold a NUL: saving it used to fail in the database (a 500).
    client.force_login(users["responder"])
    assert client.post("/account/tokens/", {"name": "ci\x00"}).status_code == 400
    assert not ApiToken.objects.exists()


def test_a_token_authenticates_the_api_and_records_its_use(client, users):
    client.force_login(users["viewer"])
    created = client.post("/api/v1/tokens/", {"name": "ci"}, content_type="application/json")
    assert created.status_code == 201
    plain = created.json()["token"]
    client.logout()
    response = client.get("/api/v1/me/", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200
    assert response.json()["username"] == "viewer"
    assert response.json()["teams"] == [{"slug": "payments", "name": "Payments", "role": "viewer"}]
    assert ApiToken.objects.get().last_used_at is not None
    listed = client.get("/api/v1/tokens/", headers={"Authorization": f"Bearer {plain}"}).json()
    assert "token" not in listed["results"][0]


def test_a_revoked_or_wrong_token_is_refused(client, users):
    client.force_login(users["viewer"])
    created = client.post("/api/v1/tokens/", {"name": "ci"}, content_type="application/json")
    plain, token_id = created.json()["token"], created.json()["id"]
    assert client.delete(f"/api/v1/tokens/{token_id}/").status_code == 204
    client.logout()
    for value in (plain, "pl_not-a-token"):
        response = client.get("/api/v1/me/", headers={"Authorization": f"Bearer {value}"})
        assert response.status_code == 401
        assert response.json()["detail"] == "invalid or revoked API token"


def test_people_cannot_revoke_each_others_tokens(client, users):
    client.force_login(users["viewer"])
    token_id = client.post(
        "/api/v1/tokens/", {"name": "mine"}, content_type="application/json"
    ).json()["id"]
    client.force_login(users["outsider"])
    assert client.delete(f"/api/v1/tokens/{token_id}/").status_code == 404
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert ApiToken.objects.get().revoked_at is None


def test_anonymous_api_calls_are_refused(client):
    assert client.get("/api/v1/me/").status_code in {401, 403}


def test_the_schema_and_docs_are_served_locally(client, users):
    client.force_login(users["viewer"])
    schema = client.get("/api/schema/", headers={"Accept": "application/json"})
    assert schema.status_code == 200
    assert "/api/v1/me/" in schema.json()["paths"]
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs and "cdn" not in docs.lower()
