"""Every test here talks to PostgreSQL and Redis: all of them opt in (see tests/conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def _services(uses_services: None) -> None:
    pass
