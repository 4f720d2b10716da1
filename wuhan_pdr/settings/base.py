"""Settings shared by every environment. Everything that differs between machines comes from
the environment (see README.md, "Configuration")."""

import base64
import hashlib
import re
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
# Whether `seed_demo` may write demo organizations and users (never in production).
DEMO_SEED_ALLOWED = True
DEMO_PASSWORD = env("DEMO_PASSWORD", default="Wuhan-Demo-2025")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "guardian",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # The platform kernel, imported by every chapter app and importing none of them.
    "wuhan_pdr.kernel",
    "wuhan_pdr.accounts",
    # One app per chapter of the regulation.
    "security",
    "catalog",
    "aggregation",
    "authorization",
    "registration",
    "supervision",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "wuhan_pdr.kernel.middleware.PortalLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "security.audit.recording.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    # After authentication and django-otp: a user who still owes the second factor, or whose
    # password has expired, reaches only the pages that settle it; the auditor changes nothing.
    "wuhan_pdr.accounts.middleware.AccountGateMiddleware",
]

# Content-Security-Policy (django-csp): scripts, styles, images and fonts come from the
# platform itself, never inline (no 'unsafe-inline', no nonces), so that text a user typed can
# never run as script even where a template slips. Pages keep their CSS in static/css and
# their JS in static/js; JS may set element.style (CSSOM) but never a style attribute.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

ROOT_URLCONF = "wuhan_pdr.urls"
WSGI_APPLICATION = "wuhan_pdr.wsgi.application"

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
                "wuhan_pdr.kernel.context_processors.portal",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/wuhan_pdr"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The ledger's append and the audit record run as statements prepared once per database
# session (wuhan_pdr/kernel/prepared.py, decision "audit log"). Off: sent whole each time
# (behind a pooler in transaction mode without prepared-statement support).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
# Which least-privilege role this process connects as (security/dbroles.py, decision
# "db-roles"): owner (migrate, seed_demo, collectstatic), web (gunicorn) or worker (Celery
# workers and beat). Unset: the user of DATABASE_URL, as the tests do. The role's name is
# "<database>_<role>"; its password (none with trust authentication) comes from
# DATABASE_PASSWORD, given to each process for its own role.
DATABASE_ROLE = env("DATABASE_ROLE", default="")
if DATABASE_ROLE:
    from security.dbroles import PROCESS_KINDS, role_name

    if DATABASE_ROLE not in PROCESS_KINDS:
        raise ImproperlyConfigured(
            f"DATABASE_ROLE {DATABASE_ROLE!r}: one of {', '.join(PROCESS_KINDS)}, or unset"
        )
    DATABASES["default"]["USER"] = role_name(DATABASE_ROLE, database=DATABASES["default"]["NAME"])
    DATABASES["default"]["PASSWORD"] = env("DATABASE_PASSWORD", default="")
# The connection `manage.py db_roles` creates the roles over: a superuser, or a role with
# CREATEROLE that may own the database. Its database name is ignored: the roles are made for
# the database of DATABASE_URL.
DATABASE_ADMIN_URL = env("DATABASE_ADMIN_URL", default="") or env(
    "DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/wuhan_pdr"
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One name per deployment (portal, workers and beat sharing one database), given to every key
# it keeps in Redis: two portals on one Redis (another port and database, `make run
# PORT=8047`) neither take each other's jobs nor read each other's cache, and each one's
# /healthz/ hears only its own workers. Defaults to the database name, so that two portals
# with two databases are kept apart without setting anything; every process of a deployment
# must see the same name.
DEPLOYMENT_NAME = env("DEPLOYMENT_NAME", default=DATABASES["default"]["NAME"]) or ""
if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}", DEPLOYMENT_NAME):
    raise ImproperlyConfigured(
        f"DEPLOYMENT_NAME {DEPLOYMENT_NAME!r}: 1-63 letters, digits, '_', '.' or '-', "
        "starting with a letter or digit (it defaults to the database name: set it if the "
        "database name is not such a name)"
    )
