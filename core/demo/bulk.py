"""Bulk loading for big demo sets: PostgreSQL COPY through psycopg2's copy_expert, in the caller's transaction."""

from __future__ import annotations

import io
import json
from datetime import datetime
from decimal import Decimal
from enum import Enum
from contextlib import contextmanager
from typing import Iterable, Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

CHUNK_ROWS = 100_000
_ESC = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(v: str) -> str:
    return v.translate(_ESC) if ("\\" in v or "\t" in v or "\n" in v or "\r" in v) else v


_BY_TYPE = {
    type(None): lambda v: "\\N",
    bool: lambda v: "t" if v else "f",
    str: _text,
    int: str,
    float: repr,
    Decimal: str,
    datetime: datetime.isoformat,
    dict: lambda v: _text(json.dumps(v, ensure_ascii=False)),
    list: lambda v: _text(json.dumps(v, ensure_ascii=False)),
}


def _cell(v) -> str:
    conv = _BY_TYPE.get(type(v))
    if conv is not None:
        return conv(v)
    if isinstance(v, Enum):
        _BY_TYPE[type(v)] = lambda x: _text(str(x.value))
        return _text(str(v.value))
    return _text(str(v))


def copy_rows(session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """COPY rows (tuples in column order) into table within the session's transaction; returns how many."""
    session.flush()
    raw = session.connection().connection.driver_connection
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    n = 0
    buf = io.StringIO()
    in_buf = 0
    with raw.cursor() as cur:
        for row in rows:
            buf.write("\t".join(map(_cell, row)))
            buf.write("\n")
            in_buf += 1
            if in_buf >= CHUNK_ROWS:
                buf.seek(0)
                cur.copy_expert(sql, buf)
                n += in_buf
                buf, in_buf = io.StringIO(), 0
        if in_buf:
            buf.seek(0)
            cur.copy_expert(sql, buf)
            n += in_buf
    return n


def reserve_ids(session: Session, table: str, n: int, column: str = "id") -> list[int]:
    """n fresh ids from table's own sequence (so COPY can write them and children can refer to them)."""
    if n <= 0:
        return []
    seq = session.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table, "c": column})
    return sorted(session.scalars(text(f"SELECT nextval('{seq}') FROM generate_series(1, :n)"), {"n": n}))


@contextmanager
def indexes_deferred(session: Session, tables: Sequence[str]):
    """Drop the plain (not constraint) indexes of tables, and rebuild them after the block: one sorted build
    per index instead of millions of inserts into each (the usual way to bulk-load)."""
    rows = session.execute(text("""
        SELECT i.indexname, i.indexdef FROM pg_indexes i
         WHERE i.schemaname = current_schema() AND i.tablename = ANY(:t)
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"""),
                           {"t": list(tables)}).all()
    for r in rows:
        session.execute(text(f'DROP INDEX "{r.indexname}"'))
    session.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    session.execute(text("SET LOCAL work_mem = '256MB'"))
    yield
    for r in rows:
        session.execute(text(r.indexdef))
