"""Flask extensions, created unbound and initialised by the app factory, the app's settings, and the
login limiter's keys.

Client addresses are `request.remote_addr`, which `ProxyFix` (TRUSTED_PROXY_HOPS) rewrites from
X-Forwarded-For only for as many proxies as the operator trusts; without it the header is ignored.
"""

from collections.abc import Callable

from flask import Flask, Response, current_app, request
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from shared.redis_client import get_redis
from shared.settings import Settings

_SETTINGS = "halaka.settings"


def init_settings(app: Flask, settings: Settings) -> None:
    """Keep the settings `create_app(settings)` was given on the app (once, before anything reads them)."""
    app.extensions[_SETTINGS] = settings


def app_settings() -> Settings:
    """The settings of the app serving this request (or CLI command): code under `api/` reads its
    configuration here, never through `get_settings()`, so an app created with other settings uses them."""
    settings: Settings = current_app.extensions[_SETTINGS]
    return settings


class JWT(JWTManager):
    """flask-jwt-extended's manager, noting whether the app registers a decode-key or a
    claims-verification loader (through the library's public decorators, the only way in).

    The signature path remembers `decode_token`'s verdict per token (`api.auth_context.RememberedDecodes`):
    exact while the key is fixed and no verifier runs outside `decode_token`. With either loader it
    steps aside and every request takes the library's full check.
    """

    custom_verification = False

    def decode_key_loader(self, callback: Callable) -> Callable:
        self.custom_verification = True
        return super().decode_key_loader(callback)

    def token_verification_loader(self, callback: Callable) -> Callable:
        self.custom_verification = True
        return super().token_verification_loader(callback)


jwt = JWT()
limiter = Limiter(key_func=get_remote_address, strategy="moving-window", headers_enabled=True)


def init_limiter(app: Flask) -> None:
    """Bind the limiter, without its check before every request of the app.

    Every limit of this API is a `@limiter.limit` decorator on its view (register, login), and a
    decorated view checks its own limits when it runs. flask-limiter also registers an app-wide
    `before_request` check, for application, default, meta and blueprint limits, which this API does
    not configure; on a route without limits it only costs time (about an eighth of a signature's CPU,
    measured in-process). flask-limiter has no public switch for it (4.x), so this is the one place that
    names its private check; `tests/unit/test_library_seams.py` fails if the library renames it or
    stops registering it, and `tests/security/test_brute_force.py` shows the decorated limits still hold.
    The after-request hook (X-RateLimit headers, deduct-when limits) and the teardown stay.
    """
    limiter.init_app(app)
    check = limiter._check_request_limit  # the private check init_app registers (see above)
    app.before_request_funcs[None].remove(check)


KNOWN_CLIENTS_PREFIX = "login-known:"


def login_email() -> str:
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return email.strip().lower() if isinstance(email, str) else "-"


def login_account_key() -> str:
    """Rate-limit key for failed logins to one account (case-insensitive e-mail)."""
    return "login-email:" + login_email()


def login_failed(response: Response) -> bool:
    return response.status_code == 401


def _known_clients_key(email: str) -> str:
    return KNOWN_CLIENTS_PREFIX + email


def remember_client(email: str) -> None:
    """After a successful login: this address may always try this account (until the refresh lifetime)."""
    key = _known_clients_key(email)
    pipe = get_redis().pipeline()
    pipe.sadd(key, get_remote_address())
    pipe.expire(key, app_settings().jwt_refresh_days * 86400)
    pipe.execute()


def known_client() -> bool:
    """The per-account limit spares addresses that logged in to the account before: others guessing its
    password lock out only addresses that never succeeded, never the owner's usual ones."""
    return bool(get_redis().sismember(_known_clients_key(login_email()), get_remote_address()))
