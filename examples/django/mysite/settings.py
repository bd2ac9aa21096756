"""pyfleet's Django example: settings from the environment, the database in the shared directory."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ['DJANGO_SECRET_KEY']
DEBUG = os.environ.get('DJANGO_DEBUG', '') == '1'
ALLOWED_HOSTS = os.environ.get('DJANGO_ALLOWED_HOSTS', '*').split(',')
INSTALLED_APPS = ['django.contrib.staticfiles', 'django.contrib.contenttypes', 'hello']
MIDDLEWARE = ['django.middleware.common.CommonMiddleware']
ROOT_URLCONF = 'mysite.urls'
TEMPLATES = [{'BACKEND': 'django.template.backends.django.DjangoTemplates', 'APP_DIRS': True, 'OPTIONS': {}}]
WSGI_APPLICATION = 'mysite.wsgi.application'
DATABASES = {'default': {
    'ENGINE': 'django.db.backends.sqlite3',
    'NAME': Path(os.environ.get('PYFLEET_SHARED_DIR', BASE_DIR)) / 'db.sqlite3',
}}
USE_TZ = True
STATIC_URL = '/static/'
# relative, as the Rainbond seed's settings write it: Django resolves it where collectstatic runs (manage.py's)
STATIC_ROOT = 'staticfiles'
DEFAULT_AUTO_FIELD = 'django.db.models.BigAutoField'