# Every Redis key of this deployment starts with this: the broker's queues, unacknowledged
# messages and control (pidbox) channels (kombu's global_keyprefix), and the cache.
REDIS_KEY_PREFIX = f"{DEPLOYMENT_NAME}:"

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # Keys are "<deployment>:cache:<version>:<key>": API throttling and the objection
        # rate limit count in this cache too.
        "KEY_PREFIX": f"{REDIS_KEY_PREFIX}cache",
    }
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # django-axes must come first so that a locked-out user is refused before any other check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Password policy of MLPS level 3 (GB/T 22239-2019, decision "password-policy"): a minimum
# length, three of the four character classes, no reuse of the last few passwords, and a
# change every so many days (0: never forced).
PASSWORD_MIN_LENGTH = env.int("PASSWORD_MIN_LENGTH", default=10)
PASSWORD_MIN_CHARACTER_CLASSES = env.int("PASSWORD_MIN_CHARACTER_CLASSES", default=3)
PASSWORD_HISTORY_COUNT = env.int("PASSWORD_HISTORY_COUNT", default=5)
PASSWORD_MAX_AGE_DAYS = env.int("PASSWORD_MAX_AGE_DAYS", default=90)
if PASSWORD_MIN_LENGTH < 8:
    raise ImproperlyConfigured("PASSWORD_MIN_LENGTH must be at least 8 (MLPS level 3).")
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {
        "NAME": "wuhan_pdr.accounts.password_policy.CharacterClassValidator",
        "OPTIONS": {"min_classes": PASSWORD_MIN_CHARACTER_CLASSES},
    },
    {
        "NAME": "wuhan_pdr.accounts.password_policy.PasswordHistoryValidator",
        "OPTIONS": {"count": PASSWORD_HISTORY_COUNT},
    },
]

# Two-factor login (TOTP, django-otp): required of the bureau reviewers, the security
# administrator, the auditor and the system administrator when on. On unless the settings
# module or the environment turns it off (local and test settings do, for the demo logins).
SECURITY_2FA_REQUIRED = env.bool("SECURITY_2FA_REQUIRED", default=True)
# The issuer name authenticator apps show beside the account.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Wuhan PDR")
# How many recovery codes an enrollment gives (each usable once).
SECURITY_2FA_RECOVERY_CODES = env.int("SECURITY_2FA_RECOVERY_CODES", default=10)
# API tokens of the roles that need two-factor login stop working this many hours after they
# were created.
API_TOKEN_TTL_HOURS_PRIVILEGED = env.int("API_TOKEN_TTL_HOURS_PRIVILEGED", default=12)

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "kernel:home"
LOGOUT_REDIRECT_URL = "kernel:home"

# Sessions end after 30 idle minutes: every request pushes the expiry forward.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Sessions live in the database; their cookie (and the CSRF cookie) carry the deployment's
# name, because a browser sends a host's cookies to every port of it: signing in to a second
# portal on the same host must not sign the user out of the first.
SESSION_COOKIE_NAME = f"sessionid_{DEPLOYMENT_NAME}"
CSRF_COOKIE_NAME = f"csrftoken_{DEPLOYMENT_NAME}"
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True

# How many reverse proxies in front of the platform append the client's address to
# X-Forwarded-For (the HTTPS proxy: 1). 0: the connection's own address is the client's, and
# the header is ignored. Throttling and django-axes both read it (kernel/throttling.client_ip).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Login lockout (django-axes): five failures lock the account name for 30 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
# The client's address as throttling sees it (TRUSTED_PROXY_COUNT). The django-ipware
# settings say the same, should axes ever be set to use ipware instead of the callable.
AXES_CLIENT_IP_CALLABLE = "wuhan_pdr.kernel.throttling.client_ip"
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_PROXY_ORDER = "right-most"
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if TRUSTED_PROXY_COUNT else ("REMOTE_ADDR",)
)

# django-guardian: no anonymous user row; 404 is decided by our access_* helpers.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

