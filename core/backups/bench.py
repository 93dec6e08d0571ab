"""`python -m core bench backup`: backup vs plain pg_dump -Fc, and verified restore vs plain pg_restore, same run."""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

NAME = "backup"
HELP = "backup and verified-restore time against plain pg_dump -Fc / pg_restore of the same database (target <= 1.3x)"
TARGET_RATIO = 1.3


def add_arguments(p) -> None:
    p.add_argument("--tickets", type=int, default=1_000_000, help="tickets in the scratch database (default 1,000,000)")
    p.add_argument("--seeder", choices=("auto", "demo", "copy"), default="auto",
                   help="demo: `python -m core demo seed --tickets N`; copy: bulk-generate tickets and events with "
                        "COPY; auto (default): demo up to 100,000 tickets, COPY above (the demo seeder builds every "
                        "row in Python: hours at a million)")
    p.add_argument("--jobs", type=int, default=2, help="pg_restore --jobs for the verified restore (default 2)")
    p.add_argument("--keep", action="store_true", help="keep the scratch databases afterwards")


def _copy_seed(url: str, tickets: int) -> None:
    """Bulk-generate tickets (realistic text sizes) and three events each with COPY."""
    from sqlalchemy import create_engine, pool, text

    eng = create_engine(url, poolclass=pool.NullPool)
    with eng.begin() as conn:
        acc = conn.execute(text("INSERT INTO accounts (key, name, plan, started_at) "
                                "VALUES ('bench', 'Bench Inc', 'pro', now()) RETURNING id")).scalar()
    rng = random.Random(8)
    words = ("agent", "timeout", "billing", "webhook", "latency", "export", "login", "invoice", "model", "retry",
             "dashboard", "token", "quota", "deploy", "error", "slow", "crash", "upgrade", "refund", "plan")
    raw = eng.raw_connection()
    try:
        chunk = 50_000
        for start in range(1, tickets + 1, chunk):
            tbuf, ebuf = io.StringIO(), io.StringIO()
            for i in range(start, min(start + chunk, tickets + 1)):
                subject = " ".join(rng.choice(words) for _ in range(6))
                body = " ".join(rng.choice(words) for _ in range(70))
                day = f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:00:00+00"
                tbuf.write(f"{i}\t{acc}\t{subject}\t{body}\temail\topen\tmedium\tbug\tmodel\t{day}\t{day}\n")
                for kind in ("created", "public_reply", "status"):
                    ebuf.write(f"{i}\t{day}\t{kind}\t{body[:120]}\n")
            with raw.cursor() as cur:
                tbuf.seek(0)
                cur.copy_expert("COPY tickets (id, account_id, subject, description, channel, status, priority, "
                                "category, category_source, created_at, updated_at) FROM STDIN", tbuf)
                ebuf.seek(0)
                cur.copy_expert("COPY ticket_events (ticket_id, at, kind, body) FROM STDIN", ebuf)
            raw.commit()
        with raw.cursor() as cur:
            cur.execute("SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT max(id) FROM tickets))")
            cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
        eng.dispose()


def _demo_seed(url: str, tickets: int) -> None:
    from core.config import ROOT

    env = {**os.environ, "DATABASE_URL": url}
    proc = subprocess.run([sys.executable, "-m", "core", "demo", "seed", "--tickets", str(tickets)], cwd=ROOT, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"demo seed failed (exit {proc.returncode}); try --seeder copy")


def _timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def run(args) -> int:
    from sqlalchemy import text

    from core.backups import dump, restore, storage
    from core.backups.models import RunTrigger
    from core.backups.tools import libpq_args, tools_for
    from core.db import database_url, migrate

    server = database_url()
    tag = uuid.uuid4().hex[:6]
    bench_db, plain_db, ours_db = f"bench_backup_{tag}", f"bench_plain_{tag}", f"bench_ours_{tag}"
    url = restore.url_for(server, bench_db)
    admin = restore.admin_engine(server)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{bench_db}"'))
        version_num = int(conn.execute(text("SHOW server_version_num")).scalar())
    admin.dispose()
    work = Path(tempfile.mkdtemp(prefix="aftercare-bench-backup-"))
    try:
        migrate.upgrade(url, "heads")
        seeder = args.seeder if args.seeder != "auto" else ("demo" if args.tickets <= 100_000 else "copy")
        print(f"seeding {args.tickets:,} tickets into {bench_db} ({seeder})...", flush=True)
        seed_s, _ = _timed(lambda: (_demo_seed if seeder == "demo" else _copy_seed)(url, args.tickets))
        print(f"seeded in {seed_s:.1f}s", flush=True)
        pg_dump, pg_restore = tools_for(url, version_num)
        conn_args, env = libpq_args(url)
        targets = storage.parse_targets(f"file://{work / 'target'}")

        plain_file = work / "plain.dump"
        plain_dump_s, proc = _timed(lambda: subprocess.run(
            [pg_dump.path, "-Fc", *conn_args, "-d", bench_db, "-f", str(plain_file)], env=env))
        if proc.returncode != 0:
            raise SystemExit("plain pg_dump failed")
        backup_s, result = _timed(lambda: dump.run_backup(url=url, targets=targets, trigger=RunTrigger.CLI,
                                                          actor="bench", workdir=work))
        if not result.ok:
            raise SystemExit(f"backup failed: {result.error}")

        admin = restore.admin_engine(server)
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{plain_db}"'))
        admin.dispose()
        plain_restore_s, proc = _timed(lambda: subprocess.run(
            [pg_restore.path, *conn_args, "-d", plain_db, "--no-owner", "--no-acl", str(plain_file)], env=env))
        if proc.returncode != 0:
            raise SystemExit("plain pg_restore failed")
        restore_s, report = _timed(lambda: restore.restore_backup(url=url, backup_id=result.id, into=ours_db,
                                                                  targets=targets, actor="bench", jobs=args.jobs))
        if not report.ok:
            raise SystemExit(f"verified restore failed: {report.error or 'checks do not match'}")

        rows = [("backup (pg_dump + sha256 + manifest + row counts + store)", "pg_dump -Fc", plain_dump_s, backup_s),
                (f"restore (fetch + checksum + pg_restore -j{args.jobs} + compare)", "pg_restore", plain_restore_s,
                 restore_s)]
        print(f"\n{args.tickets:,} tickets, archive {result.size_bytes / 1e6:.1f} MB, PostgreSQL {version_num // 10000}, "
              f"tools {pg_dump.path}")
        print(f"{'step':<62} {'plain':>9} {'aftercare':>10} {'ratio':>7}  target")
        ok = True
        for label, plain_label, plain, ours in rows:
            ratio = ours / plain if plain else float("inf")
            ok &= ratio <= TARGET_RATIO
            print(f"{label:<62} {plain:>8.2f}s {ours:>9.2f}s {ratio:>6.2f}x  <= {TARGET_RATIO}x "
                  f"{'PASS' if ratio <= TARGET_RATIO else 'FAIL'}  (plain: {plain_label})")
        return 0 if ok else 1
    finally:
        for p in sorted(work.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        work.rmdir()
        if not args.keep:
            for name in (bench_db, plain_db, ours_db):
                restore.drop_database(restore.url_for(server, "postgres"), name)
