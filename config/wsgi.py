"""WSGI entry point, for gunicorn serving the HTTP API and pages in production."""

import os

from django.core.wsgi import get_wsgi_application

# A server started without DJANGO_SETTINGS_MODULE runs production settings (which refuse
# default keys), never the local ones with DEBUG on: `make run` and the tests set it.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