SIMPLE_HISTORY_HISTORY_ID_USE_UUID = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = env("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
MEDIA_URL = "/media/"

# Uploads: requests above these sizes are refused before they are read.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000

REST_FRAMEWORK = {
    # Token first: a request with a bad token is answered 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "wuhan_pdr.accounts.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON only: DRF's browsable API styles its pages inline, which the Content-Security-Policy
    # forbids; people read the API at /api/docs/ (Swagger UI, served from our own files).
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Every API view is throttled (wuhan_pdr/kernel/throttling.py): anonymous callers per
    # address, signed-in users per user, push channels per channel (the ingest views).
    "DEFAULT_THROTTLE_CLASSES": [
        "wuhan_pdr.kernel.throttling.AnonRateThrottle",
        "wuhan_pdr.kernel.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="120/min"),
        "user": env("API_THROTTLE_USER", default="600/min"),
        "ingest": env("API_THROTTLE_INGEST", default="1200/min"),
        # The anonymous open-data API (authorization.opendata), per client address.
        "open_data": env("API_THROTTLE_OPEN_DATA", default="60/min"),
    },
    "EXCEPTION_HANDLER": "wuhan_pdr.kernel.throttling.api_exception_handler",
    # The same count of trusted proxies as TRUSTED_PROXY_COUNT (below).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Wuhan Public Data Resource Platform API",
    "DESCRIPTION": "武汉市公共数据资源平台 API (v1).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
}

# Celery: tasks are acknowledged after they finish and requeued when a worker dies, so a
# killed worker loses nothing; Redis redelivers unacknowledged tasks after the visibility
# timeout, which is set to outlast the longest task we run (its hard time limit).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

# Two queues, each with its own worker (Procfile, docker-compose.yml): `long` for the work
# that may take minutes to hours (loads of batches, quality runs, bulk filing checks and
# imports), `default` for everything else: the outbox sweep, notifications, session ends,
# schedules and housekeeping, which must never wait behind a load. Jobs are routed by task
# name, so the outbox sweep sends a job again to the queue it belongs to.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_LONG_QUEUE = "long"
# The ledger's integration has a queue and a worker (concurrency 1) of its own: its bounded
# delay (LEDGER_INTEGRATE_SECONDS) must not wait behind a load or a flood of short jobs.
CELERY_LEDGER_QUEUE = "ledger"
CELERY_QUEUE_NAMES = (CELERY_TASK_DEFAULT_QUEUE, CELERY_LONG_QUEUE, CELERY_LEDGER_QUEUE)
CELERY_TASK_QUEUES = [Queue(name, routing_key=name) for name in CELERY_QUEUE_NAMES]
# Every task has a soft time limit (the task is told, ends cleanly and records why) and a
# hard one (the worker process is killed) a little later. Short tasks share the default
# limits; each long task has its own soft limit (seconds).
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", 5 * 60)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60
CELERY_HARD_TIME_LIMIT_GRACE = env.int("CELERY_HARD_TIME_LIMIT_GRACE", 5 * 60)
CELERY_LONG_TASK_SOFT_TIME_LIMITS = {
    "aggregation.run_batch": env.int("AGGREGATION_LOAD_SOFT_TIME_LIMIT", 90 * 60),
    # Rebuilding a table after confirmed changes copies it like a full load.
    "aggregation.datastore_rebuild": env.int("AGGREGATION_LOAD_SOFT_TIME_LIMIT", 90 * 60),
    # New read functions after a masking change: quick DDL, but each table's waits for a load
    # or a rebuild of that table to finish (its row lock), so it queues with them.
    "aggregation.read_functions_remake": env.int("AGGREGATION_LOAD_SOFT_TIME_LIMIT", 90 * 60),
    # Stored keyed hashes filled after a masking change or a key rotation: an UPDATE of each
    # table concerned, under its row lock (decision "stored-keyed-hash").
    "aggregation.stored_hashes_backfill": env.int("AGGREGATION_LOAD_SOFT_TIME_LIMIT", 90 * 60),
    "aggregation.quality_run": env.int("QUALITY_RUN_SOFT_TIME_LIMIT", 60 * 60),
    "catalog.bulk_filing_process": env.int("BULK_FILING_SOFT_TIME_LIMIT", 30 * 60),
    "catalog.standards_impact_count": env.int("STANDARDS_IMPACT_SOFT_TIME_LIMIT", 30 * 60),
    "security.backup_run": env.int("BACKUP_SOFT_TIME_LIMIT", 2 * 60 * 60),
    "security.restore_drill_run": env.int("BACKUP_DRILL_SOFT_TIME_LIMIT", 2 * 60 * 60),
    # Open-data files (CSV, XLSX, JSON) of a resource, rebuilt after each load.
    "opendata.downloads_build": env.int("OPENDATA_BUILD_SOFT_TIME_LIMIT", 60 * 60),
    # An evidence deposit: a resource's canonical snapshot written and digested.
    "evidence.deposit_make": env.int("EVIDENCE_DEPOSIT_SOFT_TIME_LIMIT", 60 * 60),
}
CELERY_TASK_ROUTES = {
    **{name: {"queue": CELERY_LONG_QUEUE} for name in CELERY_LONG_TASK_SOFT_TIME_LIMITS},
    "kernel.ledger_integrate": {"queue": CELERY_LEDGER_QUEUE},
}
CELERY_TASK_ANNOTATIONS = {
    name: {"soft_time_limit": soft, "time_limit": soft + CELERY_HARD_TIME_LIMIT_GRACE}
    for name, soft in CELERY_LONG_TASK_SOFT_TIME_LIMITS.items()
}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": max(
        2 * 60 * 60,
        max(CELERY_LONG_TASK_SOFT_TIME_LIMITS.values()) + CELERY_HARD_TIME_LIMIT_GRACE + 10 * 60,
    ),
    # Queues, bindings, unacknowledged messages and the fanout channels of control commands
    # (`inspect ping`, /healthz/) and events all carry the deployment's prefix: a worker of
    # another deployment on the same Redis neither takes our jobs nor answers our pings.
    "global_keyprefix": REDIS_KEY_PREFIX,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# One schedule file per deployment: two portals run from one checkout do not share it.
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / "var" / f"celerybeat-schedule-{DEPLOYMENT_NAME}")
# The one beat schedule of the platform; chapter apps add their periodic jobs here.
CELERY_BEAT_SCHEDULE = {
    "security.audit_prune": {
        "task": "security.audit_prune",
        "schedule": crontab(hour=2, minute=40),
    },
    "kernel.sweep_background_jobs": {
        "task": "kernel.sweep_background_jobs",
        "schedule": timedelta(seconds=env.int("BACKGROUND_JOB_SWEEP_SECONDS", 60)),
    },
    "kernel.ledger_integrate": {
        "task": "kernel.ledger_integrate",
        "schedule": timedelta(seconds=env.int("LEDGER_INTEGRATE_SECONDS", 10)),
        # A run missed while the ledger worker was down is not worth keeping: the next one
        # integrates everything pending.
        "options": {"expires": env.int("LEDGER_INTEGRATE_SECONDS", 10)},
    },
    "kernel.purge_old_notifications": {
        "task": "kernel.purge_old_notifications",
        "schedule": crontab(hour=3, minute=15),
    },
    "aggregation.schedule_due_channels": {
        "task": "aggregation.schedule_due_channels",
        "schedule": timedelta(seconds=env.int("AGGREGATION_SCHEDULE_SECONDS", 60)),
    },
    "aggregation.quality_runs_nightly": {
        "task": "aggregation.quality_runs_nightly",
        "schedule": crontab(hour=1, minute=30),
    },
    "aggregation.quality_issues_overdue": {
        "task": "aggregation.quality_issues_overdue",
        "schedule": crontab(hour=8, minute=0),
    },
    "aggregation.push_housekeeping": {
        "task": "aggregation.push_housekeeping",
        "schedule": crontab(hour=3, minute=45),
    },
    "aggregation.batch_files_purge": {
        "task": "aggregation.batch_files_purge",
        "schedule": crontab(hour=4, minute=0),
    },
    "aggregation.objections_flag_overdue": {
        "task": "aggregation.objections_flag_overdue",
        "schedule": crontab(hour=8, minute=30),
    },
    # Stored keyed hashes not current (a rotated masking key): their backfill queued.
    "aggregation.stored_hashes_sweep": {
        "task": "aggregation.stored_hashes_sweep",
        "schedule": crontab(minute=25),
    },
    "security.assessments_daily": {
        "task": "security.assessments_daily",
        "schedule": crontab(hour=0, minute=20),
    },
    "security.backup_daily": {
        "task": "security.backup_daily",
        "schedule": crontab(hour=env.int("BACKUP_HOUR", 2), minute=0),
    },
    "security.restore_drill_weekly": {
        "task": "security.restore_drill_weekly",
        "schedule": crontab(
            day_of_week=env("BACKUP_DRILL_DAY_OF_WEEK", default="sun"),
            hour=env.int("BACKUP_DRILL_HOUR", 5),
            minute=0,
        ),
    },
}

