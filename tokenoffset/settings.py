"""Token Offset settings: one file, driven by the environment.

Local defaults (``make run``) need nothing but Python: SQLite under ``var/``, a filesystem
Celery broker, the vendor sandbox. Production differs only by environment variables (see the
README's "Deploying" section); with ``DEBUG=false`` it refuses to start without its secrets.
"""

import os
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from tokenoffset.log_config import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TOKENOFFSET_VAR_DIR", BASE_DIR / "var"))

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)


def _required_in_production(name: str, value):
    if not DEBUG and not value:
        raise ImproperlyConfigured(
            f"{name} must be set when DEBUG is false (production). "
            "See the README's 'Deploying' section for the list of environment variables."
        )
    return value


# Local development gets a throwaway key; production must bring its own.
SECRET_KEY = _required_in_production("SECRET_KEY", env.str("SECRET_KEY", default="")) or (
    "insecure-local-development-key-change-me"
)
_LOCAL_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]
ALLOWED_HOSTS = (
    _required_in_production("ALLOWED_HOSTS", env.list("ALLOWED_HOSTS", default=[])) or _LOCAL_HOSTS
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Written once by `manage.py dev_encryption_key` (`make run` calls it); only read here.
DEV_ENCRYPTION_KEYS_FILE = VAR_DIR / "dev-encryption-keys"


def _encryption_keys() -> str:
    """``kid:base64key,kid:base64key`` (first encrypts); in development, the key file under var/."""
    value = env.str("TOKENOFFSET_ENCRYPTION_KEYS", default="")
    if value or not DEBUG:
        return _required_in_production("TOKENOFFSET_ENCRYPTION_KEYS", value)
    return DEV_ENCRYPTION_KEYS_FILE.read_text().strip() if DEV_ENCRYPTION_KEYS_FILE.exists() else ""


TOKENOFFSET_ENCRYPTION_KEYS = _encryption_keys()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "csp",
    "tokenoffset.accounts",
    "tokenoffset.dashboard",
    "connectors",
    "estimates",
    "billing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "tokenoffset.accounts.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "tokenoffset.accounts.middleware.CurrentAccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "tokenoffset.urls"
WSGI_APPLICATION = "tokenoffset.wsgi.application"

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
                "tokenoffset.accounts.context_processors.current_account",
                "billing.context_processors.billing_banner",
            ],
        },
    },
]

# Databases: PostgreSQL in production and tests; SQLite under var/ locally (WAL, lock timeout).
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:  # Prepared statements: the viewer query's only (accounts.access); off for poolers without.
    _prepared = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5 if _prepared else None
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
REDIS_URL = env.str("REDIS_URL", default="")
# Without Redis, a file cache shared by the web process and the worker, so limits hold in both.
CACHES = {
    "default": {"BACKEND": "tokenoffset.redis_cache.ReusedClientRedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache"),
    }
}
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [  # Django's and allauth's, loading the user's memberships with the user
    "tokenoffset.accounts.backends.ModelBackend",
    "tokenoffset.accounts.backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard:home"

# django-allauth (account part only): email + password, verification optional.
ACCOUNT_ADAPTER = "tokenoffset.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = None
_LIMITS = "login_failed=5/m/ip,5/5m/key login=30/m/ip signup=20/m/ip reset_password=20/m/ip,5/m/key"
ACCOUNT_RATE_LIMITS = dict(limit.split("=") for limit in _LIMITS.split())
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Token Offset] "
# Proxies of ours in front of gunicorn: 0 (default) ignores X-Forwarded-For; behind one proxy
# appending to it, 1. Per-client limits read tokenoffset.accounts.client_address.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("ALLAUTH_TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_RATE_LIMIT_IPV6_PREFIX = 64  # IPv6 clients are limited per /64, as allauth does

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
# Host, port, user, password and TLS from EMAIL_URL; the backend stays as chosen above.
_email = env.email_url("EMAIL_URL", default="smtp://localhost:25")
EMAIL_HOST = _email["EMAIL_HOST"]
EMAIL_PORT = _email["EMAIL_PORT"]
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT_SECONDS", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Token Offset <hello@tokenoffset.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env.bool("STATIC_MANIFEST", default=True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Security. HTTPS is terminated by our proxy in front of gunicorn.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # container health checks speak plain HTTP
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_ENGINE = "tokenoffset.accounts.sessions"  # cached_db: a session read is a cache hit
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF, "https://checkout.stripe.com", "https://billing.stripe.com"],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# Celery: Redis in production; locally a filesystem broker that needs no server.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Absolute folders (made by tokenoffset/celery.py): the default control one is relative.
    _broker_dir = VAR_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),
    }
