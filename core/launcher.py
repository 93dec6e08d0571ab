"""`python -m core run` (what `make run` calls): database, migrations, admin, demo data, then every process.

Starts the embedded PostgreSQL unless DATABASE_URL is set, applies migrations, creates the admin user on
first run, seeds demo data into an empty database, then runs the worker, the Streamlit app, the demo
traffic exporter, and Prometheus and Alertmanager when their binaries are installed. Ctrl-C stops
everything it started.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.config import ROOT, VAR, get_settings


def register(sub) -> None:
    p = sub.add_parser("run", help="run the whole console locally (what `make run` does)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--no-seed", action="store_true", help="do not seed demo data into an empty database")
    p.add_argument("--tickets", type=int, default=3000, help="demo tickets to seed into an empty database")
    p.add_argument("--no-monitoring", action="store_true", help="do not start Prometheus, Alertmanager or demo traffic")
    p.set_defaults(func=_run)


def _say(msg: str) -> None:
    print(f"[aftercare] {msg}", flush=True)


def prepare(*, seed: bool = True, tickets: int = 3000) -> str:
    """Database up, migrated, admin present, demo data in; returns the database URL."""
    from core.auth.service import ensure_admin
    from core.db import migrate, session_scope
    from core.db.session import database_url

    settings = get_settings()
    from core.tickets.rules import active_rules

    active_rules()  # a PRIORITY_RULES that does not parse stops here, with its message, before anything starts
    if settings.database_url:
        url = database_url()
        _say(f"using DATABASE_URL ({_redact(url)})")
        from core import health

        db = health.database()
        if not db.ok:
            # Nothing to migrate or seed: the console still starts, and every page says which server is down
            # (the worker keeps retrying); once it answers, run `python -m core db upgrade` or restart.
            _say(f"{db.detail}; starting the console anyway: its pages say so until the server answers")
            return url
    else:
        from core.db import embedded

        url = embedded.start(settings.embedded_pg_dir, stop_at_exit=True)
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
        _say(f"embedded PostgreSQL running, data in {settings.embedded_pg_dir}")
    migrate.upgrade(url)
    _say(f"schema at revision {migrate.current_revision(url)}")
    admin_pw = settings.admin_password.get_secret_value() if settings.admin_password else None
    with session_scope(url) as s:
        generated = ensure_admin(session=s, password=admin_pw)
    if generated:
        _say("=" * 60)
        _say(f"created user 'admin' with password: {generated}")
        _say("(shown once; change it with: python -m core users reset-password admin)")
        _say("=" * 60)
    if seed:
        from core.demo import seed as demo_seed

        summary = demo_seed.run(tickets=tickets, days=120, seed=7, if_empty=True)
        _say(summary)
        if summary.startswith("seeded"):
            _say(f"demo logins (password '{demo_seed.demo_password()}'): lead, agent, ops, pm, customer")
    return url


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _binary(*names: str) -> str | None:
    for n in names:
        path = shutil.which(n)
        if path:
            return path
    return None


def _start(procs: list, name: str, cmd: list[str], env: dict, log_file: Path | None = None) -> None:
    out = open(log_file, "ab") if log_file else None
    procs.append((name, subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT if out else None,
                                         start_new_session=True)))
    _say(f"started {name}" + (f" (log: {log_file.relative_to(ROOT)})" if log_file else ""))


def _run(args) -> int:
    from core.tickets.rules import RulesError

    try:
        url = prepare(seed=not args.no_seed, tickets=args.tickets)
    except RulesError as exc:
        _say(str(exc))
        return 2
    env = dict(os.environ, DATABASE_URL=url, PYTHONUNBUFFERED="1")
    # The console's own address (links in mail, the uptime probe of the console) follows --port unless set.
    env.setdefault("APP_URL", f"http://127.0.0.1:{args.port}")
    logs = VAR / "log"
    logs.mkdir(parents=True, exist_ok=True)
    procs: list[tuple[str, subprocess.Popen]] = []
    py = sys.executable
    try:
        _start(procs, "worker", [py, "-m", "core", "worker"], env, logs / "worker.log")
        if not args.no_monitoring:
            _start_monitoring(procs, env, logs)
        _start(procs, "app", [py, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
                              "--server.port", str(args.port), "--server.headless", "true",
                              "--browser.gatherUsageStats", "false"], env)
        _say(f"console: http://127.0.0.1:{args.port}  (Ctrl-C stops everything)")
        stop = []
        # Handle both explicitly: a launcher started from a script may inherit an ignored SIGINT.
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        signal.signal(signal.SIGINT, lambda *_: stop.append(1))
        while not stop:
            for name, p in procs:
                if p.poll() is not None and name in ("app", "worker"):
                    _say(f"{name} exited with status {p.returncode}; stopping")
                    stop.append(1)
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        _say("stopping...")
        for _, p in reversed(procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 10
        for _, p in procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        if not get_settings().database_url or os.environ.get("DATABASE_URL") == url:
            from core.db import embedded

            embedded.stop(get_settings().embedded_pg_dir)
        _say("stopped")
    return 0


def _start_monitoring(procs: list, env: dict, logs: Path) -> None:
    py = sys.executable
    try:
        import core.monitoring.traffic  # noqa: F401

        _start(procs, "demo traffic", [py, "-m", "core", "demo", "traffic"], env, logs / "traffic.log")
    except ImportError:
        pass
    prom = _binary("prometheus")
    am = _binary("prometheus-alertmanager", "alertmanager")
    deploy = ROOT / "deploy"
    if prom and (deploy / "prometheus.yml").exists():
        data = VAR / "prometheus"
        if not data.exists():
            _backfill_history(data, env)
        data.mkdir(parents=True, exist_ok=True)
        _start(procs, "prometheus", [prom, f"--config.file={deploy / 'prometheus.yml'}", f"--storage.tsdb.path={data}",
                                     "--storage.tsdb.retention.time=35d",
                                     "--web.listen-address=127.0.0.1:9090", "--web.enable-lifecycle"], env,
               logs / "prometheus.log")
    else:
        _say("Prometheus is not installed (apt-get install prometheus): monitoring pages will say so")
    if am and (deploy / "alertmanager.yml").exists():
        data = VAR / "alertmanager"
        data.mkdir(parents=True, exist_ok=True)
        # var/alertmanager.yml is deploy/alertmanager.yml with the settings (SMTP_URL, ...) and the receiver
        # secrets under var/secrets; when it cannot be written (a bad setting) the deploy config runs as it is.
        made = subprocess.run([py, "-m", "core", "monitoring", "secrets"], cwd=ROOT, env=env, check=False,
                              capture_output=True, text=True)
        config = VAR / "alertmanager.yml"
        if made.returncode != 0 or not config.exists():
            _say(f"Alertmanager runs the plain deploy config: {(made.stderr or made.stdout).strip()[:300]}")
            config = deploy / "alertmanager.yml"
        _start(procs, "alertmanager", [am, f"--config.file={config}", f"--storage.path={data}",
                                       "--web.listen-address=127.0.0.1:9093", "--cluster.listen-address="], env,
               logs / "alertmanager.log")
    else:
        _say("Alertmanager is not installed (apt-get install prometheus-alertmanager): alert pages will say so")


def _backfill_history(data: Path, env: dict) -> None:
    """On a first start, give Prometheus a day of demo history (charts, uptime, past incidents to triage)."""
    promtool = _binary("promtool")
    if not promtool:
        return
    history = VAR / "demo-history.om"
    try:
        subprocess.run([sys.executable, "-m", "core", "demo", "traffic", "--history", str(history), "--hours", "26"],
                       cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, timeout=300)
        data.mkdir(parents=True, exist_ok=True)
        subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=24h",
                        str(history), str(data)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL, timeout=300)
        _say("Prometheus seeded with 26 hours of demo history")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        _say(f"demo history not loaded ({exc}); charts start empty")
