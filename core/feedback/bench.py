"""`python -m core bench feedback`: the feedback page's reads at 10,000 to 1,000,000 feedback items (scratch database)."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

NAME = "feedback"
HELP = "time the feedback measures, explorer and themes over growing feedback volumes (scratch database)"

COMMENTS = [
    "The dashboard is very slow to load", "Please add CSV export for reports", "We need SSO with Okta",
    "Invoices are confusing", "Support team was fast and friendly", "The API docs lack examples",
    "El panel tarda mucho en cargar", "Necesitamos exportar los informes a CSV", "El soporte fue rápido y amable",
    "Love the visual agent builder", "",
]


def add_arguments(p) -> None:
    p.add_argument("--sizes", default="10000,100000", help="comma-separated feedback-item counts (default 10000,100000)")
    p.add_argument("--accounts", type=int, default=2000, help="accounts with subscription history (default 2000)")
    p.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")


def _load(conn, start: int, count: int, accounts: int) -> None:
    from sqlalchemy import text

    conn.execute(text("""
        INSERT INTO feedback_items (kind, score, comment, account_id, ticket_id, source, created_at, updated_at)
        SELECT k.kind,
               CASE k.kind WHEN 'nps' THEN floor(random() * 11)::int ELSE 1 + floor(random() * 5)::int END,
               (CAST(:comments AS text[]))[1 + floor(random() * cardinality(CAST(:comments AS text[])))::int],
               1 + floor(random() * :accounts)::int, NULL, 'import', t.at, t.at
          FROM (SELECT g, now() - random() * interval '365 days' AS at FROM generate_series(:a, :b) g) t
          CROSS JOIN LATERAL (SELECT (array['rating','nps','rating'])[1 + (t.g % 3)] AS kind) k"""),
        {"a": start, "b": start + count - 1, "accounts": accounts, "comments": COMMENTS})
    # A tenth of the new items linked to shipped or planned roadmap items.
    conn.execute(text("""
        INSERT INTO roadmap_links (roadmap_item_id, feedback_item_id)
        SELECT 1 + (f.id % 20), f.id FROM feedback_items f WHERE f.id % 10 = 0 AND f.id >= :a"""), {"a": start})


def _setup(conn, accounts: int) -> None:
    from sqlalchemy import text

    conn.execute(text("""
        INSERT INTO accounts (key, name, plan, mrr, started_at)
        SELECT 'acc' || g, 'Account ' || g, (array['free','starter','pro','enterprise'])[1 + g % 4],
               (array[0, 99, 499, 2500])[1 + g % 4], now() - interval '800 days' + random() * interval '700 days'
          FROM generate_series(1, :n) g"""), {"n": accounts})
    conn.execute(text("""
        INSERT INTO subscription_events (account_id, type, at, mrr)
        SELECT id, 'started', started_at, mrr FROM accounts
        UNION ALL
        SELECT id, 'cancelled', now() - random() * interval '360 days', mrr FROM accounts WHERE id % 9 = 0
        UNION ALL
        SELECT id, 'upgraded', now() - random() * interval '300 days', mrr * 2 FROM accounts WHERE id % 7 = 0"""))
    conn.execute(text("""
        INSERT INTO roadmap_items (title, status, shipped_at)
        SELECT 'Item ' || g, CASE WHEN g % 2 = 0 THEN 'shipped' ELSE 'planned' END,
               CASE WHEN g % 2 = 0 THEN now() - g * interval '12 days' END
          FROM generate_series(1, 20) g"""))
    conn.execute(text("""
        INSERT INTO tickets (account_id, subject, description, channel, status, priority, category, category_source,
                             created_at, updated_at, solved_at)
        SELECT 1 + t.g % :n, 'bug ' || t.g, 'd', 'staff', 'solved', 'medium', 'bug', 'human', t.at, t.at,
               t.at + random() * interval '96 hours'
          FROM (SELECT g, now() - random() * interval '365 days' AS at FROM generate_series(1, 20000) g) t"""),
        {"n": accounts})


def run(args) -> int:
    from sqlalchemy import create_engine, pool, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.orm import Session

    from core.db import migrate
    from core.db.session import database_url
    from core.feedback import measures, queries, themes

    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    server = database_url()
    name = f"feedback_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url, poolclass=pool.NullPool)
    now = datetime.now(timezone.utc)
    month0 = (now - timedelta(days=335)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    checks = [
        ("kpis 30 days", lambda s: measures.feedback_kpis(session=s, start=now - timedelta(days=30), end=now)),
        ("12 months, all series", lambda s: [
            measures.nps_by_month(session=s, start=month0, end=now),
            measures.nps_by_month(session=s, start=month0, end=now, by_plan=True),
            measures.csat_by_month(session=s, start=month0, end=now, by_plan=True),
            measures.churn_by_month(session=s, start=month0, end=now, by_plan=True),
            measures.feedback_implemented_by_month(session=s, start=month0, end=now),
            measures.features_shipped_by_month(session=s, start=month0, end=now),
            measures.bug_fix_by_month(session=s, start=month0, end=now)]),
        ("explorer, no filter", lambda s: queries.explore(session=s, start=month0, end=now)),
        ("explorer, search", lambda s: queries.explore(session=s, start=month0, end=now, search="okta")),
        ("themes, 90 days", lambda s: themes.comment_themes(session=s, start=now - timedelta(days=90), end=now)),
    ]
    print(f"scratch database {name}; {args.accounts:,} accounts with subscription events, 20,000 solved bugs, "
          "20 roadmap items; times are the best of 3 runs")
    print(f"{'items':>10} {'load':>8} " + " ".join(f"{label:>22}" for label, _ in checks))
    try:
        migrate.upgrade(url, "heads")
        with engine.begin() as conn:
            _setup(conn, args.accounts)
        loaded = 0
        for size in sizes:
            t0 = time.perf_counter()
            with engine.begin() as conn:
                _load(conn, loaded + 1, size - loaded, args.accounts)
                conn.execute(text("ANALYZE"))
            t_load = time.perf_counter() - t0
            loaded = size
            cells = []
            for _, fn in checks:
                best = None
                for _ in range(3):
                    with Session(engine) as s:
                        t0 = time.perf_counter()
                        fn(s)
                        took = time.perf_counter() - t0
                    best = took if best is None else min(best, took)
                cells.append(f"{best * 1000:>20.0f}ms")
            print(f"{size:>10,} {t_load:>7.1f}s " + " ".join(cells))
    finally:
        engine.dispose()
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
    return 0
