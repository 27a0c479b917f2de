"""Django settings, read from the environment through small typed helpers.

The embedded default (no variables set) runs on SQLite with a generated secret key, both kept in
one data directory (``CARTERA_DATA_DIR``, default ``~/.local/share/cartera``).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
REPO_DIR = BASE_DIR.parent


def env_str(name: str, default: str = "") -> str:
    """A string setting; ``NAME_FILE`` (a path) takes precedence, for secrets mounted as files."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    """A boolean setting: 1/true/yes/on are true."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list setting."""
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DATA_DIR = Path(
    os.environ.get("CARTERA_DATA_DIR") or Path.home() / ".local" / "share" / "cartera"
).resolve()


def _embedded_secret_key() -> str:
    """Generate once and keep the secret key in the data directory (mode 0600)."""
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


DEBUG = env_bool("CARTERA_DEBUG", False)
SECRET_KEY = env_str("CARTERA_SECRET_KEY") or _embedded_secret_key()
ALLOWED_HOSTS = env_list("CARTERA_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CARTERA_CSRF_TRUSTED_ORIGINS", [])

DATABASE_URL = env_str("CARTERA_DATABASE_URL") or f"sqlite:///{DATA_DIR / 'cartera.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers go on while one writer writes; IMMEDIATE avoids lock upgrades.
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
            " PRAGMA foreign_keys=ON; PRAGMA cache_size=-64000;"
        ),
    }
    DATA_DIR.mkdir(parents=True, exist_ok=True)
IS_POSTGRESQL = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "django_htmx",
    "django_countries",
    "phonenumber_field",
    "auditlog",
    "django_tasks",
    "django_tasks_db",
    "cartera.core",
    "cartera.users",
    "cartera.accounts",
    "cartera.contacts",
    "cartera.activities",
    "cartera.imports",
    "cartera.catalog",
    "cartera.sales",
    "cartera.notifications",
    "cartera.leads",
    "cartera.quotes",
    "cartera.targets",
    "cartera.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "cartera.users.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "cartera.core.middleware.DomainErrorMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
]

ROOT_URLCONF = "cartera.urls"
WSGI_APPLICATION = "cartera.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            "builtins": ["django.templatetags.i18n", "cartera.core.templatetags.cartera"],
        },
    }
]

AUTH_USER_MODEL = "users.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Ids, versions and cursors go into URLs and form fields as plain numbers; quantities shown to
# people are grouped explicitly ({{ n|intcomma }}, the money filter), per locale.
USE_THOUSAND_SEPARATOR = False
TIME_ZONE = os.environ.get("CARTERA_TIME_ZONE", "Europe/Madrid")
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("CARTERA_STATIC_ROOT") or DATA_DIR / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Front-end packages come from the npm registry (package-lock.json). Only the files the pages
# use are served (cartera.core.staticfinders), under these URL prefixes.
NODE_MODULES = REPO_DIR / "node_modules"
CARTERA_VENDOR_FILES = [
    ("vendor/htmx", "htmx.org/dist", ["htmx.min.js"]),
    (
        "vendor/bootstrap",
        "bootstrap/dist",
        [
            "css/bootstrap.min.css",
            "css/bootstrap.min.css.map",
            "js/bootstrap.bundle.min.js",
            "js/bootstrap.bundle.min.js.map",
        ],
    ),
    (
        "vendor/bootstrap-icons",
        "bootstrap-icons/font",
        ["bootstrap-icons.min.css", "fonts/bootstrap-icons.woff", "fonts/bootstrap-icons.woff2"],
    ),
    ("vendor/sortablejs", "sortablejs", ["Sortable.min.js"]),
    ("vendor/chartjs", "chart.js/dist", ["chart.umd.min.js", "chart.umd.min.js.map"]),
]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "cartera.core.staticfinders.VendorFinder",
]


def _static_storage() -> str:
    """Hashed names once ``collectstatic`` wrote its manifest; plain names before (or in DEBUG).

    A manifest storage without a manifest fails on every ``{% static %}``, so a server started
    before ``collectstatic`` (``cartera serve`` runs it first) still renders its pages.
    """
    if DEBUG:
        return "django.contrib.staticfiles.storage.StaticFilesStorage"
    if (STATIC_ROOT / "staticfiles.json").exists():
        return "whitenoise.storage.CompressedManifestStaticFilesStorage"
    return "whitenoise.storage.CompressedStaticFilesStorage"


STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": _static_storage()},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