# Security assessments (Art. 27): reminders this many days before a pass ends; the validity a
# new pass is offered by default; and how long the passes made from the old channel sign-offs
# by the upgrade stay valid (counted from the upgrade), so no live channel stops with it.
ASSESSMENT_REMINDER_DAYS = env.int("ASSESSMENT_REMINDER_DAYS", 30)
ASSESSMENT_VALIDITY_DAYS = env.int("ASSESSMENT_VALIDITY_DAYS", 365)
ASSESSMENT_MIGRATED_VALIDITY_DAYS = env.int("ASSESSMENT_MIGRATED_VALIDITY_DAYS", 365)

# Background jobs (kernel outbox): a job not started this long after it was recorded is
# sent again by the sweep.
BACKGROUND_JOB_RESEND_AFTER = timedelta(seconds=env.int("BACKGROUND_JOB_RESEND_AFTER", 60))
BACKGROUND_JOB_MAX_ATTEMPTS = 10
# A job still marked running this long after it started lost its worker (killed): the sweep
# sends it again, and the advisory lock keeps it from running twice if the worker is alive.
# Never before the longest task's hard time limit (the visibility timeout outlasts it).
BACKGROUND_JOB_STALE_AFTER = timedelta(
    seconds=env.int(
        "BACKGROUND_JOB_STALE_AFTER", CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    )
)