else:
    # Longer than the longest task and retry countdown: redelivered only if its worker died.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=540)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# The weekly re-sample is spread over this many minutes (no burst at vendors).
SAMPLE_SPREAD_MINUTES = env.float("SAMPLE_SPREAD_MINUTES", default=15)
# A running sample renews this lease as it works; when it lapses its worker is presumed dead.
SAMPLE_LEASE_SECONDS = env.int("SAMPLE_LEASE_SECONDS", default=120)
# Samples wait on vendors: a worker of the "sampling" queue runs this many threads (celery.py);
SAMPLING_CONCURRENCY = env.int("SAMPLING_CONCURRENCY", default=8)  # more contend for the GIL
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Vendors: scheme + host only (the clients hold the paths); Google's token endpoint: a full URL.
ANTHROPIC_API_BASE_URL = env.str("ANTHROPIC_API_BASE_URL", default="https://api.anthropic.com")
OPENAI_API_BASE_URL = env.str("OPENAI_API_BASE_URL", default="https://api.openai.com")
CURSOR_API_BASE_URL = env.str("CURSOR_API_BASE_URL", default="https://api.cursor.com")
GOOGLE_MONITORING_BASE_URL = env.str(
    "GOOGLE_MONITORING_BASE_URL", default="https://monitoring.googleapis.com"
)
GOOGLE_OAUTH_TOKEN_URL = env.str("GOOGLE_OAUTH_TOKEN_URL", "https://oauth2.googleapis.com/token")
VENDOR_READ_TIMEOUT_SECONDS = env.float("VENDOR_READ_TIMEOUT_SECONDS", default=30)
SAMPLE_FETCH_MAX_WORKERS = env.int("SAMPLE_FETCH_MAX_WORKERS", default=16)  # requests in flight
# The largest decoded vendor response (page) we read; larger fails the sample, sparing memory.
VENDOR_MAX_RESPONSE_BYTES = env.int("VENDOR_MAX_RESPONSE_BYTES", default=20 * 1024 * 1024)
# Live telemetry: OTLP exports accepted per source and minute before a 429 with Retry-After.
LIVE_INGEST_REQUESTS_PER_MINUTE = env.int("LIVE_INGEST_REQUESTS_PER_MINUTE", default=600)
# The local vendor sandbox (demo data). Never enabled in production.
VENDOR_SANDBOX_URL = env.str("VENDOR_SANDBOX_URL", default="http://127.0.0.1:8765") if DEBUG else ""

# Stripe. Without STRIPE_SECRET_KEY everything but payment (and climate orders) works.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_PRODUCT_ID = env.str("STRIPE_PRODUCT_ID", default="")
# The Stripe Climate product the monthly batch buys; its price/t is a coefficient set's floor.
_CLIMATE_DEFAULT = "climsku_frontier_offtake_portfolio_2027"
STRIPE_CLIMATE_PRODUCT_ID = env.str("STRIPE_CLIMATE_PRODUCT_ID", default=_CLIMATE_DEFAULT)
STRIPE_API_BASE_URL = env.str("STRIPE_API_BASE_URL", default="")  # tests and stripe-mock only
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)

LOGGING = logging_config(level=env.str("LOG_LEVEL", default="INFO"))
ADMINS = [("Ops", a) for a in env.list("ADMIN_EMAILS", default=[])]
# Error reports (ADMIN_EMAILS mails, the DEBUG page) hide secret fields, mask key-shaped values.
DEFAULT_EXCEPTION_REPORTER_FILTER = "tokenoffset.error_reports.SecretsExceptionReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "tokenoffset.error_reports.SecretsExceptionReporter"
