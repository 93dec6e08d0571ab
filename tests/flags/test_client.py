"""core.flags.Client: local evaluation from a PostgreSQL snapshot refreshed in the background, stale
when the database is unreachable; and the OpenFeature provider on top of it."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, event, pool, text
from sqlalchemy.engine import make_url

from core.flags import Client, service


@pytest.fixture
def ops(make_user):
    return make_user("ops", username="olivia")


def _wait(cond, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def test_ten_percent_rollout_enables_ten_percent_and_the_same_users_after_restart(db_url, session, ops):
    service.create_flag(session=session, actor=ops, name="new-search", reason="ramp")
    service.toggle(session=session, actor=ops, name="new-search", environment="production", enabled=True, reason="on")
    service.set_rollout(session=session, actor=ops, name="new-search", environment="production", percentage=10, reason="10%")
    session.commit()
    with Client(environment="production", database_url=db_url, start=False) as c1:
        assert c1.refresh()
        first = {i for i in range(100_000) if c1.is_enabled("new-search", {"userId": f"user-{i}"})}
    assert 9_500 <= len(first) <= 10_500
    with Client(environment="production", database_url=db_url, start=False) as c2:
        c2.refresh()
        assert {i for i in range(100_000) if c2.is_enabled("new-search", {"userId": f"user-{i}"})} == first
        # development is still off
    with Client(environment="development", database_url=db_url, start=False) as dev:
        dev.refresh()
        assert not dev.is_enabled("new-search", {"userId": "user-1"})


def test_no_query_per_evaluation_and_background_refresh(db_url, session, ops):
    service.create_flag(session=session, actor=ops, name="banner", reason="x")
    session.commit()
    with Client(environment="production", database_url=db_url, refresh_interval=0.2) as client:
        statements = []
        event.listen(client._db, "before_cursor_execute", lambda *a, **k: statements.append(1))
        client._stop.set()               # pause the refresh thread while counting
        client._thread.join()
        for i in range(2000):
            client.is_enabled("banner", {"userId": str(i)})
            client.get_variant("banner", {"userId": str(i)})
        assert statements == []
        assert not client.is_enabled("banner")
    with Client(environment="production", database_url=db_url, refresh_interval=0.2) as client:
        service.toggle(session=session, actor=ops, name="banner", environment="production", enabled=True, reason="go")
        session.commit()
        assert _wait(lambda: client.is_enabled("banner"))
        assert not client.stale


def test_unreachable_database_keeps_the_last_snapshot_and_reports_stale(db_url, pg_server_url, session, ops):
    service.create_flag(session=session, actor=ops, name="kill-payments", flag_type="kill-switch", reason="x")
    service.toggle(session=session, actor=ops, name="kill-payments", environment="production", enabled=True, reason="on")
    session.commit()
    session.close()
    name = make_url(db_url).database
    admin = create_engine(pg_server_url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    from core.db import reset_engines

    with Client(environment="production", database_url=db_url, start=False) as client:
        assert client.refresh() and not client.stale
        reset_engines()
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": name})
            conn.execute(text(f'ALTER DATABASE "{name}" RENAME TO "{name}_away"'))
        try:
            assert client.refresh() is False
            assert client.stale and client.last_error
            assert client.is_enabled("kill-payments")          # still the last snapshot
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}_away" RENAME TO "{name}"'))
        assert client.refresh() and not client.stale
    admin.dispose()


def test_openfeature_provider(db_url, session, ops):
    from openfeature import api
    from openfeature.evaluation_context import EvaluationContext

    from core.flags.openfeature import AftercareProvider

    service.create_flag(session=session, actor=ops, name="pricing-page", flag_type="experiment", reason="ab", definition={
        "variants": [{"name": "cheap", "weight": 50, "payload": {"type": "number", "value": "9"}},
                     {"name": "dear", "weight": 50, "payload": {"type": "number", "value": "19"}}],
        "environments": {"production": {"enabled": True, "strategies": [
            {"name": "default", "parameters": {}, "constraints": [
                {"contextName": "plan", "operator": "IN", "values": ["pro"]}]}]}}})
    session.commit()
    client = Client(environment="production", database_url=db_url, start=False)
    client.refresh()
    api.set_provider(AftercareProvider(client))
    of = api.get_client()
    try:
        pro = EvaluationContext("user-7", {"plan": "pro"})
        free = EvaluationContext("user-7", {"plan": "free"})
        assert of.get_boolean_value("pricing-page", False, pro) is True
        assert of.get_boolean_value("pricing-page", False, free) is False
        price = of.get_integer_value("pricing-page", 0, pro)
        assert price in (9, 19)
        assert of.get_integer_value("pricing-page", 0, pro) == price          # sticky per user
        assert of.get_integer_value("pricing-page", 0, free) == 0
        details = of.get_boolean_details("missing-flag", True, pro)
        assert details.value is True and details.error_code == "FLAG_NOT_FOUND"
        prices = {of.get_integer_value("pricing-page", 0, EvaluationContext(f"u{i}", {"plan": "pro"})) for i in range(50)}
        assert prices == {9, 19}
    finally:
        api.shutdown()
