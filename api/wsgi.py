"""WSGI entry for the production server (`gunicorn api.wsgi:app`)."""

from api import create_app

app = create_app()