# Aggregation: the largest file a file channel takes, and where loads spool their rows.
AGGREGATION_UPLOAD_MAX_BYTES = env.int("AGGREGATION_UPLOAD_MAX_BYTES", 1024 * 1024 * 1024)
# Uploaded files and reject files of finished batches are deleted after this many days.
AGGREGATION_KEEP_FILES_DAYS = env.int("AGGREGATION_KEEP_FILES_DAYS", 90)
# A full load that would remove more than this share of a table's rows (tables of at least
# AGGREGATION_SHRINK_HOLD_MIN_ROWS rows) is held for the provider's confirmation; a
# scheduled pull or extraction is refused instead. 1 or more: never held.
AGGREGATION_SHRINK_HOLD_RATIO = env.float("AGGREGATION_SHRINK_HOLD_RATIO", 0.5)
AGGREGATION_SHRINK_HOLD_MIN_ROWS = env.int("AGGREGATION_SHRINK_HOLD_MIN_ROWS", 10)
# A batch still waiting for a worker this long after it was queued may be sent again by the
# provider (its job lost); the outbox sweep also sends it again by itself.
AGGREGATION_BATCH_RESEND_AFTER = timedelta(
    seconds=env.int("AGGREGATION_BATCH_RESEND_AFTER", 15 * 60)
)

# Outbound connections of API pull and database extraction (wuhan_pdr/kernel/outbound.py,
# decision 0010). Private (RFC 1918, ULA) and CGNAT (100.64.0.0/10) addresses are reached only
# inside these comma-separated CIDR lists (empty: none). Loopback and the platform's own
# machine only where ALLOW_LOOPBACK is on (development, tests; production forces it off).
AGGREGATION_PULL_ALLOWED_NETWORKS = env.list("AGGREGATION_PULL_ALLOWED_NETWORKS", default=[])
AGGREGATION_PULL_ALLOW_LOOPBACK = env.bool("AGGREGATION_PULL_ALLOW_LOOPBACK", default=DEBUG)
AGGREGATION_EXTRACT_ALLOWED_NETWORKS = env.list(
    "AGGREGATION_EXTRACT_ALLOWED_NETWORKS", default=AGGREGATION_PULL_ALLOWED_NETWORKS
)
AGGREGATION_EXTRACT_ALLOW_LOOPBACK = env.bool("AGGREGATION_EXTRACT_ALLOW_LOOPBACK", default=DEBUG)

# Database extraction may read a database on the platform's own PostgreSQL server only where
# this is on (the demo's stand-in agency table, development, tests); never on a server.
AGGREGATION_EXTRACT_ALLOW_PLATFORM_DB = env.bool(
    "AGGREGATION_EXTRACT_ALLOW_PLATFORM_DB", default=DEBUG
)

# Fernet keys (comma-separated; the first seals) for credentials stored in the database, such
# as channel passwords (wuhan_pdr/kernel/sealing.py). Empty: derived from SECRET_KEY.
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", default="")

# Key of the keyed-hash masking method (HMAC-SHA256, security/masking.py): equal values hash
# alike, so masked columns still join. Required in production; a development default here.
MASKING_HMAC_KEY = env("MASKING_HMAC_KEY", default="insecure-development-masking-key")
# The tamper-evident ledger (wuhan_pdr/kernel/ledger, decision "ledger"). Pending leaves are
# integrated every LEDGER_INTEGRATE_SECONDS (beat schedule above), at most
# LEDGER_INTEGRATE_BATCH a transaction and signed head. Tree heads are signed with the Ed25519
# seed LEDGER_SIGNING_KEY (32 bytes, base64; required in production; here a fixed development
# key derived from a public phrase, worthless as a secret) and appended to one file per log in
# LEDGER_HEADS_DIR, which should live outside the database's machine or be copied off it.
LEDGER_INTEGRATE_SECONDS = env.int("LEDGER_INTEGRATE_SECONDS", 10)
LEDGER_INTEGRATE_BATCH = env.int("LEDGER_INTEGRATE_BATCH", 50_000)
LEDGER_DEV_SIGNING_KEY = base64.b64encode(
    hashlib.sha256(b"wuhan-pdr ledger development key, never for production").digest()
).decode("ascii")
LEDGER_SIGNING_KEY = env("LEDGER_SIGNING_KEY", default=LEDGER_DEV_SIGNING_KEY)
LEDGER_HEADS_DIR = env("LEDGER_HEADS_DIR", default=str(BASE_DIR / "var" / "ledger-heads"))
# Key rotation: the public keys (32 bytes, base64, comma-separated) of the signing keys used
# before the current one, so that ledger_verify, /ledger/ and the heads' JSON still verify the
# heads they signed (each head names its key by id). Never remove a key while its heads exist.
LEDGER_PREVIOUS_PUBLIC_KEYS = env.list("LEDGER_PREVIOUS_PUBLIC_KEYS", default=[])

# The document of an emergency plan (security/incidents): PDF, Word (.docx) or OpenDocument
# (.odt), at most this many bytes.
SECURITY_PLAN_DOCUMENT_MAX_BYTES = env.int("SECURITY_PLAN_DOCUMENT_MAX_BYTES", 20 * 1024 * 1024)

