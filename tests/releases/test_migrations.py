"""The whole migration chain goes down and up again with data in it; models and migrations agree."""

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


def test_every_revision_goes_down_and_up_again_with_data_in_the_database(db_url, session):
    from core.demo.seed import seed_all
    from core.tickets.models import Ticket

    seed_all(session=session, tickets=50, days=10, seed=1)
    session.commit()
    assert session.scalar(select(func.count()).select_from(Ticket)) == 50
    session.close()
    head = migrate.head_revision()
    assert migrate.current_revision(db_url) == head

    # One revision at a time, so a failing downgrade names itself.
    chain = [r.revision for r in migrations.revisions_between(None, head)]
    for rev in chain:
        assert migrate.current_revision(db_url) == rev
        migrate.downgrade(db_url, "-1")
    assert migrate.current_revision(db_url) is None
    assert _count(db_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'") == 0

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
