import pytest


@pytest.mark.django_db
def test_pages_carry_the_security_headers(client, users):
    client.force_login(users["viewer"])
    response = client.get("/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-eval'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response  # plain HTTP: no HSTS


@pytest.mark.django_db
def test_the_session_cookie_is_httponly_and_lax(client, users):
    client.post("/accounts/login/", {"username": "viewer", "password": "correct horse 42"})
    cookie = client.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_no_page_uses_inline_script():
    """CSP forbids inline scripts; templates pass data in JSON script tags instead."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    offenders = []
    for template in root.glob("**/templates/**/*.html"):
        if ".venv" in template.parts:
            continue
        for match in re.finditer(
            r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", template.read_text(), re.S
        ):
            attrs, body = match["attrs"], match["body"].strip()
            if body and "application/json" not in attrs and "json_script" not in body:
                offenders.append(str(template.relative_to(root)))
        if re.search(r"\son(click|load|submit|change)=", template.read_text()):
            offenders.append(f"{template.relative_to(root)} (inline event handler)")
    assert offenders == []


@pytest.mark.django_db
def test_hsts_is_sent_behind_https_only(settings, users):
    from django.test import Client

    settings.PAGERLINE_BASE_URL = "https://pagerline.example"
    settings.SECURE_HSTS_SECONDS = 31536000  # what an https:// base URL sets at start-up
    settings.ALLOWED_HOSTS = ["pagerline.example"]
    client = Client(HTTP_HOST="pagerline.example")
    client.force_login(users["viewer"])
    secure = client.get("/", secure=True)
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in client.get("/", secure=False)
