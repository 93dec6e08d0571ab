"""`python -m core bench pages --tickets N`: server-side time of every page for every role that sees it (AppTest).

The data set lives in a scratch database named after N on a private embedded server (var/bench-pg), seeded
with the demo seeder (bulk COPY) and reused while it holds exactly N tickets. Each page runs several times
with st.cache_data cleared before each run (cold: what the first visitor after a cache expiry waits),
then twice more without clearing (warm). SQL statements are counted with engine events.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

NAME = "pages"
HELP = "server-side time of every page per role (AppTest) on a data set of N tickets"
DATA_DIR = Path("var/bench-pg")
USERNAMES = {"admin": "admin", "ops": "ops", "support_lead": "lead", "agent": "agent", "pm": "pm", "customer": "customer"}


def add_arguments(p) -> None:
    p.add_argument("--tickets", type=int, default=10_000, help="data set size (default 10,000)")
    p.add_argument("--runs", type=int, default=5, help="cold runs per page and role (default 5)")
    p.add_argument("--warm", type=int, default=2, help="warm runs per page and role after the cold ones (default 2)")
    p.add_argument("--pages", default="", help="comma-separated page keys (default: every page)")
    p.add_argument("--roles", default="", help="comma-separated roles (default: every role)")
    p.add_argument("--seed-only", action="store_true", help="prepare the data set and stop")
    p.add_argument("--url", default="", help="use this server URL instead of the embedded var/bench-pg")


class SqlCounter:
    """Counts statements and their total time on every engine (listeners on the Engine class)."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self._local = threading.local()

    def before(self, conn, cursor, statement, parameters, context, executemany):
        self._local.t0 = time.perf_counter()

    def after(self, conn, cursor, statement, parameters, context, executemany):
        t0 = getattr(self._local, "t0", None)
        self.count += 1
        if t0 is not None:
            self.seconds += time.perf_counter() - t0

    def reset(self) -> None:
        self.count, self.seconds = 0, 0.0

    @contextmanager
    def listening(self):
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "before_cursor_execute", self.before)
        event.listen(Engine, "after_cursor_execute", self.after)
        try:
            yield self
        finally:
            event.remove(Engine, "before_cursor_execute", self.before)
            event.remove(Engine, "after_cursor_execute", self.after)


def dataset(server_url: str, tickets: int) -> str:
    """The URL of a migrated, seeded database of exactly `tickets` tickets (created or reused)."""
    from sqlalchemy import create_engine, pool, text
    from sqlalchemy.engine import make_url

    from core.db import migrate

    name = f"bench_pages_{tickets}"
    admin = create_engine(server_url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
    if exists:
        eng = create_engine(url, poolclass=pool.NullPool)
        try:
            with eng.connect() as conn:
                have = conn.scalar(text("SELECT count(*) FROM tickets"))
        except Exception:  # noqa: BLE001 - a half-made set is rebuilt
            have = None
        eng.dispose()
        if have == tickets:
            if migrate.pending_revisions(url):
                print(f"{name}: migrating to head", flush=True)
                migrate.upgrade(url)
            print(f"reusing {name} ({have:,} tickets)", flush=True)
            admin.dispose()
            _worker_rollups(url)
            return url
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    migrate.upgrade(url)
    from core.auth.service import ensure_admin
    from core.db import session_scope
    from core.demo.seed import seed_all

    t0 = time.perf_counter()
    with session_scope(url) as s:
        ensure_admin(session=s, password="admin-password")
        summary = seed_all(session=s, tickets=tickets, days=120, seed=7, now=datetime.now(timezone.utc))
    print(f"{name}: {summary} in {time.perf_counter() - t0:.0f} s", flush=True)
    _after_seed(url)
    _worker_rollups(url)
    return url


def _worker_rollups(url: str) -> None:
    """What the worker's page_rollups job keeps current on a live system (a no-op when nothing changed)."""
    from core.db import session_scope
    from core.rollups.service import refresh_feedback_themes, refresh_snapshots

    t0 = time.perf_counter()
    with session_scope(url) as s:
        n = refresh_feedback_themes(session=s, now=datetime.now(timezone.utc))
    t1 = time.perf_counter()
    with session_scope(url) as s:
        m = refresh_snapshots(session=s, now=datetime.now(timezone.utc))
    print(f"roll-ups: {n} themes in {t1 - t0:.1f} s; {m} page snapshots in {time.perf_counter() - t1:.1f} s",
          flush=True)


def _after_seed(url: str) -> None:
    """VACUUM ANALYZE, as autovacuum would have done on a live system (index-only scans need the visibility map)."""
    from sqlalchemy import create_engine, pool, text

    eng = create_engine(url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    eng.dispose()


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def run(args) -> int:
    from core.cli import CLIError

    if args.tickets < 1:
        raise CLIError("--tickets must be at least 1")
    server = args.url or _embedded()
    url = dataset(server, args.tickets)
    if args.seed_only:
        return 0
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("AUTH_LOGIN_SLEEP", "0")
    os.environ.setdefault("PROMETHEUS_URL", "http://127.0.0.1:9")   # not part of the page's own server time
    os.environ.setdefault("ALERTMANAGER_URL", "http://127.0.0.1:9")
    from core.config import get_settings
    from core.db import reset_engines

    get_settings.cache_clear()
    reset_engines()
    rows = measure(args.runs, args.warm, _split(args.pages), _split(args.roles))
    print(f"\npages at {args.tickets:,} tickets ({args.runs} cold runs, cache cleared; {args.warm} warm)")
    header = f"{'page':<14}{'role':<14}{'median s':>9}{'p90 s':>8}{'SQL n':>7}{'SQL s':>7}{'warm s':>8}  note"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['page']:<14}{r['role']:<14}{r['median']:>9.3f}{r['p90']:>8.3f}{r['sql_n']:>7}{r['sql_s']:>7.3f}"
              f"{r['warm']:>8.3f}  {r['note']}")
    worst = max((r["median"] for r in rows), default=0.0)
    print(f"\nslowest median: {worst:.3f} s")
    return 0


