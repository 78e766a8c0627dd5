"""Admin commands: `flask --app api create-admin --email E --password P --name N` and
`flask --app api replay-webhooks [--id N] [--event TYPE] [--since ISO-DATE-TIME]`."""

from __future__ import annotations

from datetime import UTC

import click
from flask import Flask
from sqlalchemy import select

from shared import webhook_store
from shared.celery_config import WEBHOOK_TASK
from shared.db import session_scope
from shared.models import Role, User
from shared.passwords import hash_password
from shared.task_queue import enqueue


def register_cli(app: Flask) -> None:
    @app.cli.command("create-admin")
    @click.option("--email", required=True)
    @click.option("--password", required=True)
    @click.option("--name", required=True)
    def create_admin(email: str, password: str, name: str) -> None:
        """Create an admin (or promote and reset an existing user with this e-mail)."""
        if len(password) < 8:
            raise click.BadParameter("must be at least 8 characters", param_hint="--password")
        email = email.strip().lower()
        with session_scope() as session:
            user = session.scalar(select(User).where(User.email == email))
            if user is None:
                user = User(
                    email=email,
                    name=name,
                    active=True,
                    role=Role.admin,
                    password_hash=hash_password(password),
                )
                session.add(user)
                verb = "created"
            else:
                user.role, user.name, user.active = Role.admin, name, True
                user.password_hash = hash_password(password)
                verb = "promoted"
        click.echo(f"admin {email} {verb}")

    @app.cli.command("replay-webhooks")
    @click.option("--id", "event_id", type=int, help="one stored event")
    @click.option("--event", help="every stored event of this type, e.g. meeting.participant_joined")
    @click.option("--since", type=click.DateTime(), help="events received at or after (UTC)")
    @click.option("--all", "everything", is_flag=True, help="every stored event")
    def replay_webhooks(event_id: int | None, event: str | None, since, everything: bool) -> None:
        """Process stored Zoom events again (processing is idempotent: nothing is counted twice)."""
        if event_id is None and event is None and since is None and not everything:
            raise click.UsageError("choose events with --id, --event, --since or --all")
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        ids = webhook_store.mark_for_replay(event_id=event_id, event=event, since=since)
        queued = sum(enqueue(WEBHOOK_TASK, i) for i in ids)
        click.echo(f"{len(ids)} event(s) marked for replay, {queued} enqueued on the webhooks queue")
