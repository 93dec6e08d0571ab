"""Applying, checking and inspecting Alembic migrations from code (the CLI and the launcher call these)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool

from core.config import ROOT


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config for the project's migrations, pointed at url (or the configured database)."""
    cfg = Config(str(ROOT / "alembic.ini"))
    if url:
        cfg.attributes["url"] = url
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Apply migrations up to revision, under the migration advisory lock."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "-1") -> None:
    """Revert migrations down to revision, under the migration advisory lock."""
    command.downgrade(alembic_config(url), revision)


def check(url: str | None = None) -> None:
    """Raise when the models and the migrations disagree (alembic check)."""
    command.check(alembic_config(url))


def head_revision() -> str:
    """The newest revision in the migrations folder."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(url: str) -> str | None:
    """The revision the database at url is on (None when never migrated)."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def pending_revisions(url: str) -> list[str]:
    """Revisions in the folder that the database at url has not applied yet, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    current = current_revision(url)
    revs = [r.revision for r in script.walk_revisions("base", "heads")]
    revs.reverse()
    if current is None:
        return revs
    return revs[revs.index(current) + 1:] if current in revs else revs
