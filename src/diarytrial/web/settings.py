"""Django settings, read from environment variables; no secrets live in this file.

``DIARYTRIAL_ENV`` picks the environment: ``development`` (the default: DEBUG on, a
development-only secret key, SQLite in ``var/``), ``test`` (as development, DEBUG off, fast
password hashing) or ``production`` (refuses to start without ``SECRET_KEY`` and
``ALLOWED_HOSTS``; HTTPS-only hardening that passes ``diarytrial check --deploy``).
Every variable is described in docs/deployment.md.

One module rather than a package of per-environment modules on purpose: pytest imports every
module under src/ for doctests, and a production module that fails fast on import would break
that; here the production block runs only when DIARYTRIAL_ENV=production.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONCE, NONE, SELF

from diarytrial.web.environment import (
    env_bool,
    env_environment,
    env_int,
    env_list,
    env_list_required,
    env_required,
    env_str,
)

ENVIRONMENT = env_environment()
PRODUCTION = ENVIRONMENT == "production"

# Runtime files (the SQLite database, collected static files) live beside the project where
# the command runs, unless DIARYTRIAL_VAR_DIR points elsewhere.
VAR_DIR = Path(env_str("DIARYTRIAL_VAR_DIR") or Path.cwd() / "var").resolve()

# --- Core -----------------------------------------------------------------------------------

DEVELOPMENT_ONLY_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"

if PRODUCTION:
    SECRET_KEY = env_required(
        "SECRET_KEY",
        "production needs a secret key of at least 50 random characters; generate one with "
        "python -c 'import secrets; print(secrets.token_urlsafe(64))' and set SECRET_KEY to it",
    )
    ALLOWED_HOSTS = env_list_required(
        "ALLOWED_HOSTS",
        "production needs the host names this site is served under, comma-separated, "
        "e.g. ALLOWED_HOSTS=trial.example.org",
    )
    DEBUG = False
else:
    SECRET_KEY = env_str("SECRET_KEY", DEVELOPMENT_ONLY_SECRET_KEY)
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
    DEBUG = env_bool("DEBUG", ENVIRONMENT == "development")

# Old keys still accepted for signatures while a new SECRET_KEY is rolled out.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "ninja",  # serves the API docs page's scripts itself (no CDN)
    "csp",  # Content-Security-Policy (its checks refuse settings of older versions)
    "diarytrial.core",
    "diarytrial.audit",
    "diarytrial.studies",
    "diarytrial.accounts",
    "diarytrial.signatures",
    "diarytrial.participants",
    "diarytrial.randomization",
    "diarytrial.diary",
    "diarytrial.devices",
    "diarytrial.phone",
    "diarytrial.safety",
    "diarytrial.queries",
    "diarytrial.exports",
    "diarytrial.monitoring",
    "django_tasks",
    "django_tasks_db",
    "diarytrial.reminders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Early, so that every response gets their headers, error pages included.
    "csp.middleware.CSPMiddleware",
    "diarytrial.web.response_headers.ResponseHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "diarytrial.accounts.middleware.TwoStepRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it sees a view's ApplicationError first (exceptions go up the list).
    "diarytrial.web.error_responses.ApplicationErrorMiddleware",
]

ROOT_URLCONF = "diarytrial.web.urls"
WSGI_APPLICATION = "diarytrial.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The shared layout (base.html, staff/) and the pages of every app.
        "DIRS": [Path(__file__).resolve().parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "diarytrial.studies.page_zone.page_zone_context",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL")
# Persistent connections pay off with PostgreSQL behind several web processes.
CONN_MAX_AGE = env_int("CONN_MAX_AGE", 60 if PRODUCTION else 0)

# Every SQLite database, the default one and any named by DATABASE_URL (as the demo names its
# own), takes the write lock when a transaction starts (a transaction that read first and then
# wanted to write would fail at once with "database is locked", whatever the timeout), waits up
# to 20 s for another writer, and runs in WAL mode, where readers never wait for the writer.
SQLITE_OPTIONS: dict[str, Any] = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
}

DATABASES: dict[str, dict[str, Any]]
if DATABASE_URL:
    DATABASES = {
        "default": dict(
            dj_database_url.parse(
                DATABASE_URL, conn_max_age=CONN_MAX_AGE, conn_health_checks=CONN_MAX_AGE > 0
            )
        )
    }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": VAR_DIR / "diarytrial.sqlite3"}
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Users ----------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if ENVIRONMENT == "test":
    # Real hashing costs ~0.2 s per user; tests create many.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- Staff sign-in (accounts app; docs/architecture.md, "accounts and access") ------------------

LOGIN_URL = "accounts:sign_in"
LOGIN_REDIRECT_URL = "studies:list"
# Staff must confirm each sign-in with a TOTP code; a user without an authenticator app is sent
# to set one up before anything else. Off in development and test unless switched on.
DIARYTRIAL_REQUIRE_TOTP = env_bool("DIARYTRIAL_REQUIRE_TOTP", PRODUCTION)
OTP_TOTP_ISSUER = "diarytrial"
# Sessions end after 30 idle minutes: every request saves the session and pushes its expiry.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
# Only behind a proxy that appends the client's address to X-Forwarded-For: the sign-in
# throttle then counts that address instead of the proxy's.
TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_FOR", False)

# --- E-mail (notifications to investigators and coordinators, reminders) ---------------------

# SMTP in production (EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD,
# EMAIL_USE_TLS); elsewhere mails are printed to the console unless EMAIL_BACKEND says otherwise
# (the demo writes them to files in its output folder).
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH") or str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "diarytrial <diarytrial@localhost>")

# --- Background tasks and diary reminders (docs/reminders.md) --------------------------------

# Tasks wait in the database until `diarytrial worker` runs them.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# Where the site is reached, for the links in reminder e-mails and the calendar feed.
SITE_URL = (
    env_str("SITE_URL")
    or (f"https://{ALLOWED_HOSTS[0].lstrip('.')}" if PRODUCTION else "http://localhost:8000")
).rstrip("/")
# Web Push keys (generate them with `diarytrial vapid_keys`); no push reminders without them.
VAPID_PUBLIC_KEY = env_str("VAPID_PUBLIC_KEY")
VAPID_PRIVATE_KEY = env_str("VAPID_PRIVATE_KEY")
# Who push services may contact about our pushes: a mailto: address or the site's https URL.
VAPID_SUBJECT = env_str("VAPID_SUBJECT", SITE_URL)
# Reminders go out over this many minutes after the window opens, each participant at their
# own fixed offset, so that they do not all arrive (or hit the mail server) at once.
REMINDER_SPREAD_MINUTES = env_int("REMINDER_SPREAD_MINUTES", 10)

# --- Time and language ----------------------------------------------------------------------

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or VAR_DIR / "static")
STATICFILES_DIRS = [Path(__file__).resolve().parent / "static"]

# --- Logging: everything to stderr, for the process manager or container to collect -----------

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "plain",
        },
    },
    "filters": {
        "client_fault": {"()": "diarytrial.web.log_filters.ClientFaultFilter"},
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        # Replaces Django's default handlers (console when DEBUG, mail to ADMINS) with ours.
        "django": {"handlers": ["stderr"], "level": LOG_LEVEL, "propagate": False},
        # A client's bad request (wrong Host, body too large, too many fields): a warning line,
        # not an error with a traceback (docs/deployment.md).
        **{
            f"django.security.{name}": {"filters": ["client_fault"]}
            for name in (
                "DisallowedHost",
                "RequestDataTooBig",
                "TooManyFieldsSent",
                "TooManyFilesSent",
            )
        },
    },
}

# --- Security -------------------------------------------------------------------------------

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True

# Scripts, styles and everything else come from this site only: no inline script, style or
# style="" attribute (a template that needs one gives it the request's nonce,
# {{ request.csp_nonce }}), no eval, no plugins, no framing, forms post here only.
# docs/deployment.md explains each header.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],  # the API docs' icons are data: images in its stylesheet
        "connect-src": [SELF],
        "font-src": [SELF],
        "manifest-src": [SELF],
        "worker-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Browser features no page of the app uses, switched off for every page and anything it embeds.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Load balancers probe the health endpoint over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("TRUST_X_FORWARDED_PROTO", False):
        # Only behind a proxy that sets this header itself and drops it from clients.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
