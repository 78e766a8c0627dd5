"""Admin-only user management (docs/api.md): list users, change role/active/approval/linked Zoom user."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from api.auth_context import auth_required, revoke_all_logins
from api.blueprints import api_blueprint
from api.db_session import db
from api.errors import ApiError
from api.responses import ok
from api.schemas.common import IdPath, responses, validated
from api.schemas.users import UserEnvelope, UserOut, UserPage, UserPageEnvelope, UserPatch, UserQuery
from shared.models import Role, User

log = logging.getLogger(__name__)
bp = api_blueprint("users", __name__, "/users")


@bp.get("/", responses=responses({200: UserPageEnvelope}, 401, 403))
@auth_required(Role.admin)
@validated
def list_users(query: UserQuery):
    """List users (admin), optionally filtered by role or e-mail."""
    stmt = select(User)
    if query.role:
        stmt = stmt.where(User.role == query.role)
    if query.email:
        stmt = stmt.where(User.email == query.email.strip().lower())
    session = db()
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(User.id).offset((query.page - 1) * query.per_page).limit(query.per_page)
    )
    page = UserPage(
        items=[UserOut.of(u) for u in rows], page=query.page, per_page=query.per_page, total=total
    )
    return ok("Users fetched successfully", page)


def _check_zoom_user_free(user: User, zoom_user_id: str) -> None:
    """A Zoom user belongs to one account here: linking it twice would share its host rights (409)."""
    taken = db().scalar(
        select(User.id).where(func.lower(User.zoom_user_id) == zoom_user_id.lower(), User.id != user.id)
    )
    if taken is not None:
        raise _zoom_user_taken()


def _zoom_user_taken() -> ApiError:
    return ApiError(
        409,
        "This Zoom user is already linked to another account",
        [{"field": "zoomUserId", "message": "linked to another user"}],
    )


@bp.patch("/<int:id>", responses=responses({200: UserEnvelope}, 401, 403, 404, 409))
@auth_required(Role.admin)
@validated
def patch_user(path: IdPath, body: UserPatch):
    """Change a user's role, active flag, approval, name or linked Zoom user (only an admin links Zoom
    users; a Zoom user is linked to at most one account). Deactivating revokes every earlier token."""
    session = db()
    user = session.get(User, path.id)
    if user is None:
        raise ApiError(404, "User not found")
    changes = {
        name: value.strip() if isinstance(value, str) else value
        for name, value in body.model_dump(exclude_unset=True).items()
    }
    if changes.get("zoom_user_id"):
        _check_zoom_user_free(user, changes["zoom_user_id"])
    if changes.get("active") is False and user.active:
        revoke_all_logins(user)
    for name, value in changes.items():
        setattr(user, name, value)
    try:
        session.commit()
    except IntegrityError:  # a concurrent link of the same Zoom user won the race
        session.rollback()
        raise _zoom_user_taken() from None
    log.info("user updated", extra={"user_id": user.id, "fields": sorted(changes)})
    return ok("User updated successfully", UserOut.of(user))
