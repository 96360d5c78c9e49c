"""Settings, read from the environment (12-factor).

Zero-setup default (``make run``): DEBUG=1, SQLite file in the project folder, Celery eager.
Production: DEBUG unset, SECRET_KEY, DATABASE_URL (PostgreSQL), REDIS_URL and ALLOWED_HOSTS set;
``manage.py check --deploy`` passes without warnings.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY 未设置：生产模式（DEBUG 关闭）必须通过环境变量 SECRET_KEY 提供至少 50 个字符的随机密钥。"
            " 本地试用请用 `make run`（它会设置 DEBUG=1）。"
        )
    SECRET_KEY = "dev-only-qdperf-secret-key-not-for-production-use-0123456789"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "guardian",
    "axes",
    "django_celery_beat",
    "apps.core",
    "apps.orgs",
    "apps.accounts",
    "apps.funds",
    "apps.indicators",
    "apps.assessments",
    "apps.targets",
    "apps.monitoring",
    "apps.attachments",
    "apps.agencies",
    "apps.evaluations",
    "apps.results",
    "apps.reminders",
    "apps.supervision",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "apps.core.middleware.RequestContextMiddleware",
    "apps.accounts.middleware.IdleSessionMiddleware",
    # Axes last: it turns a locked-out login into our Chinese lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "qdperf.urls"
WSGI_APPLICATION = "qdperf.wsgi.application"

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
                "apps.core.context_processors.shell",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # PostgreSQL's JIT compiler triggers on the dashboards' and reports' aggregates (their cost estimate
    # crosses jit_above_cost) and spends seconds compiling queries that run in tens of milliseconds.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60 if not DEBUG else 0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "apps.accounts.backends.OrganizationModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "apps.accounts.validators.PolicyLengthValidator"},
    {"NAME": "apps.accounts.validators.CharacterClassValidator"},
    {"NAME": "apps.accounts.validators.NotUsernameValidator"},
    {"NAME": "apps.accounts.validators.PasswordHistoryValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Idle sessions expire: the policy's idle minutes (default 30) are re-armed on every request.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True

# django-axes: 5 failures → 15 minutes, per username; both read from the security policy.
AXES_FAILURE_LIMIT = "apps.accounts.policy.axes_failure_limit"
AXES_COOLOFF_TIME = "apps.accounts.policy.axes_cooloff_time"
AXES_LOCKOUT_PARAMETERS = ["username"]
# Lock the account, not the address: a bureau's whole office reaches us from one NAT address, so an
# IP lock-out would let five typos lock out everyone (axes.W006 asks for IP locking; we decline).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "apps.accounts.views.lockout_response"
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Uploaded evidence lives outside the web root and is served only through permission-checked views.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "private_media")))

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: absent REDIS_URL → tasks run eagerly in-process (zero-setup default and unit tests).
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
vars().update(EMAIL_CONFIG)
# A hung mail server must not hold a sending batch (reminder e-mails) for ever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# The address users open: links in reminder e-mails start with it.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="qdperf@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "qdperf 预算绩效管理 API",
    "DESCRIPTION": "青岛市预算绩效管理系统接口。所有列表均按当前用户的组织与角色限定范围。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status": give each choice set its own stable name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "TargetStatusEnum": "apps.targets.models.TargetStatus",
        "AssessmentStatusEnum": "apps.assessments.models.AssessmentStatus",
        "IndicatorStatusEnum": "apps.indicators.models.LibraryIndicator.Status",
        "ConclusionEnum": "apps.assessments.models.Conclusion",
        "AuditFindingStatusEnum": "apps.supervision.models.AuditFinding.Status",
        "ReferralStatusEnum": "apps.supervision.models.Referral.Status",
        "AnnualAssessmentStatusEnum": "apps.supervision.models.AnnualAssessment.Status",
        "AssessmentKindEnum": "apps.supervision.models.AssessmentKind",
        "FiscalEvaluationStatusEnum": "apps.supervision.models.FiscalEvaluation.Status",
        "FiscalSubmissionStatusEnum": "apps.supervision.models.FiscalSubmission.Status",
    },
}

GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = "AnonymousUser"
GUARDIAN_MONKEY_PATCH_USER = False

# Production hardening: all on unless DEBUG; each can be relaxed by env behind a TLS proxy.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Demo accounts' password (seed_demo); documented in the README.
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="Qdperf@2026")

# In CI, a missing PostgreSQL, Redis or Chromium is a failure, never a skip.
QDPERF_STRICT_SERVICES = env.bool("QDPERF_STRICT_SERVICES", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=20 * 1024 * 1024)
CSRF_FAILURE_VIEW = "apps.core.views.csrf_failure"