# Deadlines: default working days per workflow step (configurable per deployment).
WORKFLOW_DEFAULT_DEADLINE_WORKING_DAYS = env.int("WORKFLOW_DEFAULT_DEADLINE_WORKING_DAYS", 5)

# Catalog workflow: working days each step may take (configurable per deployment).
CATALOG_STEP_DEADLINES = {
    "agency_approve": env.int("CATALOG_DAYS_AGENCY_APPROVE", 5),
    "review": env.int("CATALOG_DAYS_REVIEW", 10),
    "publish": env.int("CATALOG_DAYS_PUBLISH", 5),
    "fix": env.int("CATALOG_DAYS_FIX", 10),
    "feedback_answer": env.int("CATALOG_DAYS_FEEDBACK_ANSWER", 5),
    "feedback_agree": env.int("CATALOG_DAYS_FEEDBACK_AGREE", 5),
    "feedback_adjust": env.int("CATALOG_DAYS_FEEDBACK_ADJUST", 10),
}

# Facet counts of catalog searches are cached until the catalog changes (0 turns it off).
CATALOG_FACET_CACHE_SECONDS = env.int("CATALOG_FACET_CACHE_SECONDS", 600)

# Objections (Art. 10): how many one user may file in each hour (counted in Redis).
OBJECTION_FILINGS_PER_HOUR = env.int("OBJECTION_FILINGS_PER_HOUR", 10)

# Audit log (Ch. 8): its searchable rows are kept this many days, then pruned (the ledger's
# leaves stay). Regulation and MLPS level 3 want at least 180 days: less is refused.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", 180)
if AUDIT_RETENTION_DAYS < 180:
    raise ImproperlyConfigured("AUDIT_RETENTION_DAYS must be at least 180 (days).")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

PLATFORM_NAME = _("Wuhan Public Data Resource Platform")

# axes.W006 warns that a lockout keyed on the user name alone can be dodged by rotating
# cookies; we lock the account name itself, which no rotation dodges (decision 0004).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Backups (security/backups/, docs/operations.md "Backups and restore"): where they go, the
# connection that dumps (a role that reads every schema; empty: the portal's own), the key
# (URL-safe base64 of 32 random bytes; comma-separated, the first encrypts, all decrypt; required
# in production), retention (days, but never fewer than the newest KEEP_COUNT), and the
# directory of pg_dump / pg_restore when they are not the ones on PATH (PostgreSQL 15).
BACKUP_DIR = env("BACKUP_DIR", default=str(BASE_DIR / "var" / "backups"))
BACKUP_DATABASE_URL = env("BACKUP_DATABASE_URL", default="")
BACKUP_ENCRYPTION_KEY = env("BACKUP_ENCRYPTION_KEY", default="")
BACKUP_KEEP_DAYS = env.int("BACKUP_KEEP_DAYS", 30)
BACKUP_KEEP_COUNT = env.int("BACKUP_KEEP_COUNT", 7)
BACKUP_PG_BIN_DIR = env("BACKUP_PG_BIN_DIR", default="")

# The data sandbox (authorization/sandbox/, Art. 27): groups of fewer rows are suppressed; the
# privacy budget (epsilon) a session gets unless its reviewer gives another, and what one query
# spends by default; the provider's reply time (working days); the statement timeout (ms), the
# rows a query may scan and the groups it may return; the longest validity window (days).
SANDBOX_MIN_GROUP_SIZE = env.int("SANDBOX_MIN_GROUP_SIZE", 10)
SANDBOX_EPSILON_TOTAL = env.float("SANDBOX_EPSILON_TOTAL", 5.0)
SANDBOX_QUERY_EPSILON = env.float("SANDBOX_QUERY_EPSILON", 0.5)
SANDBOX_DAYS_PROVIDER_REPLY = env.int("SANDBOX_DAYS_PROVIDER_REPLY", 10)
SANDBOX_STATEMENT_TIMEOUT_MS = env.int("SANDBOX_STATEMENT_TIMEOUT_MS", 5000)
SANDBOX_MAX_ROWS = env.int("SANDBOX_MAX_ROWS", 5_000_000)
SANDBOX_MAX_GROUPS = env.int("SANDBOX_MAX_GROUPS", 500)
SANDBOX_MAX_DAYS = env.int("SANDBOX_MAX_DAYS", 180)
# Beat "sandbox.daily": flags sessions whose reply is overdue, closes sessions past their window.
CELERY_BEAT_SCHEDULE["sandbox.daily"] = {
    "task": "sandbox.daily",
    "schedule": crontab(hour=0, minute=45),
}
# Sharing between government bodies (authorization/sharing/, Art. 7, 11, 27): working days
# the provider's data officer has to decide a conditional share request; days before a
# grant's end its holder is reminded; the default rate of a new grant; how often an active
# grant's use is reviewed; how far a grant's daily rows may exceed its declared volume
# before it is flagged to the security admin and the provider.
SHARING_DAYS_PROVIDER_REPLY = env.int("SHARING_DAYS_PROVIDER_REPLY", 10)
SHARING_EXPIRY_REMINDER_DAYS = env.int("SHARING_EXPIRY_REMINDER_DAYS", 30)
SHARING_DEFAULT_RATE_PER_MINUTE = env.int("SHARING_DEFAULT_RATE_PER_MINUTE", 60)
SHARING_RISK_REVIEW_DAYS = env.int("SHARING_RISK_REVIEW_DAYS", 365)
SHARING_VOLUME_FACTOR = env.float("SHARING_VOLUME_FACTOR", 3.0)
if SHARING_VOLUME_FACTOR <= 1:
    raise ImproperlyConfigured("SHARING_VOLUME_FACTOR must be greater than 1.")
