import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env


@pytest.mark.parametrize(
    ("name", "value", "call"),
    [
        ("DEBUG", "maybe", lambda: env.env_bool("DEBUG")),
        ("WORKERS", "two", lambda: env.env_int("WORKERS", 1)),
        ("WORKERS", "0", lambda: env.env_int("WORKERS", 1, minimum=1)),
    ],
)
def test_it_refuses_bad_values_naming_the_variable(monkeypatch, name, value, call):
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=name):
        call()


def test_it_reads_good_values(monkeypatch):
    monkeypatch.setenv("DEBUG", "yes")
    monkeypatch.setenv("WORKERS", "4")
    monkeypatch.setenv("HOSTS", "a.example, b.example")
    assert env.env_bool("DEBUG") is True
    assert env.env_int("WORKERS", 1) == 4
    assert env.env_list("HOSTS", []) == ["a.example", "b.example"]


def test_it_turns_a_postgres_url_into_database_settings():
    db = env.database_from_url(
        "postgres://pager:s%40cret@db.internal:5433/pagerline?sslmode=require"
    )
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"]) == ("pagerline", "pager", "s@cret")
    assert (db["HOST"], db["PORT"]) == ("db.internal", "5433")
    assert db["OPTIONS"] == {"sslmode": "require", "prepare_threshold": 5}


@pytest.mark.parametrize(
    ("query", "threshold"),
    [("", 5), ("?prepare_threshold=0", 0), ("?prepare_threshold=None", None)],
)
def test_the_url_may_turn_prepared_statements_off_for_a_connection_pooler(query, threshold):
    db = env.database_from_url(f"postgres://pager@db.internal/pagerline{query}")
    assert db["OPTIONS"]["prepare_threshold"] == threshold


def test_behind_pgbouncer_there_are_no_server_side_cursors_nor_prepared_statements():
    url = "postgres://pager@pgbouncer.internal:6432/pagerline"
    direct = env.database_from_url(url)
    assert direct["DISABLE_SERVER_SIDE_CURSORS"] is False
    assert direct["OPTIONS"]["prepare_threshold"] == 5
    pooled = env.database_from_url(url, pgbouncer=True)
    assert pooled["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert pooled["OPTIONS"]["prepare_threshold"] is None
    # PgBouncer 1.21+ with max_prepared_statements: the URL may turn preparing back on.
    kept = env.database_from_url(f"{url}?prepare_threshold=5", pgbouncer=True)
    assert kept["OPTIONS"]["prepare_threshold"] == 5


@pytest.mark.parametrize("raw", ["-1", "five", "2.5"])
def test_it_refuses_a_prepare_threshold_that_is_not_a_count(raw):
    with pytest.raises(ImproperlyConfigured, match="prepare_threshold"):
        env.database_from_url(f"postgres://pager@db.internal/pagerline?prepare_threshold={raw}")


def test_it_turns_a_sqlite_url_into_database_settings(tmp_path):
    db = env.database_from_url(f"sqlite:///{tmp_path}/x.sqlite3")
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == f"{tmp_path}/x.sqlite3"


@pytest.mark.parametrize(
    "url", ["mysql://localhost/db", "postgres://localhost", "postgres://h:port/db", "sqlite://"]
)
def test_it_refuses_unusable_database_urls(url):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        env.database_from_url(url)


def test_it_maps_redis_urls_for_celery_and_redis_py():
    assert env.redis_location("redis://cache:6379/2") == ("redis://cache:6379/2",) * 2
    assert env.redis_location("unix:///run/redis.sock") == (
        "redis+socket:///run/redis.sock",
        "unix:///run/redis.sock",
    )
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        env.redis_location("http://cache")


def test_it_reads_a_sentinel_url_naming_several_sentinels():
    url = "sentinel://:s%40cret@sentinel-a:26379,sentinel-b:26380,sentinel-c/mymaster/2"
    location = env.redis_sentinel(url)
    assert location == env.RedisSentinel(
        sentinels=(("sentinel-a", 26379), ("sentinel-b", 26380), ("sentinel-c", 26379)),
        master_name="mymaster",
        db=2,
        password="s@cret",
    )
    # Kombu's form: one URL per sentinel joined by `;`, the primary's name as an option.
    assert env.redis_location(url) == (
        "sentinel://:s%40cret@sentinel-a:26379/2;sentinel://:s%40cret@sentinel-b:26380/2;"
        "sentinel://:s%40cret@sentinel-c:26379/2",
        url,
    )
    assert location.broker_transport_options == {"master_name": "mymaster"}


def test_a_sentinel_url_may_leave_out_the_database_and_give_the_sentinels_a_password():
    location = env.redis_sentinel("sentinel://[::1]:26379/cache?sentinel_password=pw")
    assert (location.sentinels, location.master_name, location.db) == (
        (("::1", 26379),),
        "cache",
        0,
    )
    assert location.password is None
    assert location.broker_url == "sentinel://[::1]:26379/0"
    assert location.broker_transport_options == {
        "master_name": "cache",
        "sentinel_kwargs": {"password": "pw"},
    }


def test_other_schemes_are_not_sentinel_urls():
    assert env.redis_sentinel("redis://cache:6379/0") is None


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("sentinel://sentinel-a:26379", "must name the monitored primary"),
        ("sentinel://sentinel-a:26379/", "must name the monitored primary"),
        ("sentinel://sentinel-a:26379/mymaster/zero", "database 'zero' is not a number"),
        ("sentinel://sentinel-a:26379/mymaster/0/extra", "must name the monitored primary"),
        ("sentinel://sentinel-a:port/mymaster", "invalid port"),
        ("sentinel://sentinel-a:70000/mymaster", "invalid port"),
        ("sentinel://sentinel-a,,sentinel-b/mymaster", "each sentinel's host"),
        ("sentinel:///mymaster", "each sentinel's host"),
        ("sentinel://sentinel-a/mymaster?master=other", "unknown option"),
    ],
)
def test_it_refuses_unusable_sentinel_urls(url, complaint):
    with pytest.raises(ImproperlyConfigured, match=f"REDIS_URL.*{complaint}"):
        env.redis_location(url)


