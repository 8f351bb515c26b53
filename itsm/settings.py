"""Settings, read from the environment with safe defaults for the quick start.

With nothing configured the platform runs on SQLite and kombu's filesystem transport, both
kept under ``ITSM_DATA_DIR`` (default ``./var``). ``DATABASE_URL`` and ``CELERY_BROKER_URL``
switch to PostgreSQL and Redis.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("ITSM_DATA_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    # Quick start only: a key generated once and kept in the data directory.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        from django.core.management.utils import get_random_secret_key

        key_file.write_text(get_random_secret_key())
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # identity and security: third-party apps of the sign-in (axes, django_otp…) and
    # single sign-on (djangosaml2…) go on the lines below
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # kernel
    "itsm.accounts",
    "itsm.core",
    "itsm.api",
    "itsm.audit",
    "itsm.sso",
    "itsm.privacy",
    # practices
    "practices",
    "practices.service_desk",
    "practices.service_level",
    "catalogue",
    "cmdb",
    "practices.assets",
    "practices.knowledge",
    "incidents",
    "problems",
    "changes",
    "practices.releases",
    "practices.deployments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "itsm.core.middleware.RequestGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "itsm.core.i18n.UserLanguageMiddleware",
    "itsm.audit.context.AuditContextMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "itsm.accounts.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "itsm.accounts.middleware.TwoFactorMiddleware",
    "itsm.accounts.middleware.AttemptReleaseMiddleware",
    # django-axes: a locked-out attempt is answered with a 429 (lockout page or JSON). Last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "itsm.urls"
WSGI_APPLICATION = "itsm.wsgi.application"

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
                "practices.service_desk.context_processors.workspace",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'itsm.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
elif "postgresql" in DATABASES["default"]["ENGINE"]:
    # JIT compilation costs ~8 ms per query whose estimate is high (a recursive impact
    # walk always is) and pays off only for long analytical scans, which we do not run.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", DATA_DIR / "staticfiles"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Attachments
ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_HANDLERS = [
    "itsm.core.uploads.SizeLimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Incident management
INCIDENT_AUTO_CLOSE_DAYS = int(os.environ.get("INCIDENT_AUTO_CLOSE_DAYS", "3"))

# REST API: how long a POST's answer is kept for replays with the same Idempotency-Key.
IDEMPOTENCY_KEY_TTL_HOURS = int(os.environ.get("IDEMPOTENCY_KEY_TTL_HOURS", "24"))

# Service level management
#: A queued escalation not done after this many seconds is queued again (lost task/worker).
SLA_REQUEUE_AFTER = int(os.environ.get("SLA_REQUEUE_AFTER", "300"))
#: Fault injection for tests only: seconds an escalation waits inside its transaction.
SLA_ESCALATION_DELAY = float(os.environ.get("SLA_ESCALATION_DELAY", "0"))

# Mail
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = DATA_DIR / "mail"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "itsm@localhost")

# REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "itsm.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "itsm.api.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "itsm.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "itsm.api.filters.FilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "itsm.api.pagination.KeysetPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "itsm.api.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ITSM platform API",
    "DESCRIPTION": "REST API of the ITSM platform (ITIL 4 practices).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The kernel's enum names; each practice app adds its own (``PracticeConfig.enums``).
    "ENUM_NAME_OVERRIDES": {
        "LinkKindEnum": "itsm.core.models.RecordLink.Kind",
        "JournalKindEnum": "itsm.core.models.JournalEntry.Kind",
    },
}

# Celery: an embedded filesystem broker unless CELERY_BROKER_URL says otherwise.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = DATA_DIR / "broker"
    for sub in ("queue", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # The worker looks for new task files this often (the default, 1 s, drains ~2/s).
        "polling_interval": 0.1,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
#: The kernel's own periodic tasks; each practice app adds its entries from its
#: ``PracticeConfig.beat`` when it is ready (``itsm.core.practices``).
CELERY_BEAT_SCHEDULE = {
    "api-purge-idempotency-keys": {
        "task": "itsm.api.tasks.purge_idempotency_keys",
        "schedule": 3600.0,
    },
    "core-deliver-pending-notifications": {
        "task": "itsm.core.tasks.deliver_pending_notifications",
        "schedule": 60.0,
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    X_FRAME_OPTIONS = "DENY"
    SECURE_CONTENT_TYPE_NOSNIFF = True

#: Served over HTTPS (production): cookies only over TLS, HSTS, plain HTTP redirected.
#: Off for the quick start, which serves http://127.0.0.1:8000/.
HTTPS = env_bool("HTTPS", False)
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", False)
    # Behind a proxy that terminates TLS: trust its X-Forwarded-Proto only when told to.
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Sign-in: throttling and lockout, two-factor, password reset (itsm.accounts) ---------
#: django-axes first: it refuses a locked-out account or address before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
#: Lockout (itsm.accounts.lockout): AXES_FAILURE_LIMIT failures of one account name, or from
#: one client address, within AXES_COOLOFF_TIME lock that account or address out until the
#: cool-off has passed (right password included); a full sign-in resets its counts. Counted
#: in the database, shared by every worker.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_HANDLER = "itsm.accounts.lockout.LockoutHandler"
AXES_FAILURE_LIMIT = int(os.environ.get("SIGN_IN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("SIGN_IN_COOLOFF_MINUTES", "15")))
#: Per account name and per client address, either one trips (itsm.accounts.lockout).
AXES_LOCKOUT_PARAMETERS = "itsm.accounts.lockout.lockout_parameters"
AXES_RESET_ON_SUCCESS = True
#: An attempt while locked out is refused without extending the cool-off.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "itsm.accounts.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "itsm.accounts.lockout.client_address"
AXES_USERNAME_CALLABLE = "itsm.accounts.lockout.client_username"
AXES_SENSITIVE_PARAMETERS = ["password", "current_password", "code", "token"]
AXES_VERBOSE = False
#: Sign-ins are in the audit log (itsm.audit); axes does not keep a second list of them.
AXES_DISABLE_ACCESS_LOG = True
#: The client address: REMOTE_ADDR, unless TRUSTED_PROXY_COUNT reverse proxies (each
#: appending to X-Forwarded-For) stand in front; TRUSTED_PROXIES (addresses or networks)
#: restricts which hops are believed. Without them X-Forwarded-For is never read.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
#: Axes' own address settings, for anything that reads them directly: the same choice.
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_PROXY_TRUSTED_IPS = TRUSTED_PROXIES or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if TRUSTED_PROXY_COUNT else ("REMOTE_ADDR",)
)

#: Two-factor sign-in (TOTP, recovery codes): who must have it: "administrators" (superusers
#: and the administrator role), "staff" (everyone in the agent workspace) or "none".
#: Anyone may turn it on for themselves on /me/two-factor/.
TWO_FACTOR_REQUIRED = os.environ.get("TWO_FACTOR_REQUIRED", "administrators")
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "ITSM")
#: The admin lists people's authenticators and recovery codes (to remove a lost one) but
#: never shows a secret, a QR code or a code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
#: Between the password and the second factor's code (seconds).
TWO_FACTOR_PENDING_SECONDS = 300

#: The site's address in links sent by mail (password reset, e-mail change), e.g.
#: https://itsm.example.com; unset: the address the request came to (one of ALLOWED_HOSTS).
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")
#: Password reset and e-mail change links: valid this long, once.
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PASSWORD_RESET_TIMEOUT", str(3600)))
EMAIL_CHANGE_TIMEOUT = int(os.environ.get("EMAIL_CHANGE_TIMEOUT", str(24 * 3600)))
#: Reset requests accepted per address, and per client address, within an hour.
PASSWORD_RESET_LIMIT = int(os.environ.get("PASSWORD_RESET_LIMIT", "5"))

# --- Single sign-on: OpenID Connect, SAML 2.0, LDAP (itsm.sso) ----------------------------
#: Each provider is on when its environment names it (LDAP_SERVER_URI, OIDC_RP_CLIENT_ID,
#: SAML_METADATA_FILE or SAML_METADATA_URL; the variables are in README, "Single sign-on");
#: with none of them, people sign in with local passwords as before. SSO_ONLY refuses local
#: passwords to everyone but break-glass accounts. Group mappings and break-glass accounts
#: are administered in the admin (itsm.sso).
from itsm.sso import config as _sso_config  # noqa: E402

globals().update(_sso_config.sso_settings(os.environ))
AUTHENTICATION_BACKENDS = _sso_config.backends(AUTHENTICATION_BACKENDS, globals())
MIDDLEWARE = _sso_config.middleware(MIDDLEWARE, globals())
# pysaml2's schema library announces each schema it loads at INFO.
LOGGING.setdefault("loggers", {})["xmlschema"] = {"level": "WARNING"}

# --- API tokens (itsm.api) -----------------------------------------------------------------
# Every token expires: by default after API_TOKEN_DEFAULT_DAYS, at most API_TOKEN_MAX_DAYS.
API_TOKEN_DEFAULT_DAYS = int(os.environ.get("API_TOKEN_DEFAULT_DAYS", "90"))
API_TOKEN_MAX_DAYS = int(os.environ.get("API_TOKEN_MAX_DAYS", "365"))

# --- Audit log (itsm.audit) ----------------------------------------------------------------
#: Security and configuration events in one append-only, hash-chained table (itsm.audit):
#: `manage.py audit_verify` checks the chain, `manage.py audit_export` writes CSV or JSON
#: lines; on PostgreSQL triggers refuse UPDATE and DELETE of it, of the timelines and of
#: attachments. Each event is also one INFO line on the "itsm.audit" logger (for a SIEM).

# --- Roles and data separation (itsm.accounts, itsm.core) ----------------------------------
#: Which records staff see (``RecordQuerySet.visible_to``, used by every list, search,
#: count, choice, export and notification): "all" (every record), "teams" (records
#: assigned to one of their teams or to them, and what they requested) or "organizations"
#: (a managed-service provider: records of the customers their teams serve, see
#: ``Team.organizations``). Whoever holds ``core.see_every_record`` (administrators)
#: sees everything.
DATA_SEPARATION = os.environ.get("DATA_SEPARATION", "all")
if DATA_SEPARATION not in ("all", "teams", "organizations"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("DATA_SEPARATION is 'all', 'teams' or 'organizations'.")

# --- Privacy: erasure, export, retention (itsm.privacy) --------------------------------------
#: The retention rules (administered in the admin) are applied every night; a run that finds
#: nothing due changes nothing. ``manage.py apply_retention --dry-run`` shows what is due.
CELERY_BEAT_SCHEDULE["privacy-apply-retention"] = {
    "task": "itsm.privacy.tasks.apply_retention",
    "schedule": float(os.environ.get("RETENTION_INTERVAL_SECONDS", str(24 * 3600))),
}

# --- Hardening: Content-Security-Policy, uploads, API schema and docs -----------------------
#: Content-Security-Policy on every answer (django-csp): scripts and styles only from our
#: own static files, no inline script or style anywhere (the admin's and the API docs' pages
#: included: templates/admin/change_list.html, templates/drf_spectacular/); the scripts of a
#: page carry its nonce. No frames, plugins or foreign form targets.
#: ``CSP_FORM_ACTION`` adds origins a form may post to (an SSO provider's, space-separated).
from csp.constants import NONCE as _csp_nonce  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", _csp_nonce],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", *os.environ.get("CSP_FORM_ACTION", "").split()],
    }
}

#: The OpenAPI schema (/api/schema/) and its docs (/api/docs/) for signed-in people only,
#: unless this is set (itsm.api.docs).
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", False)

#: ``check --deploy`` is clean in production (HTTPS=1, DEBUG off, a long SECRET_KEY,
#: ALLOWED_HOSTS; the test command runs it). HSTS preloading is the site operator's own
#: commitment (it covers every subdomain, for months), so it stays off unless HSTS_PRELOAD=1
#: and its absence is not reported as a warning.
if not globals().get("SECURE_HSTS_PRELOAD", False):
    SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "security.W021"]

#: Uploads: one request's body (all its files together) may be this large; a larger one is
#: refused with a 413 before it is read (itsm.core.middleware), or stopped while it is
#: received (itsm.core.uploads). Each file is bounded by ATTACHMENT_MAX_BYTES.
DATA_UPLOAD_MAX_REQUEST_BYTES = int(
    os.environ.get("DATA_UPLOAD_MAX_REQUEST_BYTES", str(3 * ATTACHMENT_MAX_BYTES + 1024 * 1024))
)
DATA_UPLOAD_MAX_NUMBER_FILES = int(os.environ.get("DATA_UPLOAD_MAX_NUMBER_FILES", "10"))
#: What may be attached, by content (itsm.core.uploads sniffs it; the name and the type the
#: client sent are not believed). Executables and markup are refused whatever this says.
ATTACHMENT_ALLOWED_TYPES = env_list(
    "ATTACHMENT_ALLOWED_TYPES",
    ",".join(
        [
            "text/plain",
            "text/csv",
            "application/json",
            "application/pdf",
            "application/rtf",
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp",
            "image/bmp",
            "image/tiff",
            "image/heic",
            "image/avif",
            "application/msword",
            "application/vnd.ms-excel",
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "application/vnd.oasis.opendocument.text",
            "application/vnd.oasis.opendocument.spreadsheet",
            "application/vnd.oasis.opendocument.presentation",
            "application/zip",
        ]
    ),
)

# --- Internationalisation ------------------------------------------------------------------
#: English and German shipped; the language of a request is the signed-in person's choice
#: (User.language, itsm.core.i18n.UserLanguageMiddleware), else the browser's
#: (Accept-Language, LocaleMiddleware), else LANGUAGE_CODE. Messages are compiled from
#: locale/<lang>/LC_MESSAGES/django.po by `make install` (the .mo files are not kept).
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
#: Dates per language: English keeps ISO 8601; German uses Django's (31.12.2026).
FORMAT_MODULE_PATH = ["itsm.formats"]
