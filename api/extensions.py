"""Flask extensions, created unbound and initialised by the app factory."""

from flask import request
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

jwt = JWTManager()
limiter = Limiter(key_func=get_remote_address, strategy="moving-window", headers_enabled=True)


def login_email_key() -> str:
    """Rate-limit key for login attempts per e-mail (case-insensitive)."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return "login-email:" + (email.strip().lower() if isinstance(email, str) else "-")
