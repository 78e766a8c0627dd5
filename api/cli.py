"""`flask --app api create-admin --email E --password P --name N`."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from shared.db import session_scope
from shared.models import Role, User
from shared.passwords import hash_password


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
                    role=Role.admin.value,
                    password_hash=hash_password(password),
                )
                session.add(user)
                verb = "created"
            else:
                user.role, user.name, user.active = Role.admin.value, name, True
                user.password_hash = hash_password(password)
                verb = "promoted"
        click.echo(f"admin {email} {verb}")
