"""Pagerline settings: every value comes from the environment, read once, here.

With no DATABASE_URL the app uses SQLite under ./var; with no REDIS_URL it uses the
embedded Redis socket under ./var (started by the launcher or the test suite).
"""

from __future__ import annotations

import base64
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from config.embedded import socket_path
from config.env import (
    celery_queues,
    database_from_url,
    email_from_url,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_networks,
    env_str,
    redis_location,
    redis_sentinel,
    sqlite_database,
)
from config.logformat import LOG_FORMATS
from core.runtime import green
from incidents import task_names

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PAGERLINE_VAR_DIR", str(BASE_DIR / "var"))).resolve()

DEBUG = env_bool("DEBUG", False)
# Keys made up on this host and kept under VAR_DIR because their variable is unset: fine on
# a laptop, wrong with two hosts (each makes its own). `check --deploy` warns (core.checks).
PAGERLINE_KEYS_FROM_VAR: list[str] = []


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        if len(key) < 32:
            raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters")
        return key
    # Laptop default: a random key kept under ./var so sessions survive restarts. Each host
    # would make its own: `check --deploy` warns (core.checks) until SECRET_KEY is set.
    PAGERLINE_KEYS_FROM_VAR.append("SECRET_KEY")
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
PAGERLINE_BASE_URL = env_str("PAGERLINE_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
if urlsplit(PAGERLINE_BASE_URL).scheme not in {"http", "https"}:
    raise ImproperlyConfigured("PAGERLINE_BASE_URL must start with http:// or https://")
CSRF_TRUSTED_ORIGINS = [PAGERLINE_BASE_URL]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "oncall",
    "incidents",
    "metrics",
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.FirstRunMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "oncall.context_processors.navigation",
            ],
        },
    },
]

