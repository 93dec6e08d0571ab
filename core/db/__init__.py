"""Database access: the declarative base, engines, sessions, the embedded server and migrations."""

from core.db.base import Base
from core.db.session import get_engine, database_url, reset_engines, session_scope

__all__ = ["Base", "get_engine", "database_url", "reset_engines", "session_scope"]
