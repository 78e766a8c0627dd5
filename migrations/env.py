from alembic import context
from sqlalchemy import create_engine, pool

from shared.logging import configure_logging
from shared.models import Base
from shared.settings import get_settings

config = context.config
if config.attributes.get("configure_logger", True):
    configure_logging(get_settings().log_level)  # the project's JSON lines, like every other role

target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=get_settings().sqlalchemy_url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(get_settings().sqlalchemy_url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
