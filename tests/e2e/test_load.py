"""Load: several browser sessions browse the console at once while the worker runs its jobs.

`make test` runs a small version (5 sessions); the full one is `AFTERCARE_LOAD_SESSIONS=20 make test`
(or `pytest tests/e2e/test_load.py` with that variable), as the README says.
"""

import asyncio
import os
import threading

import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from core.db.session import MAX_OVERFLOW, POOL_SIZE
from tests.e2e.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

SESSIONS = int(os.environ.get("AFTERCARE_LOAD_SESSIONS", "5"))
ROUTES = {"lead": ["", "queue", "sla", "feedback"], "ops": ["", "monitoring", "backups", "flags"],
          "pm": ["", "feedback", "releases"], "agent": ["", "queue", "new_ticket"]}


class ConnectionSampler(threading.Thread):
    """Polls pg_stat_activity for the app's database: the most connections any one process held."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.engine = create_engine(url, poolclass=pool.NullPool)
        self.dbname = make_url(url).database
        self.stop = threading.Event()
        self.max_per_process = 0
        self.samples = 0

    def run(self):
        with self.engine.connect() as conn:
            while not self.stop.is_set():
                rows = conn.execute(text(
                    "SELECT application_name, count(*) FROM pg_stat_activity WHERE datname = :d "
                    "AND application_name LIKE 'aftercare:%' GROUP BY 1"), {"d": self.dbname}).all()
                conn.commit()
                self.samples += 1
                self.max_per_process = max([self.max_per_process, *[n for _, n in rows]])
                self.stop.wait(0.2)
        self.engine.dispose()


async def _browse(browser, base: str, username: str, errors: list):
    ctx = await browser.new_context(viewport={"width": 1300, "height": 900})
    page = await ctx.new_page()
    page.set_default_timeout(90_000)
    try:
        await page.goto(base)
        await page.get_by_role("textbox", name="Username").wait_for()
        await page.locator("iframe").first.wait_for(state="attached")
        await page.wait_for_timeout(500)
        await page.get_by_role("textbox", name="Username").fill(username)
        await page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await page.get_by_role("heading", name="Overview").wait_for()
        for _ in range(60):  # the login cookie marks the end of the login reruns
            if any(c["name"] == "aftercare_auth" for c in await ctx.cookies()):
                break
            await page.wait_for_timeout(200)
        for route in ROUTES[username]:
            await page.goto(f"{base}/{route}")
            await page.locator("h1").first.wait_for()
            await page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
            if await page.locator("[data-testid='stException']").count():
                errors.append(f"{username} /{route}: {await page.locator('[data-testid=stException]').first.inner_text()}")
    except Exception as exc:  # a timeout is an error of the run, reported with the session
        errors.append(f"{username}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    finally:
        await ctx.close()


def test_concurrent_sessions_browse_without_errors_within_pool_bounds(live_app):
    from playwright.async_api import async_playwright

    from tests.helpers import need_binary

    chromium = need_binary("chromium", "/usr/bin/chromium")
    sampler = ConnectionSampler(live_app["database_url"])
    sampler.start()
    users = [list(ROUTES)[i % len(ROUTES)] for i in range(SESSIONS)]
    errors: list[str] = []

    async def main():
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=chromium, args=[
                "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"])
            await asyncio.gather(*[_browse(browser, live_app["url"], u, errors) for u in users])
            await browser.close()

    # A thread of its own: the sync Playwright of the other browser tests keeps an event loop in this one.
    def run():
        try:
            asyncio.run(main())
        except Exception as exc:  # reported by the assertion below, not lost in the thread
            errors.append(f"load run: {type(exc).__name__}: {exc}")

    runner = threading.Thread(target=run)
    try:
        runner.start()
        runner.join(900)
        assert not runner.is_alive(), "the load run did not finish in 15 minutes"
    finally:
        sampler.stop.set()
        sampler.join(10)
    assert errors == []
    assert sampler.samples > 0
    assert 0 < sampler.max_per_process <= POOL_SIZE + MAX_OVERFLOW