def test_it_maps_email_urls():
    smtp = env.email_from_url("smtp+tls://bot:pw@mail.example:587")
    assert smtp["EMAIL_HOST"] == "mail.example" and smtp["EMAIL_PORT"] == 587
    assert smtp["EMAIL_USE_TLS"] and not smtp["EMAIL_USE_SSL"]
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        env.email_from_url("carrier-pigeon://coop")


def test_settings_fail_at_start_up_on_a_bad_value():
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "perhaps"},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "DEBUG='perhaps' is not a boolean" in result.stderr


def test_a_pooled_postgres_database_hands_connections_back_instead_of_keeping_them(monkeypatch):
    db = env.database_from_url("postgres://pager@db.internal/pagerline", pooled=True)
    assert db["CONN_MAX_AGE"] == 0  # Django's pool refuses persistent connections
    assert db["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 10, "timeout": 10}
    monkeypatch.setenv("PAGERLINE_DB_POOL_SIZE", "4")
    db = env.database_from_url("postgres://pager@db.internal/pagerline", pooled=True)
    assert db["OPTIONS"]["pool"]["max_size"] == 4
    monkeypatch.setenv("PAGERLINE_DB_POOL_SIZE", "0")
    with pytest.raises(ImproperlyConfigured, match="PAGERLINE_DB_POOL_SIZE"):
        env.database_from_url("postgres://pager@db.internal/pagerline", pooled=True)
    assert "pool" not in env.database_from_url("postgres://pager@db.internal/pagerline")["OPTIONS"]


def test_the_web_server_is_gevent_on_postgresql_and_sync_on_sqlite(monkeypatch):
    from config.launch import web_server_args

    monkeypatch.setattr("os.cpu_count", lambda: 2)
    postgres = web_server_args(database_url="postgres://pager@db.internal/pagerline")
    assert postgres == [
        "--worker-class",
        "gevent",
        "--workers",
        "2",
        "--config",
        str(Path(__file__).resolve().parent.parent / "config" / "gunicorn_conf.py"),
    ]
    assert web_server_args(database_url="sqlite:////tmp/x.sqlite3") == [
        "--worker-class",
        "sync",
        "--workers",
        "5",
    ]
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert web_server_args()[1] == "sync"  # the embedded default is SQLite


def test_a_gevent_process_gets_a_connection_pool(tmp_path):
    """What a gevent worker does: patch the standard library, then load the settings."""
    script = (
        "from gevent import monkey; monkey.patch_all()\n"
        "from django.conf import settings\n"
        "db = settings.DATABASES['default']\n"
        "print(db['CONN_MAX_AGE'], db['OPTIONS']['pool']['max_size'])\n"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": "postgres://pager@db.internal/pagerline",
        "PAGERLINE_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parent.parent,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["0", "10"]


def test_webhook_private_networks_are_read_and_a_bad_one_is_named(monkeypatch):
    import ipaddress

    monkeypatch.setenv("PAGERLINE_WEBHOOK_PRIVATE_NETWORKS", "10.0.0.0/8, 192.168.1.7,fd00::/8")
    assert env.env_networks("PAGERLINE_WEBHOOK_PRIVATE_NETWORKS") == [
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.168.1.7/32"),
        ipaddress.ip_network("fd00::/8"),
    ]
    monkeypatch.setenv("PAGERLINE_WEBHOOK_PRIVATE_NETWORKS", "10.0.0.0/8,intranet")
    with pytest.raises(
        ImproperlyConfigured, match="PAGERLINE_WEBHOOK_PRIVATE_NETWORKS: 'intranet'"
    ):
        env.env_networks("PAGERLINE_WEBHOOK_PRIVATE_NETWORKS")


def test_gunicorn_refuses_preload_with_gevent_workers(tmp_path):
    """--preload would read the settings before gevent patches threading (no pool, no shared
    commit): start-up stops with a message instead."""
    from config.launch import web_server_args

    url = "postgres://pager@db.internal/pagerline"
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            "127.0.0.1:0",
            *web_server_args(1, url),
            "--preload",
        ],
        cwd=root,
        env={**os.environ, "DATABASE_URL": url, "PAGERLINE_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "--preload cannot be used with gevent workers" in result.stdout + result.stderr
