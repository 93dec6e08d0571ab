"""The migration chain goes up one revision at a time with data in it, and down again; models and migrations agree."""

from sqlalchemy import create_engine, func, pool, select, text

from core.db import migrate
from core.releases import migrations


def _count(url: str, sql: str) -> int:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def _row_counts(url: str) -> dict[str, int]:
    """Rows in every public table (alembic_version aside)."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                       "AND tablename <> 'alembic_version' ORDER BY tablename")).scalars().all()
            return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables}
    finally:
        engine.dispose()


def test_every_revision_goes_up_with_data_in_the_database_and_down_again(db_url, session):
    from core.demo.seed import seed_all
    from core.tickets.models import Ticket

    seed_all(session=session, tickets=50, days=10, seed=1)
    session.commit()
    assert session.scalar(select(func.count()).select_from(Ticket)) == 50
    session.close()
    head = migrate.head_revision()
    assert migrate.current_revision(db_url) == head
    seeded = {t for t, n in _row_counts(db_url).items() if n}

    # A staircase, one revision at a time (so a failing step names itself): down one, up that same revision
    # again while the tables below it still hold the seeded rows (its NOT NULL columns, backfills and
    # constraints meet real data), then down again to go on.
    chain = [r.revision for r in migrations.revisions_between(None, head)]
    exercised, below_head = set(), None
    for rev in chain:
        assert migrate.current_revision(db_url) == rev
        migrate.downgrade(db_url, "-1")
        before = _row_counts(db_url)
        below_head = set(before) if below_head is None else below_head
        exercised |= {t for t, n in before.items() if n}
        migrate.upgrade(db_url, rev)
        assert migrate.current_revision(db_url) == rev
        after = _row_counts(db_url)
        lost = {t: (before[t], after.get(t)) for t in before if (after.get(t) or 0) < before[t]}
        assert not lost, f"upgrading to {rev} lost rows: {lost}"
        migrate.downgrade(db_url, "-1")
    assert migrate.current_revision(db_url) is None
    assert _count(db_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'") == 0
    # every seeded table (but those the newest revision creates) held its rows under a later revision's upgrade
    missed = (seeded & below_head) - exercised
    assert "tickets" in exercised and not missed, sorted(missed)

    migrate.upgrade(db_url)
    assert migrate.current_revision(db_url) == head
    assert migrations.pending_revisions(db_url) == []
    assert _count(db_url, "SELECT count(*) FROM tickets") == 0  # the schema is back, empty


def test_models_and_migrations_agree_and_the_chain_has_one_head(db_url):
    migrate.check(db_url)  # alembic check: raises when autogenerate would write something
    result = migrations.check_migrations(db_url)
    assert result.ok, result.error
    assert result.heads == [migrate.head_revision()]
    assert result.pending == [] and result.current == migrate.head_revision()