def _split(text_value: str) -> set[str]:
    return {x.strip() for x in text_value.split(",") if x.strip()}


def _embedded() -> str:
    from core.db import embedded

    return embedded.start(DATA_DIR)


class _Worker:
    """The worker's page_snapshots job, run between measurements at most every 30 s."""

    def __init__(self) -> None:
        self.last = 0.0

    def tick(self) -> None:
        if time.monotonic() - self.last < 30:
            return
        from core.db import session_scope
        from core.rollups.service import refresh_snapshots

        with session_scope() as s:
            refresh_snapshots(session=s, now=datetime.now(timezone.utc))
        self.last = time.monotonic()


def measure(runs: int, warm: int, only_pages: set[str], only_roles: set[str]) -> list[dict]:
    """Per page and role: median/p90 cold seconds, SQL statements and seconds per cold run, warm median."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from core.auth.roles import Role
    from core.config import ROOT
    from core.ui.nav import pages_for

    counter = SqlCounter()
    worker = _Worker()
    out = []
    with counter.listening():
        for role in Role:
            if only_roles and role.value not in only_roles:
                continue
            username = USERNAMES.get(role.value)
            if username is None:
                continue
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
            at.session_state["authentication_status"] = True
            at.session_state["username"] = username
            at.session_state["name"] = username
            at.session_state["roles"] = [role.value]
            at.run()
            for page in pages_for(role):
                if only_pages and page.key not in only_pages:
                    continue
                worker.tick()  # as the worker keeps its page snapshots fresh on a live system (not timed)
                cold, sql_n, sql_s, note = [], [], [], ""
                for _ in range(runs):
                    st.cache_data.clear()
                    counter.reset()
                    t0 = time.perf_counter()
                    at.switch_page(page.path).run()
                    cold.append(time.perf_counter() - t0)
                    sql_n.append(counter.count)
                    sql_s.append(counter.seconds)
                    if at.exception:
                        note = "EXCEPTION: " + str(at.exception[0].message)[:60]
                warm_t = []
                for _ in range(warm):
                    t0 = time.perf_counter()
                    at.switch_page(page.path).run()
                    warm_t.append(time.perf_counter() - t0)
                out.append(dict(page=page.key, role=role.value, median=statistics.median(cold), p90=_pct(cold, 0.9),
                                sql_n=round(statistics.median(sql_n)), sql_s=statistics.median(sql_s),
                                warm=statistics.median(warm_t) if warm_t else 0.0, note=note))
                print(f"  {page.key:<14}{role.value:<14}{out[-1]['median']:.3f} s", flush=True)
    return out
