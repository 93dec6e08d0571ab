"""Roll-up snapshots: a page result stored with a fingerprint of the data it was computed from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, utcnow_column


class PageRollup(Base):
    __tablename__ = "page_rollups"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)  # JSON text: keeps key order exactly as computed
    refreshed_at: Mapped[datetime] = utcnow_column()
    seconds: Mapped[float | None] = mapped_column(Float)
