"""User management and credential checks, against the users table."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone

import bcrypt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit.service import record
from core.auth.models import Team, User
from core.auth.roles import Permission, Role, require

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.\-]{1,63}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8


class UserError(ValueError):
    """A user could not be created or changed; the message says why."""


def hash_password(password: str) -> str:
    """A bcrypt hash of password."""
    from core.config import get_settings

    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=get_settings().bcrypt_rounds)).decode()


def check_password(password: str, hashed: str) -> bool:
    """Whether password matches the bcrypt hash."""
    try:
        return bcrypt.checkpw(password.encode(), hashed.encode())
    except ValueError:
        return False


def generate_password() -> str:
    """A random password a person can type."""
    return secrets.token_urlsafe(12)


def _validate(username: str, email: str, role: str, password: str | None) -> None:
    if not USERNAME_RE.match(username or ""):
        raise UserError("username: 2-64 characters, lower-case letters, digits, '.', '_' or '-'")
    if not EMAIL_RE.match(email or ""):
        raise UserError(f"email: {email!r} is not an e-mail address")
    if role not in {r.value for r in Role}:
        raise UserError(f"role: {role!r} is not one of {', '.join(r.value for r in Role)}")
    if password is not None and len(password) < MIN_PASSWORD:
        raise UserError(f"password: at least {MIN_PASSWORD} characters")


def create_user(*, session: Session, actor, username: str, name: str, email: str, role: str, password: str,
                team_key: str | None = None, contact_id: int | None = None, capacity: int | None = None,
                password_is_hash: bool = False) -> User:
    """Create a user (actor needs manage_users; the string 'system' is the CLI/bootstrap)."""
    if actor != "system":
        require(actor, Permission.MANAGE_USERS)
    username = (username or "").strip().lower()
    _validate(username, email, role, None if password_is_hash else password)
    if session.scalar(select(User.id).where(User.username == username)):
        raise UserError(f"username: {username!r} already exists")
    team_id = None
    if team_key:
        team_id = session.scalar(select(Team.id).where(Team.key == team_key))
        if team_id is None:
            raise UserError(f"team: no team {team_key!r}")
    user = User(username=username, name=name or username, email=email, role=role, team_id=team_id,
                contact_id=contact_id, capacity=capacity,
                password_hash=password if password_is_hash else hash_password(password))
    session.add(user)
    session.flush()
    record(session=session, actor=actor, action="user.create", entity="user", entity_id=user.id,
           details={"username": username, "role": role, "team": team_key})
    return user


def set_active(*, session: Session, actor, username: str, active: bool) -> User:
    """Enable or disable a user's login."""
    if actor != "system":
        require(actor, Permission.MANAGE_USERS)
    user = get_user(session=session, username=username)
    user.active = active
    user.updated_at = datetime.now(timezone.utc)
    record(session=session, actor=actor, action="user.enable" if active else "user.disable", entity="user",
           entity_id=user.id, details={"username": user.username})
    return user


def reset_password(*, session: Session, actor, username: str, password: str | None = None) -> str:
    """Set a new password (generated when none is given) and return it."""
    if actor != "system":
        require(actor, Permission.MANAGE_USERS)
    user = get_user(session=session, username=username)
    password = password or generate_password()
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password: at least {MIN_PASSWORD} characters")
    user.password_hash = hash_password(password)
    user.updated_at = datetime.now(timezone.utc)
    record(session=session, actor=actor, action="user.reset_password", entity="user", entity_id=user.id,
           details={"username": user.username})
    return password


def get_user(*, session: Session, username: str) -> User:
    """The user with this username, or UserError."""
    user = session.scalar(select(User).where(User.username == (username or "").strip().lower()))
    if user is None:
        raise UserError(f"no user {username!r}")
    return user


def list_users(*, session: Session) -> list[User]:
    """Every user, by role then username."""
    return list(session.scalars(select(User).order_by(User.role, User.username)))


def authenticate(*, session: Session, username: str, password: str) -> User | None:
    """The active user for these credentials, or None (the caller shows one generic message)."""
    user = session.scalar(select(User).where(User.username == (username or "").strip().lower()))
    if user is None or not user.active or not check_password(password or "", user.password_hash):
        return None
    return user


def credentials(*, session: Session) -> dict:
    """The streamlit-authenticator credentials dict built from active users (hashes only)."""
    users = session.scalars(select(User).where(User.active.is_(True)))
    return {"usernames": {
        u.username: {"name": u.name, "email": u.email, "password": u.password_hash, "roles": [u.role],
                     "failed_login_attempts": 0, "logged_in": False}
        for u in users
    }}


def ensure_admin(*, session: Session, password: str | None) -> str | None:
    """Create the `admin` user when no admin exists; return the password when one was generated."""
    if session.scalar(select(func.count()).select_from(User).where(User.role == Role.ADMIN)):
        return None
    generated = password is None
    password = password or generate_password()
    create_user(session=session, actor="system", username="admin", name="Administrator",
                email="admin@aftercare.local", role=Role.ADMIN, password=password)
    return password if generated else None
