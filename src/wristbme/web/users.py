"""Web users: the store's ``users`` table (``wristbme.study.models.User``), managed by ``wristbme user``.

Creation and authentication are the store's (``study.service.create_user`` / ``authenticate``); listing and
removal live here. Removal deletes the row (the audit trail keeps the name in its events) and is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from wristbme.errors import NotFoundError


@dataclass(frozen=True)
class UserPublic:
    """A user as shown to people: never the password hash."""

    name: str
    role: str
    active: bool
    created_at: str


def list_users(session: Session) -> list[UserPublic]:
    from wristbme.study.models import User

    return [UserPublic(u.name, u.role, bool(u.active), u.created_at.isoformat(sep=" ") if u.created_at else "")
            for u in session.scalars(select(User).order_by(User.name))]


def remove_user(session: Session, *, name: str, actor: str | None = None) -> None:
    """Delete user ``name`` in the caller's transaction (audited as ``user.remove``).

    Raises
    ------
    NotFoundError
        No such user.
    """
    from wristbme.study.audit import audit
    from wristbme.study.models import User

    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFoundError.localized("web.user.not_found", name=name)
    session.delete(user)
    session.flush()
    audit(session, "user.remove", {"user": name}, actor=actor)
