"""`python -m core bench classify`: tickets/s and latency of the local categoriser, and the time to import 100,000 tickets."""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

NAME = "classify"
HELP = "local categoriser throughput and latency; time to import 100,000 tickets"


def add_arguments(p) -> None:
    p.add_argument("--tickets", type=int, default=20000, help="tickets for the batch throughput run")
    p.add_argument("--single", type=int, default=1000, help="one-at-a-time calls for the latency percentiles")
    p.add_argument("--import-tickets", type=int, default=100000, help="tickets for the import timing (0 skips it)")


def _tickets(n: int, seed: int = 1) -> list[dict]:
    """n realistic tickets: corpus tickets with their sentences shuffled, so no two are identical."""
    from core.tickets.classify import load_corpus

    rng = random.Random(seed)
    corpus = load_corpus()
    out = []
    for i in range(n):
        r = rng.choice(corpus)
        parts = r["description"].split(". ")
        rng.shuffle(parts)
        out.append({"subject": r["subject"], "description": ". ".join(parts) + f" (ref {i})",
                    "reproducible": rng.choice([True, False, None])})
    return out


def _import_fn():
    for mod in ("core.tickets.imports", "core.tickets.intake"):
        try:
            m = __import__(mod, fromlist=["import_file"])
        except ImportError:
            continue
        if hasattr(m, "import_file"):
            return m.import_file
    return None


def _seed_scratch(*, accounts: int) -> None:
    """The teams and accounts the imported tickets refer to, in the scratch database."""
    from datetime import datetime, timezone

    from core.accounts.models import Account
    from core.auth.models import Team
    from core.db import session_scope
    from core.tickets.rules import TEAM_FOR_CATEGORY

    with session_scope() as s:
        for key in sorted(set(TEAM_FOR_CATEGORY.values())):
            s.add(Team(key=key, name=key.title()))
        plans = ["free", "starter", "pro", "enterprise"]
        for i in range(accounts):
            s.add(Account(key=f"bench-account-{i}", name=f"Bench account {i}", plan=plans[i % 4],
                          started_at=datetime(2025, 1, 1, tzinfo=timezone.utc)))


def _bench_import(n: int) -> str:
    """Import n tickets into a scratch database (created, migrated, dropped) and return the timing line."""
    import os

    from sqlalchemy import create_engine, pool, text
    from sqlalchemy.engine import make_url

    from core.config import get_settings
    from core.db import migrate, reset_engines
    from core.db.session import database_url

    import_file = _import_fn()
    if import_file is None:
        return "import: skipped (core.tickets.imports.import_file does not exist yet)"
    server = database_url()
    name = f"bench_import_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    scratch = make_url(server).set(database=name).render_as_string(hide_password=False)
    old = os.environ.get("DATABASE_URL")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    try:
        migrate.upgrade(scratch)
        os.environ["DATABASE_URL"] = scratch
        get_settings.cache_clear()
        reset_engines()
        _seed_scratch(accounts=50)
        rng = random.Random(3)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "tickets.jsonl"
            with path.open("w", encoding="utf-8") as f:
                for i, t in enumerate(_tickets(n, seed=2)):
                    a = rng.randrange(50)
                    f.write(json.dumps({"external_id": f"bench-{i}", "account": f"bench-account-{a}",
                                        "requester_email": f"user{rng.randrange(10)}@account{a}.example",
                                        **t}) + "\n")
            start = time.perf_counter()
            rep = import_file(path)
            elapsed = time.perf_counter() - start
        imported = getattr(rep, "imported", "?")
        errors = getattr(rep, "errors", [])
        first = f"; first error: line {errors[0][0]}: {errors[0][1]}" if errors else ""
        return (f"import: {n:,} tickets in {elapsed:.1f} s ({imported} imported, {len(errors)} errors; "
                f"{n / elapsed:,.0f} tickets/s){first}")
    except Exception as exc:  # the import is the lead's code: report, do not hide the classify numbers
        return f"import: failed ({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''})"
    finally:
        if old is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = old
        get_settings.cache_clear()
        reset_engines()
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def run(args) -> int:
    from core.tickets import classify as clf

    start = time.perf_counter()
    clf.get_model()
    load_s = time.perf_counter() - start
    batch = _tickets(args.tickets)
    clf.classify_many(batch[:100], local_only=True)  # warm-up
    start = time.perf_counter()
    clf.classify_many(batch, local_only=True)
    batch_s = time.perf_counter() - start
    latencies = []
    for t in batch[: args.single]:
        s = time.perf_counter()
        clf.classify(subject=t["subject"], description=t["description"], reproducible=t["reproducible"],
                     local_only=True)
        latencies.append((time.perf_counter() - s) * 1000)
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    rate = len(batch) / batch_s
    print("benchmark: local categoriser (one process, one core)")
    print(f"model load:  {load_s * 1000:.0f} ms")
    print(f"throughput:  {rate:,.0f} tickets/s (batch of {len(batch):,}; target >= 2,000) "
          f"{'OK' if rate >= 2000 else 'BELOW TARGET'}")
    print(f"latency:     p50 {p50:.2f} ms, p99 {p99:.2f} ms (one ticket per call, {len(latencies):,} calls)")
    if args.import_tickets:
        print(_bench_import(args.import_tickets))
    else:
        print("import: skipped (--import-tickets 0)")
    return 0
