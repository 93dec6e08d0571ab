"""The real console started the way `make run` starts it, and a Playwright browser (Debian Chromium)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid

import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from tests.conftest import ROOT, TEMPLATE
from tests.helpers import free_port, need_binary, wait_http

ADMIN_PASSWORD = "e2e-admin-password"
DEMO_PASSWORD = "e2e-demo-password"


@pytest.fixture(scope="session")
def live_app(pg_server_url, template_url, tmp_path_factory):
    """`python -m core run` on a fresh database (migrations, admin, demo data, worker, app); yields its URL."""
    name = f"e2e_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_server_url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
    url = make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    port = free_port()
    metrics_port = free_port()
    var = tmp_path_factory.mktemp("e2e-var")
    env = dict(os.environ, DATABASE_URL=url, ADMIN_PASSWORD=ADMIN_PASSWORD, DEMO_PASSWORD=DEMO_PASSWORD,
               WORKER_METRICS_PORT=str(metrics_port), AUTH_LOGIN_SLEEP="0", PYTHONUNBUFFERED="1",
               BACKUP_TARGETS=f"file://{var}/backups", PROMETHEUS_URL="http://127.0.0.1:9",
               ALERTMANAGER_URL="http://127.0.0.1:9")
    log = open(var / "run.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "core", "run", "--port", str(port), "--tickets", "300",
                             "--no-monitoring"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/_stcore/health", timeout=120)
        wait_http(f"http://127.0.0.1:{metrics_port}/metrics", timeout=60)  # the worker is up too
    except TimeoutError:
        proc.kill()
        raise RuntimeError((var / "run.log").read_text()[-3000:])
    yield {"url": base, "database_url": url, "log": var / "run.log",
           "worker_metrics_url": f"http://127.0.0.1:{metrics_port}/metrics"}
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
    log.close()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)  # a page's first run on a loaded 2-core machine can take seconds
    chromium = need_binary("chromium", "/usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


def _failed(request) -> bool:
    """Whether the test failed in setup or in its body (the reports pytest_runtest_makereport keeps)."""
    return any(getattr(getattr(request.node, f"rep_{when}", None), "failed", False) for when in ("setup", "call"))


@pytest.fixture
def new_page(browser, request):
    """A factory of pages, each in its own browser context (its own cookies, so its own login).

    `new_page(viewport=..., name=...)` returns a page; when the test fails, every page it opened is
    screenshotted to test-results/<test>-<name>.png. Every context is closed at the end either way.
    """
    opened: list[tuple[str, object]] = []

    def factory(viewport: dict | None = None, name: str | None = None):
        ctx = browser.new_context(viewport=viewport or {"width": 1400, "height": 1000})
        pg = ctx.new_page()
        pg.set_default_timeout(30_000)
        opened.append((re.sub(r"[^\w.-]+", "_", name or f"page{len(opened) + 1}"), pg))
        return pg

    yield factory
    failed = _failed(request)
    out = ROOT / "test-results"
    test = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
    for name, pg in opened:
        try:
            if failed and not pg.is_closed():
                out.mkdir(exist_ok=True)
                pg.screenshot(path=str(out / f"{test}-{name}.png"), full_page=True)
        except Exception as exc:  # a crashed page must not hide the test's own failure, nor leak the others
            print(f"screenshot of {name} failed: {exc}")
        finally:
            pg.context.close()


@pytest.fixture
def page(new_page):
    """One page in a fresh context; screenshotted to test-results/<test>-page.png when the test fails."""
    return new_page(viewport={"width": 1400, "height": 1000}, name="page")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


class Quiet:
    """Whether Streamlit has stopped running the script for quiet_ms; shared by the sync and async waits.

    A short run may come and go between two polls, and a component can ask for one more run right after,
    so one glance is not enough: the app must stay quiet for a moment.
    """

    def __init__(self, quiet_ms: int = 800, limit_s: float = 60):
        self.quiet_ms, self.limit_s = quiet_ms, limit_s
        self.deadline = time.monotonic() + limit_s
        self.since: float | None = None

    def settled(self, running: bool) -> bool:
        """Record one poll of the running indicator; True once it has stayed away for quiet_ms."""
        now = time.monotonic()
        if now > self.deadline:
            raise TimeoutError(f"the app kept running for {self.limit_s:.0f} s")
        if running:
            self.since = None
        elif self.since is None:
            self.since = now
        return self.since is not None and (now - self.since) * 1000 >= self.quiet_ms


RUNNING = "[data-testid='stStatusWidget']"  # Streamlit's "Running..." indicator, there only while a run lasts


def wait_idle(page, quiet_ms: int = 800) -> None:
    """Wait until Streamlit has not been running the script for quiet_ms (see Quiet)."""
    quiet = Quiet(quiet_ms)
    while not quiet.settled(page.locator(RUNNING).count() > 0):
        page.wait_for_timeout(100)


def login(page, base: str, username: str, password: str) -> None:
    """Open the app and log in through the real form.

    The login form shares its first runs with the cookie component, which reruns the app once it has
    read the browser's cookies; a click that lands during that rerun is dropped, so wait for it first.
    """
    from playwright.sync_api import expect

    page.goto(base)
    expect(page.get_by_role("textbox", name="Username")).to_be_visible()
    page.locator("iframe").first.wait_for(state="attached")
    wait_idle(page)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def wait_logged_in(page) -> None:
    """After a successful login: wait for the auth cookie (the cookie component's last rerun), then idle."""
    deadline = time.monotonic() + 30
    while not any(c["name"] == "aftercare_auth" for c in page.context.cookies()):
        if time.monotonic() > deadline:
            raise TimeoutError("the login cookie was never set")
        page.wait_for_timeout(100)
    wait_idle(page)
