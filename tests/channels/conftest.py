"""Fixtures for channel tests: a private dovecot IMAP server on loopback, accounts and contacts."""

from __future__ import annotations

import imaplib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import free_port, need_binary

IMAP_USER, IMAP_PASSWORD = "support", "s3cret-pass"

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 100
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={base}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class Dovecot:
    port: int
    base: Path

    @property
    def url(self) -> str:
        return f"imap://{IMAP_USER}:{IMAP_PASSWORD}@127.0.0.1:{self.port}/INBOX"

    def client(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.login(IMAP_USER, IMAP_PASSWORD)
        conn.select("INBOX")
        return conn

    def deliver(self, raw: bytes | str) -> None:
        """Append a message to INBOX, as a mail delivery would."""
        if isinstance(raw, str):
            raw = raw.encode()
        conn = self.client()
        try:
            typ, data = conn.append("INBOX", None, None, raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
            assert typ == "OK", data
        finally:
            conn.logout()

    def flags(self) -> list[str]:
        """The flags of every message in INBOX, in order."""
        conn = self.client()
        try:
            typ, data = conn.fetch("1:*", "(FLAGS)")
            return [d.decode() for d in data if d]
        finally:
            conn.logout()

    def clear(self) -> None:
        conn = self.client()
        try:
            typ, data = conn.select("INBOX")
            if int(data[0]) > 0:
                conn.store("1:*", "+FLAGS", "\\Deleted")
                conn.expunge()
        finally:
            conn.logout()


@pytest.fixture(scope="session")
def dovecot_server():
    """A private dovecot on a free loopback port, stopped (by its pid) at the end of the session."""
    binary = need_binary("dovecot", "/usr/sbin/dovecot")
    base = Path(tempfile.mkdtemp(prefix="aftercare-dovecot-"))
    for sub in ("run", "state", "home"):
        (base / sub).mkdir()
    base.chmod(0o755)
    shutil.chown(base / "home", "dovecot", "dovecot")
    (base / "passwd").write_text(f"{IMAP_USER}:{{PLAIN}}{IMAP_PASSWORD}\n")
    port = free_port()
    conf = base / "dovecot.conf"
    conf.write_text(CONFIG.format(base=base, port=port))
    # dovecot daemonizes; its children keep inherited pipes open, so hand it none.
    subprocess.run([binary, "-c", str(conf)], check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=20)
    pidfile = base / "run" / "master.pid"
    deadline = time.monotonic() + 15
    server = Dovecot(port, base)
    while True:
        try:
            server.client().logout()
            break
        except OSError:
            if time.monotonic() > deadline:
                log = (base / "dovecot.log").read_text() if (base / "dovecot.log").exists() else ""
                raise RuntimeError(f"dovecot did not start: {log[-2000:]}")
            time.sleep(0.1)
    yield server
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        pass
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def dovecot(dovecot_server, monkeypatch, db_url):
    """The IMAP server with an empty INBOX; IMAP_URL points at it."""
    from core.config import get_settings

    dovecot_server.clear()
    monkeypatch.setenv("IMAP_URL", dovecot_server.url)
    get_settings.cache_clear()
    yield dovecot_server
    get_settings.cache_clear()


@pytest.fixture
def customers(session):
    """Two accounts with one contact each (acme.example and globex.example)."""
    from datetime import datetime, timezone

    from core.accounts.models import Account, Contact

    now = datetime.now(timezone.utc)
    acme = Account(key="acme", name="Acme", plan="pro", started_at=now)
    globex = Account(key="globex", name="Globex", plan="starter", started_at=now)
    session.add_all([acme, globex])
    session.flush()
    session.add_all([Contact(account_id=acme.id, email="ana@acme.example", name="Ana"),
                     Contact(account_id=globex.id, email="bo@globex.example", name="Bo")])
    session.commit()
    return {"acme": acme, "globex": globex}
