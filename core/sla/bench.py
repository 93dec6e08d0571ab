"""`python -m core bench sla`: the sweep's time at 10,000 and 100,000 open tickets in a scratch database."""

from __future__ import annotations

import io
import random
import time
import uuid
from datetime import datetime, timedelta, timezone

NAME = "sla"
HELP = "time the SLA sweep over 10,000 and 100,000 open tickets (scratch database, bulk-loaded with COPY)"


def add_arguments(p) -> None:
    p.add_argument("--sizes", default="10000,100000", help="comma-separated open-ticket counts (default 10000,100000)")
    p.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")


def _copy(raw, table: str, columns: list[str], rows) -> None:
    buf = io.StringIO()
    for r in rows:
        buf.write(",".join("" if v is None else str(v) for v in r) + "\n")
    buf.seek(0)
    with raw.cursor() as cur:
        cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buf)
    raw.commit()


def _load(engine, start_id: int, count: int, now: datetime, rng: random.Random, ids: dict) -> None:
    """COPY `count` open tickets (and their created/reply/pending events) created over the last 5 days."""
    raw = engine.raw_connection()
    try:
        tickets, events = [], []
        for i in range(start_id, start_id + count):
            created = now - timedelta(minutes=rng.randint(1, 5 * 24 * 60))
            roll = rng.random()
            status = "pending" if roll < 0.15 else ("on_hold" if roll < 0.2 else ("open" if roll < 0.7 else "new"))
            pr = rng.choice(("high", "medium", "medium", "low"))
            c = created.isoformat()
            tickets.append((i, ids["account"], f"bench ticket {i}", "load test", "staff", status, pr,
                            rng.choice(("bug", "question", "billing")), "human", ids["team"], ids["agent"], c, c))
            events.append((i, c, "created", "true", None, "{}"))
            if status != "new":
                reply = created + timedelta(minutes=rng.randint(5, 240))
                if reply < now:
                    events.append((i, reply.isoformat(), "public_reply", "true", ids["agent"], "{}"))
                    if status == "pending":
                        events.append((i, (reply + timedelta(seconds=1)).isoformat(), "status", "true", ids["agent"],
                                       '"{""from"": ""open"", ""to"": ""pending""}"'))
        _copy(raw, "tickets", ["id", "account_id", "subject", "description", "channel", "status", "priority",
                               "category", "category_source", "team_id", "assignee_id", "created_at", "updated_at"],
              tickets)
        _copy(raw, "ticket_events", ["ticket_id", "at", "kind", "public", "actor_user_id", "data"], events)
    finally:
        raw.close()


def run(args) -> int:
    from sqlalchemy import create_engine, pool, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.orm import Session

    from core.db import migrate
    from core.db.session import database_url
    from core.sla.service import load_policy_set, refresh_many
    from core.sla.sweep import sweep

    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    server = database_url()
    name = f"sla_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url, poolclass=pool.NullPool)
    rng = random.Random(4)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    print(f"scratch database {name}; open tickets created over the last 5 days, default policies and calendar")
    print(f"{'open tickets':>12} {'load (COPY)':>12} {'compute rows':>13} {'first sweep':>12} {'next sweep':>11} "
          f"{'+1 min sweep':>13} {'at risk':>8} {'breached':>9}")
    try:
        migrate.upgrade(url, "heads")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO accounts (id, key, name, plan, started_at) "
                              "VALUES (1, 'bench', 'Bench', 'pro', now())"))
            conn.execute(text("INSERT INTO teams (id, key, name) VALUES (1, 'bench', 'Bench')"))
            conn.execute(text("INSERT INTO users (id, username, name, email, role, team_id, password_hash) VALUES "
                              "(1, 'bench-lead', 'Lead', 'lead@example.com', 'support_lead', 1, 'x'), "
                              "(2, 'bench-agent', 'Agent', 'agent@example.com', 'agent', 1, 'x')"))
            conn.execute(text("UPDATE teams SET lead_user_id = 1"))
        ids = {"account": 1, "team": 1, "agent": 2}
        loaded = 0
        for size in sizes:
            t0 = time.perf_counter()
            _load(engine, loaded + 1, size - loaded, now, rng, ids)
            with engine.begin() as conn:
                conn.execute(text("SELECT setval(pg_get_serial_sequence('tickets', 'id'), :n)"), {"n": size})
                conn.execute(text("ANALYZE"))
            t_load = time.perf_counter() - t0
            new_ids = list(range(loaded + 1, size + 1))
            loaded = size
            t0 = time.perf_counter()
            with Session(engine) as s:
                policies = load_policy_set(session=s)
                for i in range(0, len(new_ids), 2000):
                    refresh_many(session=s, ticket_ids=new_ids[i:i + 2000], now=now, policies=policies)
                s.commit()
            t_compute = time.perf_counter() - t0
            timings = []
            for at in (now, now, now + timedelta(minutes=1)):
                t0 = time.perf_counter()
                with Session(engine) as s:
                    result = sweep(session=s, now=at)
                    s.commit()
                timings.append(time.perf_counter() - t0)
            print(f"{size:>12,} {t_load:>11.2f}s {t_compute:>12.2f}s {timings[0]:>11.3f}s {timings[1]:>10.3f}s "
                  f"{timings[2]:>12.3f}s {result['at_risk']:>8,} {result['breached']:>9,}")
        print("first sweep: marks every state and writes the backlog of breach events and lead mails;")
        print("next sweeps: the steady state the worker runs every minute. 'compute rows' is the per-ticket")
        print("Python clock computation the ticket service does one ticket at a time on each change.")
    finally:
        engine.dispose()
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
    return 0
