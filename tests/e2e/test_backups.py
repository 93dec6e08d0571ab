"""The Backups page in a real browser: an ops user backs up, then restores into a scratch database."""

import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from tests.e2e.conftest import DEMO_PASSWORD, login, wait_idle, wait_logged_in

pytestmark = pytest.mark.e2e


def test_ops_backs_up_and_restores_into_a_scratch_database(live_app, page):
    scratch = f"e2e_restore_{uuid.uuid4().hex[:8]}"
    server = make_url(live_app["database_url"])
    try:
        login(page, live_app["url"], "ops", DEMO_PASSWORD)
        wait_logged_in(page)
        page.get_by_role("link", name="Backups").click()
        expect(page.get_by_role("heading", name="Backups", exact=True, level=1)).to_be_visible()
        wait_idle(page)

        page.get_by_role("button", name="Back up now").click()
        expect(page.get_by_text("stored in 1 target(s)")).to_be_visible(timeout=60_000)

        box = page.get_by_role("textbox", name="New database name")
        box.fill(scratch)
        box.press("Tab")
        page.get_by_role("button", name="Restore and verify").click()
        expect(page.get_by_text(f"into {scratch}")).to_be_visible(timeout=90_000)
        expect(page.get_by_text("every check matches the manifest")).to_be_visible()

        eng = create_engine(server.set(database=scratch).render_as_string(hide_password=False),
                            poolclass=pool.NullPool)
        with eng.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM tickets")).scalar() > 0
        eng.dispose()
    finally:
        admin = create_engine(server.render_as_string(hide_password=False), poolclass=pool.NullPool,
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()
