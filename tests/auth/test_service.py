"""User management and credential checks against real PostgreSQL."""

import pytest
from sqlalchemy import select

from core.audit.models import AuditLog
from core.auth import service
from core.auth.roles import PermissionDenied, Role


def test_authenticate_accepts_right_password_and_refuses_wrong_or_disabled(session, make_user):
    make_user("agent", username="ana", password="correct-horse")
    assert service.authenticate(session=session, username="ana", password="correct-horse").username == "ana"
    assert service.authenticate(session=session, username="ana", password="wrong-password") is None
    assert service.authenticate(session=session, username="nobody", password="correct-horse") is None
    service.set_active(session=session, actor="system", username="ana", active=False)
    session.commit()
    assert service.authenticate(session=session, username="ana", password="correct-horse") is None


def test_only_admins_manage_users_and_every_change_is_audited(session, make_user):
    admin = make_user("admin", username="root1")
    agent = make_user("agent", username="agent7")
    with pytest.raises(PermissionDenied):
        service.create_user(session=session, actor=agent, username="sneaky", name="S", email="s@example.com",
                            role=Role.ADMIN, password="password123")
    session.rollback()
    assert session.scalar(select(AuditLog).where(AuditLog.details["username"].astext == "sneaky")) is None
    service.create_user(session=session, actor=admin, username="newpm", name="New PM", email="pm@example.com",
                        role=Role.PM, password="password123")
    session.commit()
    rows = session.scalars(select(AuditLog).where(AuditLog.action == "user.create", AuditLog.actor == "root1")).all()
    assert [r.details["username"] for r in rows] == ["newpm"]


@pytest.mark.parametrize("field,kwargs,message", [
    ("username", {"username": "A B"}, "username"),
    ("email", {"email": "not-an-email"}, "email"),
    ("role", {"role": "superuser"}, "role"),
    ("password", {"password": "short"}, "password"),
])
def test_bad_user_input_is_refused_with_a_clear_message(session, field, kwargs, message):
    base = dict(username="valid", name="V", email="v@example.com", role="agent", password="password123")
    base.update(kwargs)
    with pytest.raises(service.UserError, match=message):
        service.create_user(session=session, actor="system", **base)


def test_ensure_admin_creates_once_and_returns_generated_password(session):
    pw = service.ensure_admin(session=session, password=None)
    assert pw and len(pw) >= 12
    assert service.ensure_admin(session=session, password=None) is None
    assert service.authenticate(session=session, username="admin", password=pw).role == "admin"