# The demo's fixed supply key (README's curl line): set only by local settings, never here.
DEMO_SUPPLY_KEY = ""
CELERY_BEAT_SCHEDULE.update(
    {
        "sharing.daily": {"task": "sharing.daily", "schedule": crontab(hour=0, minute=40)},
        "sharing.volume_check": {
            "task": "sharing.volume_check",
            "schedule": crontab(hour=1, minute=10),
        },
    }
)

# Authorized operation (authorization/operation/, Art. 18-20): days before an authorization's
# end its operator and bureau are reminded; working days the bureau has to review an
# application; the yearly disclosure report's due day (month, day of the next year) and the
# days before it the operator is reminded; the largest implementation plan document.
OPERATION_EXPIRY_REMINDER_DAYS = env.int("OPERATION_EXPIRY_REMINDER_DAYS", 30)
OPERATION_REVIEW_DAYS = env.int("OPERATION_REVIEW_DAYS", 20)
OPERATION_DISCLOSURE_DUE_MONTH = env.int("OPERATION_DISCLOSURE_DUE_MONTH", 3)
OPERATION_DISCLOSURE_DUE_DAY = env.int("OPERATION_DISCLOSURE_DUE_DAY", 31)
OPERATION_DISCLOSURE_REMINDER_DAYS = env.int("OPERATION_DISCLOSURE_REMINDER_DAYS", 30)
OPERATION_PLAN_MAX_BYTES = env.int("OPERATION_PLAN_MAX_BYTES", 20 * 1024 * 1024)
# Seconds a public disclosure page stays cached (any change invalidates it at once).
OPERATION_DISCLOSURE_CACHE_SECONDS = env.int("OPERATION_DISCLOSURE_CACHE_SECONDS", 3600)
CELERY_BEAT_SCHEDULE.update(
    {"operation.daily": {"task": "operation.daily", "schedule": crontab(hour=0, minute=50)}}
)
# Pilot scenarios (authorization/pilots/, Art. 22): the largest proposal document; days
# before a priced-but-free trial ends that its organization is reminded (beat "pilots.daily").
PILOTS_DOCUMENT_MAX_BYTES = env.int("PILOTS_DOCUMENT_MAX_BYTES", 20 * 1024 * 1024)
PILOTS_TRIAL_REMINDER_DAYS = env.int("PILOTS_TRIAL_REMINDER_DAYS", 14)
CELERY_BEAT_SCHEDULE["pilots.daily"] = {
    "task": "pilots.daily",
    "schedule": crontab(hour=0, minute=55),
}

# Open-data downloads behind nginx: the internal location (aliased to MEDIA_ROOT) that
# `X-Accel-Redirect` names, so nginx, not a gunicorn worker, sends large files; empty: the
# WSGI server streams them (docs/operations.md, "Open-data downloads").
OPENDATA_ACCEL_REDIRECT_PREFIX = env("OPENDATA_ACCEL_REDIRECT_PREFIX", default="")

# Registration (registration/applications/, Art. 23-25): working days the registration body
# has to accept an application (or send it back, once); working days of the public notice;
# the format of registration codes (`year` and a gap-free per-year `seq`, decision
# "registration codes"); the largest material document; objections one client may lodge in
# an hour on the public notice page.
REGISTRATION_DAYS_ACCEPT = env.int("REGISTRATION_DAYS_ACCEPT", 3)
REGISTRATION_NOTICE_DAYS = env.int("REGISTRATION_NOTICE_DAYS", 10)
REGISTRATION_CODE_FORMAT = env("REGISTRATION_CODE_FORMAT", default="WHDJ-{year}-{seq:06d}")
try:
    if REGISTRATION_CODE_FORMAT.format(year=2026, seq=1) == REGISTRATION_CODE_FORMAT.format(
        year=2026, seq=2
    ):
        raise ValueError
