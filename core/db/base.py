"""The declarative base shared by every domain's models, with stable constraint names for Alembic."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow_column(**kw) -> Mapped[datetime]:
    """A timezone-aware timestamp column defaulting to the database's now()."""
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False, **kw)
