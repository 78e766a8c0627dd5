"""The request-scoped SQLAlchemy session (closed at the end of every request)."""

from flask import Flask, g
from sqlalchemy.orm import Session

from shared.db import get_sessionmaker


def db() -> Session:
    if "db" not in g:
        g.db = get_sessionmaker()()
    return g.db


def init_db_session(app: Flask) -> None:
    @app.teardown_appcontext
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()
