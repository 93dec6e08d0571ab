"""`python -m core users ...` in a process of its own (as an operator runs it): the README's fix for a
forgotten admin password, and disabling and enabling a login."""

import os
import subprocess
import sys

from sqlalchemy import select

from core.auth.models import User
from core.auth.service import check_password, ensure_admin


def _core(db_url, *args, stdin=""):
    return subprocess.run([sys.executable, "-m", "core", "users", *args], capture_output=True, text=True,
                          input=stdin, env={**os.environ, "DATABASE_URL": db_url}, timeout=120)


def test_reset_password_disable_and_enable_from_the_command_line(db_url, session):
    ensure_admin(session=session, password="old-password-123")
    session.commit()
    out = _core(db_url, "reset-password", "admin")
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    session.expire_all()
    admin = session.scalar(select(User).where(User.username == "admin"))
    assert not check_password("old-password-123", admin.password_hash)

    out = _core(db_url, "disable", "admin")
    assert out.returncode == 0, out.stderr
    session.expire_all()
    assert session.scalar(select(User.active).where(User.username == "admin")) is False
    out = _core(db_url, "enable", "admin")
    assert out.returncode == 0, out.stderr
    session.expire_all()
    assert session.scalar(select(User.active).where(User.username == "admin")) is True
