"""Release fixtures: a stand-in app health endpoint, the worker's real metrics server, backup targets in
tmp, and a throwaway copy of the migrations folder where tests add revisions (the repo's stay untouched)."""

from __future__ import annotations

import shutil
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from core.config import ROOT
from tests.helpers import free_port


class _Health(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        body = b"ok" if self.path == "/_stcore/health" else b"not found"
        self.send_response(200 if self.path == "/_stcore/health" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@dataclass
class Env:
    app_url: str
    worker_url: str
    dead_url: str          # nothing listens here
    state_dir: Path
    backups: Path


@pytest.fixture
def release_env(db_url, tmp_path, monkeypatch):
    """The app's health endpoint (a tiny server), the worker's metrics server (prometheus_client, as the
    worker starts it, with the worker's metrics registered), and file backup targets under tmp_path."""
    import core.worker  # noqa: F401  (registers aftercare_worker_leader and the job metrics)
    from prometheus_client import start_http_server

    from core.config import get_settings

    backups = tmp_path / "backups"
    monkeypatch.setenv("BACKUP_TARGETS", f"file://{backups}")
    monkeypatch.setenv("AUTH_LOGIN_SLEEP", "0")
    monkeypatch.setenv("PROMETHEUS_URL", "http://127.0.0.1:9")   # the overview shows a banner, fast
    monkeypatch.setenv("ALERTMANAGER_URL", "http://127.0.0.1:9")
    get_settings.cache_clear()

    app = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    wport = free_port()
    worker, _ = start_http_server(wport, addr="127.0.0.1")
    try:
        yield Env(app_url=f"http://127.0.0.1:{app.server_address[1]}", worker_url=f"http://127.0.0.1:{wport}",
                  dead_url=f"http://127.0.0.1:{free_port()}", state_dir=tmp_path / "state", backups=backups)
    finally:
        app.shutdown()
        app.server_close()
        worker.shutdown()
        worker.server_close()
        get_settings.cache_clear()


@pytest.fixture
def versions(tmp_path) -> Path:
    """A copy of the migrations folder (env.py and every revision) that tests may add revisions to."""
    dst = tmp_path / "migrations"
    shutil.copytree(ROOT / "core" / "db" / "migrations", dst, ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def add_revision(folder: Path, *, up: str, down: str, irreversible: bool = False, contracting: bool = False) -> str:
    """Write a revision on top of the folder's head running SQL up/down; returns its id."""
    head = ScriptDirectory(str(folder)).get_current_head()
    rev = f"t{uuid.uuid4().hex[:8]}"
    marks = ("irreversible = True\n" if irreversible else "") + ("contracting = True\n" if contracting else "")
    (folder / "versions" / f"{rev}_throwaway.py").write_text(
        f'"""throwaway revision for a release test"""\n'
        f"from alembic import op\n\n"
        f"revision = {rev!r}\ndown_revision = {head!r}\nbranch_labels = None\ndepends_on = None\n{marks}\n\n"
        f"def upgrade():\n    op.execute({up!r})\n\n\n"
        f"def downgrade():\n    op.execute({down!r})\n")
    return rev
