"""Process configuration: environment variables only (12-factor), validated once at start-up."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_JWT_SECRET = "dev-only-insecure-jwt-secret-change-me"
MIN_PRODUCTION_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    app_env: Literal["development", "test", "production"] = "development"
    log_level: str = "INFO"

    database_url: str = Field(min_length=1)
    redis_url: str = Field(min_length=1)
    celery_broker_url: str | None = None
    db_pool_size: int = Field(default=10, ge=1, le=200)

    jwt_secret_key: SecretStr = SecretStr(DEFAULT_JWT_SECRET)
    jwt_access_minutes: int = Field(default=15, ge=1, le=24 * 60)
    jwt_refresh_days: int = Field(default=30, ge=1, le=365)
    login_rate_limit: str = "10 per minute"
    max_body_bytes: int = Field(default=1_048_576, ge=1024)

    zoom_account_id: str | None = None
    zoom_client_id: str | None = None
    zoom_client_secret: SecretStr | None = None
    zoom_sdk_key: str | None = None
    zoom_sdk_secret: SecretStr | None = None
    zoom_api_base_url: str = "https://api.zoom.us/v2"
    zoom_oauth_url: str = "https://zoom.us/oauth/token"
    zoom_default_host_user: str | None = None
    zoom_timeout_connect: float = Field(default=3.05, gt=0)
    zoom_timeout_read: float = Field(default=15.0, gt=0)
    zoom_rate_light: float = Field(default=30, gt=0)
    zoom_rate_medium: float = Field(default=20, gt=0)
    zoom_rate_heavy: float = Field(default=10, gt=0)

    provision_max_attempts: int = Field(default=12, ge=1)
    provision_backoff_base: float = Field(default=2.0, gt=0)
    provision_backoff_cap: float = Field(default=300.0, gt=0)
    reconcile_interval_seconds: float = Field(default=60.0, gt=0)
    reconcile_stale_seconds: float = Field(default=120.0, gt=0)

    # operations (issue 13): Prometheus exposition
    metrics_token: SecretStr | None = Field(default=None, min_length=16)
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"

    # --- trust model (issue 10) ---
    teacher_signup: Literal["approval", "open", "closed"] = "approval"
    register_rate_limit: str = "5 per hour"
    login_account_rate_limit: str = "5 per minute"
    trusted_proxy_hops: int = Field(default=0, ge=0, le=10)
    shared_host_teacher_daily_writes: int = Field(default=20, ge=0)
    prefer_wait_max_concurrent: int = Field(default=4, ge=0, le=1000)
    start_url_max_age_seconds: int = Field(default=90 * 60, ge=0, le=110 * 60)

    # How far a schedule may reach (issue 9: bounded work for every input), in days.
    schedule_past_days: int = Field(default=366, ge=0, le=36_600)
    schedule_horizon_days: int = Field(default=731, ge=0, le=36_600)
    schedule_max_span_days: int = Field(default=1827, ge=0, le=36_600)

    # --- Zoom webhooks, attendance and drift (issue 15) ---
    zoom_webhook_secret_token: SecretStr | None = None
    zoom_webhook_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    zoom_webhook_max_body_bytes: int = Field(default=65_536, ge=1024)
    zoom_drift_policy: Literal["heal", "flag"] = "heal"
    drift_check_interval_seconds: float = Field(default=3600.0, gt=0)
    customer_key_secret: SecretStr | None = None
    attendance_late_minutes: int = Field(default=10, ge=0, le=1440)
    attendance_min_presence_percent: int = Field(default=50, ge=0, le=100)
    # --- end issue 15 ---
    calendar_feed_rate_limit: str = "60 per minute"  # feed requests per client address (issue 11)

    @property
    def broker_url(self) -> str:
        return self.celery_broker_url or self.redis_url

    @property
    def sqlalchemy_url(self) -> str:
        """The URL with the psycopg 3 driver, whatever scheme the operator wrote."""
        url = self.database_url
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @model_validator(mode="after")
    def _production_secret(self) -> Settings:
        secret = self.jwt_secret_key.get_secret_value()
        if secret == DEFAULT_JWT_SECRET and self.app_env != "test":
            raise ValueError(
                "JWT_SECRET_KEY must be set: the default in the source is public and only accepted with "
                "APP_ENV=test (make run generates one per install in var/jwt-secret)"
            )
        if self.app_env == "production" and len(secret) < MIN_PRODUCTION_SECRET_LENGTH:
            raise ValueError(
                "JWT_SECRET_KEY must be set to a random value of at least "
                f"{MIN_PRODUCTION_SECRET_LENGTH} characters in production"
            )
        return self


class ConfigurationError(RuntimeError):
    """Raised at start-up with one line per missing or invalid variable."""


def describe_errors(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        name = "_".join(str(p) for p in err["loc"]).upper() or "configuration"
        lines.append(f"{name}: {err['msg']}")
    return "invalid configuration:\n  " + "\n  ".join(lines)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigurationError(describe_errors(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
