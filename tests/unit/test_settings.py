from __future__ import annotations

import pytest

from shared.settings import DEFAULT_JWT_SECRET, ConfigurationError, Settings, load_settings

BASE = {"database_url": "postgresql://u@h/db", "redis_url": "redis://h:6379/0"}


@pytest.mark.parametrize("secret", [DEFAULT_JWT_SECRET, "short-secret"], ids=["default", "short"])
def test_production_refuses_weak_jwt_secret(secret):
    with pytest.raises(ValueError, match="JWT_SECRET_KEY"):
        Settings(**BASE, app_env="production", jwt_secret_key=secret)


def test_production_accepts_strong_secret():
    s = Settings(**BASE, app_env="production", jwt_secret_key="x" * 40)
    assert s.app_env == "production"


def test_missing_variables_are_named(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(ConfigurationError) as exc:
        load_settings()
    assert "DATABASE_URL" in str(exc.value) and "REDIS_URL" in str(exc.value)


def test_invalid_value_named(monkeypatch):
    monkeypatch.setenv("DB_POOL_SIZE", "zero")
    with pytest.raises(ConfigurationError, match="DB_POOL_SIZE"):
        load_settings()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_sqlalchemy_url_uses_psycopg3(url, expected):
    assert Settings(**{**BASE, "database_url": url}).sqlalchemy_url == expected


def test_broker_defaults_to_redis():
    assert Settings(**BASE).broker_url == BASE["redis_url"]


@pytest.mark.parametrize(("token", "ok"), [("short", False), ("", False), ("m" * 16, True)])
def test_metrics_token_is_long_enough(monkeypatch, token, ok):
    monkeypatch.setenv("METRICS_TOKEN", token)
    if ok:
        assert load_settings().metrics_token.get_secret_value() == token
    else:
        with pytest.raises(ConfigurationError, match="METRICS_TOKEN"):
            load_settings()
