"""Settings shaped like Heroku's Python getting-started app: Heroku-only defaults behind DYNO, sqlite unless
DATABASE_URL says otherwise, whitenoise for static files."""
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# On Heroku, DYNO is set; elsewhere the app is in development unless told otherwise.
IS_HEROKU_APP = "DYNO" in os.environ and "CI" not in os.environ

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", default=secrets.token_urlsafe(nbytes=64))
DEBUG = not IS_HEROKU_APP and os.environ.get("DJANGO_DEBUG", "") == "1"

# Heroku's router has already checked the Host; anywhere else only local names are allowed, plus the
# ones the environment adds.
if IS_HEROKU_APP:
    ALLOWED_HOSTS = ["*"]
else:
    ALLOWED_HOSTS = [".localhost", "127.0.0.1", "[::1]", "0.0.0.0"]
ALLOWED_HOSTS += [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h]

INSTALLED_APPS = [
    "hello",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "gettingstarted.urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True, "OPTIONS": {}}]
WSGI_APPLICATION = "gettingstarted.wsgi.application"

# sqlite in the app's directory unless DATABASE_URL names another database
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
if os.environ.get("DATABASE_URL", "").startswith("sqlite:///"):
    DATABASES["default"]["NAME"] = os.environ["DATABASE_URL"][len("sqlite:///"):]

USE_TZ = True
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_URL = "static/"
STORAGES = {"staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