_database_url = env_str("DATABASE_URL")
DATABASES = {
    # PAGERLINE_PGBOUNCER: DATABASE_URL names a PgBouncer in transaction pooling mode.
    "default": database_from_url(
        _database_url, pooled=green(), pgbouncer=env_bool("PAGERLINE_PGBOUNCER", False)
    )
    if _database_url
    else sqlite_database(VAR_DIR / "pagerline.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_redis_url = env_str("REDIS_URL") or f"unix://{socket_path(VAR_DIR)}"
REDIS_EMBEDDED = not env_str("REDIS_URL")
CELERY_BROKER_URL, REDIS_CLIENT_URL = redis_location(_redis_url)
# REDIS_URL=sentinel://...: the broker and the cache ask Redis Sentinel for the primary, and
# follow it when a replica is promoted (docs/operations.md, "Redis Sentinel").
REDIS_SENTINEL = redis_sentinel(_redis_url)

CACHES = {
    "default": {
        "BACKEND": "config.redis_sentinel.SentinelRedisCache"
        if REDIS_SENTINEL
        else "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_CLIENT_URL,
        "KEY_PREFIX": env_str("PAGERLINE_CACHE_PREFIX", "pagerline"),
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

# Celery: a lost worker's tasks are re-queued (acks late); every task is safe to run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Messages to people have a queue of their own (<queue>.notify), which a worker consumes
# with the default one: in a storm a page's message does not wait behind the backlog of
# escalations and their next steps' ETA tasks (docs/performance.md, "Paging storm").
_queues = celery_queues(
    env_str("PAGERLINE_QUEUE", "pagerline"), notify_tasks=(task_names.SEND_NOTIFICATION,)
)
CELERY_TASK_DEFAULT_QUEUE = _queues["CELERY_TASK_DEFAULT_QUEUE"]
CELERY_TASK_QUEUES = _queues["CELERY_TASK_QUEUES"]
CELERY_TASK_ROUTES = _queues["CELERY_TASK_ROUTES"]
PAGERLINE_NOTIFY_QUEUE = _queues["PAGERLINE_NOTIFY_QUEUE"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "visibility_timeout": 3600,
    **(REDIS_SENTINEL.broker_transport_options if REDIS_SENTINEL else {}),
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"

# How long a delivery may sit pending before the beat task re-drives it, and how long a
# claim may stay unfinished before another worker takes the delivery over.
PAGERLINE_REDRIVE_AFTER_SECONDS = env_int("PAGERLINE_REDRIVE_AFTER_SECONDS", 5, minimum=1)
PAGERLINE_CLAIM_TIMEOUT_SECONDS = env_int("PAGERLINE_CLAIM_TIMEOUT_SECONDS", 60, minimum=5)
PAGERLINE_DRAIN_BATCH = env_int("PAGERLINE_DRAIN_BATCH", 200, minimum=1)
PAGERLINE_MAX_BODY_BYTES = env_int("PAGERLINE_MAX_BODY_BYTES", 1024 * 1024, minimum=1024)
# Retention of raw webhook bodies (the delivery inbox): processed deliveries older than this
# many days, and failed ones this long after they were retried or dismissed, are removed by
# beat in small batches (incidents/intake/retention.py). Incidents and alerts are kept.
PAGERLINE_DELIVERY_RETENTION_DAYS = env_int("PAGERLINE_DELIVERY_RETENTION_DAYS", 30, minimum=1)
# Rows per DELETE statement (each its own short transaction) and the time one run may take.
PAGERLINE_DELIVERY_PURGE_BATCH = env_int("PAGERLINE_DELIVERY_PURGE_BATCH", 5000, minimum=1)
PAGERLINE_DELIVERY_PURGE_SECONDS = env_int("PAGERLINE_DELIVERY_PURGE_SECONDS", 240, minimum=1)
# Serves /bench/bare (a 202 with no I/O) so bench/ingest.py can compare intake against the
# cost of the bare stack under the same server; off in normal deployments.
PAGERLINE_BENCH_VIEWS = env_bool("PAGERLINE_BENCH_VIEWS", False)

# Escalation: beat's auditor runs this often and re-drives any step overdue by more than
# PAGERLINE_ESCALATION_OVERDUE_SECONDS (its ETA task was lost with a killed worker).
PAGERLINE_ESCALATION_AUDIT_SECONDS = env_int("PAGERLINE_ESCALATION_AUDIT_SECONDS", 60, minimum=1)
PAGERLINE_ESCALATION_OVERDUE_SECONDS = env_int("PAGERLINE_ESCALATION_OVERDUE_SECONDS", 5, minimum=0)
# Notifications: transient failures are retried with exponential backoff (base, 2x, 4x...);
# an endpoint's circuit opens after N consecutive failures and half-opens after a cool-down.
PAGERLINE_NOTIFY_MAX_ATTEMPTS = env_int("PAGERLINE_NOTIFY_MAX_ATTEMPTS", 5, minimum=1)
PAGERLINE_NOTIFY_BACKOFF_SECONDS = env_int("PAGERLINE_NOTIFY_BACKOFF_SECONDS", 30, minimum=1)
PAGERLINE_NOTIFY_CLAIM_TIMEOUT_SECONDS = env_int(
    "PAGERLINE_NOTIFY_CLAIM_TIMEOUT_SECONDS", 120, minimum=10
)
PAGERLINE_WEBHOOK_TIMEOUT_SECONDS = env_int("PAGERLINE_WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1)
# Webhook contact methods may only reach public addresses, unless their network is listed
# here (an on-premises chat server, say): no paging the cloud metadata service or Redis.
PAGERLINE_WEBHOOK_PRIVATE_NETWORKS = env_networks("PAGERLINE_WEBHOOK_PRIVATE_NETWORKS")
PAGERLINE_BREAKER_THRESHOLD = env_int("PAGERLINE_BREAKER_THRESHOLD", 5, minimum=1)
PAGERLINE_BREAKER_COOLDOWN_SECONDS = env_int("PAGERLINE_BREAKER_COOLDOWN_SECONDS", 60, minimum=1)

# Sign-in guessing (core.signin_guard): failures per client address and per account from one
# address, counted in the shared cache, start a cool-down for that address only (never an
# account-wide lock-out). Password reset requests and API token failures count per address.
PAGERLINE_SIGNIN_FAILURES_PER_ADDRESS = env_int(
    "PAGERLINE_SIGNIN_FAILURES_PER_ADDRESS", 10, minimum=1
)
PAGERLINE_SIGNIN_FAILURES_PER_ACCOUNT = env_int(
    "PAGERLINE_SIGNIN_FAILURES_PER_ACCOUNT", 5, minimum=1
)
PAGERLINE_PASSWORD_RESETS_PER_ADDRESS = env_int(
    "PAGERLINE_PASSWORD_RESETS_PER_ADDRESS", 5, minimum=1
)
PAGERLINE_SIGNIN_COOLDOWN_MINUTES = env_int("PAGERLINE_SIGNIN_COOLDOWN_MINUTES", 15, minimum=1)
# Proxies (CIDRs) whose X-Forwarded-For names the client; anyone else's is ignored.
PAGERLINE_TRUSTED_PROXIES = env_networks("PAGERLINE_TRUSTED_PROXIES")


# Paging (docs/paging.md). Secrets in contact methods (Apprise URLs carry tokens) are
# encrypted with the first of PAGERLINE_ENCRYPTION_KEYS (Fernet keys, comma-separated); the
# others still decrypt, so a key is rotated by putting a new one first and running
# `manage.py encryption_rotate`. Laptop default: one key kept under ./var.
def _encryption_keys() -> list[str]:
    keys = env_list("PAGERLINE_ENCRYPTION_KEYS", [])
    if keys:
        return keys
    PAGERLINE_KEYS_FROM_VAR.append("PAGERLINE_ENCRYPTION_KEYS")
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "encryption_key"
    if not path.exists():
        path.write_text(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        path.chmod(0o600)
    return [path.read_text().strip()]


PAGERLINE_ENCRYPTION_KEYS = _encryption_keys()
# Acknowledge / resolve links in messages: how long one works (it also stops working once
# used, or once the incident has moved past its action).
PAGERLINE_ACTION_LINK_HOURS = env_int("PAGERLINE_ACTION_LINK_HOURS", 24, minimum=1)
# How long an emailed invitation link works (resending one starts the time again).
PAGERLINE_INVITATION_DAYS = env_int("PAGERLINE_INVITATION_DAYS", 7, minimum=1)
# Verification codes sent through a new contact method.
PAGERLINE_VERIFY_CODE_MINUTES = env_int("PAGERLINE_VERIFY_CODE_MINUTES", 15, minimum=1)
# The same person is sent at most one message per channel per interval; what queues up
# meanwhile goes out together as one bundle. 0 = no limit (messages still bundle while
# an earlier one is being sent).
PAGERLINE_CHANNEL_INTERVAL_SECONDS = {
    "sms": env_int("PAGERLINE_SMS_INTERVAL_SECONDS", 30, minimum=0),
    "voice": env_int("PAGERLINE_VOICE_INTERVAL_SECONDS", 60, minimum=0),
    "slack": env_int("PAGERLINE_SLACK_INTERVAL_SECONDS", 0, minimum=0),
    "email": env_int("PAGERLINE_EMAIL_INTERVAL_SECONDS", 0, minimum=0),
    "apprise": env_int("PAGERLINE_APPRISE_INTERVAL_SECONDS", 0, minimum=0),
    "webhook": env_int("PAGERLINE_WEBHOOK_INTERVAL_SECONDS", 0, minimum=0),
}
# Twilio (SMS and voice): from the console, Account Info and a phone number of the account.
# The API base URL is configurable for tests (a local stand-in); never change it otherwise.
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER", "")
TWILIO_API_BASE_URL = env_str("TWILIO_API_BASE_URL", "https://api.twilio.com").rstrip("/")
# Slack app: its bot token (xoxb-...) and signing secret (Basic Information).
SLACK_BOT_TOKEN = env_str("SLACK_BOT_TOKEN", "")
SLACK_SIGNING_SECRET = env_str("SLACK_SIGNING_SECRET", "")
SLACK_API_BASE_URL = env_str("SLACK_API_BASE_URL", "https://slack.com/api/").rstrip("/") + "/"

# /metrics (Prometheus): when a token is set, scrapers must send `Authorization: Bearer <it>`.
PAGERLINE_METRICS_TOKEN = env_str("PAGERLINE_METRICS_TOKEN", "")
if PAGERLINE_METRICS_TOKEN and len(PAGERLINE_METRICS_TOKEN) < 16:
    raise ImproperlyConfigured("PAGERLINE_METRICS_TOKEN must be at least 16 characters")
# The MTTx rollup follows the incident event log by id; an event younger than this may
# belong to a transaction still in flight, so the rollup looks at it again next time.
PAGERLINE_MTTX_COMMIT_MARGIN_SECONDS = env_int(
    "PAGERLINE_MTTX_COMMIT_MARGIN_SECONDS", 300, minimum=0
)

EMAIL_URL = env_str("EMAIL_URL", "console://")
_email = email_from_url(EMAIL_URL)
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"]
EMAIL_PORT = _email["EMAIL_PORT"]
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"]
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"]
EMAIL_USE_TLS = _email["EMAIL_USE_TLS"]
EMAIL_USE_SSL = _email["EMAIL_USE_SSL"]
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Pagerline <pagerline@localhost>")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
# Storage is always UTC; TIME_ZONE is only how times are shown when no team zone applies.
TIME_ZONE = env_str("TIME_ZONE", "UTC")
try:
    from zoneinfo import ZoneInfo

    ZoneInfo(TIME_ZONE)
except Exception:
    raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not an IANA time zone") from None
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
import plotly  # noqa: E402 - only to locate its bundled plotly.min.js

# plotly.js comes from the plotly package itself: /static/plotly/plotly.min.js, no CDN.
STATICFILES_DIRS = [BASE_DIR / "static", ("plotly", Path(plotly.__file__).parent / "package_data")]
# WhiteNoise serves assets (plotly.js included) straight from the app and static/ folders,
# so no collectstatic step and no CDN are needed.
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True

SESSION_ENGINE = "config.sessions"  # the database's, refusing malformed keys
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# HTTPS (docs/operations.md, "Production settings"): an https:// PAGERLINE_BASE_URL turns on
# secure cookies and HSTS; on a laptop (http://) all of it stays off.
_https = PAGERLINE_BASE_URL.startswith("https://")
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Behind a TLS-terminating proxy, trust its X-Forwarded-Proto only when told to.
_behind_proxy = env_bool("PAGERLINE_BEHIND_PROXY", False)
if _behind_proxy:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Plain-HTTP requests are redirected to https://. On by default only behind a proxy whose
# X-Forwarded-Proto is trusted: gunicorn itself speaks plain HTTP, so without that header
# every request would look insecure and be redirected forever. Health probes and Prometheus
# scrape the processes directly over HTTP, so those paths are never redirected.
SECURE_SSL_REDIRECT = env_bool("PAGERLINE_SSL_REDIRECT", _https and _behind_proxy)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# Strict-Transport-Security on secure responses (Django's SecurityMiddleware, and the
# webhook front through config.middleware.response_headers). Preload is a promise about the
# whole registrable domain, so it is only ever sent when asked for.
SECURE_HSTS_SECONDS = env_int("PAGERLINE_HSTS_SECONDS", 31536000 if _https else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("PAGERLINE_HSTS_INCLUDE_SUBDOMAINS", _https)
SECURE_HSTS_PRELOAD = env_bool("PAGERLINE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON nested deeper than core.parsers.MAX_DEPTH levels is a 400, never a RecursionError.
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Every list answers one page shape, generic views and plain APIViews alike.
    "DEFAULT_PAGINATION_CLASS": "core.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # OPTIONS answers every view, also a paginated one that declares no serializer_class.
    "DEFAULT_METADATA_CLASS": "core.metadata.ApiMetadata",
    # A service's FieldErrors answers 400 {"field": ["message"]}, like a serializer's errors.
    "EXCEPTION_HANDLER": "core.api_errors.exception_handler",
    # Throttling protects the API (never alert intake, which is not DRF); counters live in
    # the shared cache, so the limit holds across web processes. 429 carries Retry-After.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("PAGERLINE_API_RATE_ANON", "60/min"),
        "user": env_str("PAGERLINE_API_RATE_USER", "1200/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Pagerline API",
    "DESCRIPTION": "Incidents, on-call schedules, drills and metrics. Durations are seconds; "
    "instants are UTC ISO 8601. Authenticate with `Authorization: Bearer <personal token>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema and the docs describe every endpoint: for signed-in users (or a token) only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Choice sets that several components share get one name (else drf-spectacular invents one).
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "incidents.models.Channel",
        "IntegrationSourceEnum": "incidents.models.SourceKind",
        "IncidentStatusEnum": "incidents.models.IncidentStatus",
        "NotificationStatusEnum": "incidents.models.NotificationStatus",
        "UrgencyEnum": "incidents.models.Urgency",
        "SeverityEnum": "incidents.catalog.api.SEVERITIES",
        "DrillStatusEnum": "metrics.models.Drill.Status",
        "DrillResultEnum": "metrics.serializers.DRILL_RESULTS",
        "TargetResultEnum": "metrics.serializers.TARGET_RESULTS",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.openapi.document_errors",  # 400/401/403/404/429, which every operation may answer
    ],
}

# `text` (the default) or `json`: one JSON object per line with the request's id
# (X-Request-ID) or the Celery task's (config.logformat).
PAGERLINE_LOG_FORMAT = env_choice("PAGERLINE_LOG_FORMAT", "text", LOG_FORMATS)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_secret_paths": {"()": "config.logfilters.RedactSecretPaths"},
        "request_id": {"()": "config.logformat.RequestIdFilter"},
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "config.logformat.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": PAGERLINE_LOG_FORMAT,
            "filters": ["redact_secret_paths", "request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The twilio client logs every request and response line by line at INFO.
        "twilio.http_client": {"level": "WARNING"},
        # Django logs the path of every 4xx/5xx: webhook paths carry their token.
        "django.request": {"filters": ["redact_secret_paths"]},
        "django.server": {"filters": ["redact_secret_paths"]},
    },
}
