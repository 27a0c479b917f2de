"""WSGI entry point for production servers (``cartera serve`` runs it under gunicorn)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cartera.settings")
application = get_wsgi_application()