EMAIL_BACKEND = os.environ.get(
    "CARTERA_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("CARTERA_FROM_EMAIL", "cartera@localhost")
_EMAIL_URL = env_str("CARTERA_EMAIL_URL")
if _EMAIL_URL:
    # smtp://user:password@host:587 (STARTTLS) or smtps://user:password@host:465 (TLS);
    # percent-encode special characters in the user and password.
    _email = urlsplit(_EMAIL_URL)
    if _email.scheme not in {"smtp", "smtps"} or not _email.hostname:
        raise ImproperlyConfigured("CARTERA_EMAIL_URL must look like smtp://user:pass@host:587")
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _email.hostname
    EMAIL_PORT = _email.port or (465 if _email.scheme == "smtps" else 587)
    EMAIL_HOST_USER = unquote(_email.username or "")
    EMAIL_HOST_PASSWORD = unquote(_email.password or "")
    EMAIL_USE_SSL = _email.scheme == "smtps"
    EMAIL_USE_TLS = not EMAIL_USE_SSL

# Background work: the database-backed queue needs no broker (embedded mode); set
# CARTERA_REDIS_URL to run the queue on Redis through RQ when one process is not enough.
REDIS_URL = os.environ.get("CARTERA_REDIS_URL", "")
if REDIS_URL:
    INSTALLED_APPS += ["django_rq"]
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def env_schedule(name: str, default: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """Scheduled jobs: ``default`` changed by a JSON object in ``name``.

    ``{"expire_quotes": "*/30 * * * *"}`` moves a job, ``{"rescore_leads": null}`` switches one
    off, ``{"nightly": ["0 2 * * *", "app.tasks.some_task"]}`` adds one.
    """
    raw = env_str(name)
    if not raw.strip():
        return dict(default)
    try:
        changes = json.loads(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be a JSON object: {error}") from None
    if not isinstance(changes, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object of job name → cron expression.")
    jobs = dict(default)
    for job, value in changes.items():
        if value is None:
            jobs.pop(job, None)
        elif isinstance(value, str) and job in default:
            jobs[job] = (value, default[job][1])
        elif isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
            jobs[job] = (value[0], value[1])
        else:
            raise ImproperlyConfigured(
                f"{name}: {job!r} must be a cron expression, [cron, dotted task path] or null."
            )
    return jobs


# Scheduled jobs: name → (cron expression in TIME_ZONE, dotted path of a task). Every running
# ``cartera worker`` checks them about every 30 seconds and the first to see a slot pass enqueues
# the task, once per slot (cartera/core/scheduler.py). CARTERA_SCHEDULE (JSON) changes them.
CARTERA_SCHEDULE = env_schedule(
    "CARTERA_SCHEDULE",
    {
        # Sent quotes whose validity date or link expiry has passed become "expired".
        "expire_quotes": ("15 0 * * *", "cartera.quotes.tasks.expire_overdue_quotes"),
        # Open leads are rescored, so "activity in the last D days" decays.
        "rescore_leads": ("30 3 * * *", "cartera.leads.tasks.rescore_all_leads"),
    },
)

# Caches: "default" is per process (fast, for things computed once per language or process);
# "shared" is seen by every web worker (rate limits): Redis when configured, else files in DATA_DIR.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "shared": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    ),
}
RATELIMIT_USE_CACHE = "shared"

# Where people reach this Cartera: links in emails and public quote links start with it.
CARTERA_BASE_URL = os.environ.get("CARTERA_BASE_URL", "http://127.0.0.1:8000")
# Your organisation's name: quote emails, PDFs and public quote pages say who the quote is from.
CARTERA_COMPANY_NAME = os.environ.get("CARTERA_COMPANY_NAME", "Cartera")
# Currency of new deals, price lists and quotes unless one is chosen (ISO 4217).
CARTERA_CURRENCY = os.environ.get("CARTERA_CURRENCY", "EUR")

PHONENUMBER_DEFAULT_REGION = os.environ.get("CARTERA_PHONE_REGION", "ES")
# Largest file an import accepts (bytes); uploads are stored under DATA_DIR/imports.
IMPORT_MAX_BYTES = int(os.environ.get("CARTERA_IMPORT_MAX_BYTES", 200 * 1024 * 1024))
PHONENUMBER_DEFAULT_FORMAT = "INTERNATIONAL"

AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_DISABLE_REMOTE_ADDR = False

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("CARTERA_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

NINJA_PAGINATION_PER_PAGE = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CARTERA_LOG_LEVEL", "WARNING")},
}