except (KeyError, IndexError, ValueError) as exc:
    raise ImproperlyConfigured(
        "REGISTRATION_CODE_FORMAT must use {year} and {seq}, e.g. WHDJ-{year}-{seq:06d}."
    ) from exc
REGISTRATION_MATERIAL_MAX_BYTES = env.int("REGISTRATION_MATERIAL_MAX_BYTES", 20 * 1024 * 1024)
REGISTRATION_OBJECTIONS_PER_HOUR = env.int("REGISTRATION_OBJECTIONS_PER_HOUR", 5)
CELERY_BEAT_SCHEDULE["registration.daily"] = {
    "task": "registration.daily",
    "schedule": crontab(hour=7, minute=50),
}

# Supervision (supervision/, Art. 28-31): an evaluation run computes every agency's indicators
# on the long queue; a copy of each plan's Excel report is kept every month; the limits in
# working days that the "days" indicators score against (100 up to the limit, 10 points less
# for each day beyond); rectification orders' overdue sweep.
SUPERVISION_ISSUE_ANSWER_DAYS = env.int("SUPERVISION_ISSUE_ANSWER_DAYS", 10)
SUPERVISION_FEEDBACK_ANSWER_DAYS = env.int("SUPERVISION_FEEDBACK_ANSWER_DAYS", 10)
# Database connections a run computes its indicators on at once (1: the run's own only;
# decision 0036): two, for the machine's two cores.
SUPERVISION_RUN_CONNECTIONS = env.int("SUPERVISION_RUN_CONNECTIONS", 2)
CELERY_LONG_TASK_SOFT_TIME_LIMITS["supervision.evaluation_run"] = env.int(
    "SUPERVISION_RUN_SOFT_TIME_LIMIT", 60 * 60
)
CELERY_TASK_ROUTES["supervision.evaluation_run"] = {"queue": CELERY_LONG_QUEUE}
CELERY_TASK_ANNOTATIONS["supervision.evaluation_run"] = {
    "soft_time_limit": CELERY_LONG_TASK_SOFT_TIME_LIMITS["supervision.evaluation_run"],
    "time_limit": CELERY_LONG_TASK_SOFT_TIME_LIMITS["supervision.evaluation_run"]
    + CELERY_HARD_TIME_LIMIT_GRACE,
}
CELERY_BEAT_SCHEDULE.update(
    {
        "supervision.report_monthly": {
            "task": "supervision.report_monthly",
            "schedule": crontab(day_of_month=1, hour=2, minute=20),
        },
    }
)
# Rectification orders (Art. 31): working days given again when the bureau returns an answer;
# reminders that many working days before the due day; escalation to the city bureau once an
# order is that many working days late; calendar days past a quality issue's deadline before
# it is suggested as an order; the largest evidence document.
SUPERVISION_ORDER_RETURN_DAYS = env.int("SUPERVISION_ORDER_RETURN_DAYS", 10)
SUPERVISION_ORDER_REMIND_DAYS = env.int("SUPERVISION_ORDER_REMIND_DAYS", 2)
SUPERVISION_ORDER_ESCALATE_DAYS = env.int("SUPERVISION_ORDER_ESCALATE_DAYS", 3)
SUPERVISION_SIGNAL_GRACE_DAYS = env.int("SUPERVISION_SIGNAL_GRACE_DAYS", 10)
SUPERVISION_EVIDENCE_MAX_BYTES = env.int("SUPERVISION_EVIDENCE_MAX_BYTES", 20 * 1024 * 1024)
# Inspections (Art. 28): working days, from the day the findings are complete, to decide each
# finding's follow-up (a rectification order or a stated reason for none) and close.
SUPERVISION_INSPECTION_FOLLOWUP_DAYS = env.int("SUPERVISION_INSPECTION_FOLLOWUP_DAYS", 10)
CELERY_BEAT_SCHEDULE.update(
    {
        "supervision.orders_sweep": {
            "task": "supervision.orders_sweep",
            "schedule": crontab(hour=8, minute=30),
        },
        "supervision.suggestions_scan": {
            "task": "supervision.suggestions_scan",
            "schedule": crontab(hour=2, minute=40),
        },
    }
)
# Disputes (Art. 30): working days the parties have to negotiate before the city bureau
# coordinates (beat moves a dispute still negotiating after that).
SUPERVISION_DISPUTE_NEGOTIATION_DAYS = env.int("SUPERVISION_DISPUTE_NEGOTIATION_DAYS", 10)
CELERY_BEAT_SCHEDULE["supervision.disputes_sweep"] = {
    "task": "supervision.disputes_sweep",
    "schedule": crontab(hour=8, minute=40),
}
