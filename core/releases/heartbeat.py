"""Process heartbeats: every app replica and worker records which code it runs, about once a minute.

A release with a contracting revision reads them (core.releases.pipeline): a process seen in the last
FRESH minutes whose commit is not the one being released is the previous version still running, and the
release is refused naming it. Rows not refreshed for FORGET minutes belong to processes that are gone
(killed, host lost); they are ignored and every heartbeat prunes them. A process that stops cleanly
removes its own row, so a rolling restart shows its progress without waiting for rows to age.

Times are the database's (now()), so hosts with skewed clocks still agree on what "fresh" means.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, inspect, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.releases.models import ProcessHeartbeat, ProcessKind

log = logging.getLogger("aftercare.heartbeat")

INTERVAL_SECONDS = 60.0
FRESH = timedelta(minutes=3)     # seen this recently: the process still runs
FORGET = timedelta(minutes=10)   # not seen for this long: gone; ignored and pruned

# The writes go through the table, not the mapper: an ORM statement configures every mapper in the process,
# and doing that from this thread while another thread is half-way through importing a models module (a
# worker job's lazy import) fails the configuration for good, for the whole process.
_TABLE = ProcessHeartbeat.__table__


@dataclass(frozen=True)
class ProcessInfo:
    """What a heartbeat says about the process writing it."""

    kind: ProcessKind
    host: str
    pid: int
    version: str
    commit: str | None
    started_at: datetime
    instance: str = field(default_factory=lambda: str(uuid.uuid4()))


def this_process(kind: ProcessKind) -> ProcessInfo:
    """This process, with the version and commit of the checkout it started from (as a release records them)."""
    from core.releases.version import git_version

    version, commit = git_version()
    return ProcessInfo(kind=ProcessKind(kind), host=socket.gethostname(), pid=os.getpid(), version=version,
                       commit=commit, started_at=datetime.now(timezone.utc))


@dataclass(frozen=True)
class SeenProcess:
    """A process as its newest heartbeat shows it; seconds_ago by the database's clock."""

    kind: str
    host: str
    pid: int
    version: str
    commit: str | None
    started_at: datetime
    last_seen: datetime
    seconds_ago: float

    def describe(self) -> str:
        """`worker on host-a pid 123 (seen 40 s ago)`."""
        return f"{self.kind} on {self.host} pid {self.pid} (seen {ago(self.seconds_ago)})"


def ago(seconds: float) -> str:
    """40 s ago, 4 min ago."""
    seconds = max(0, int(seconds))
    return f"{seconds} s ago" if seconds < 120 else f"{seconds // 60} min ago"


def has_heartbeats(session: Session) -> bool:
    """Whether the heartbeats table exists at the database's revision (from 0013 on)."""
    return inspect(session.connection()).has_table(ProcessHeartbeat.__tablename__)


def record_heartbeat(*, session: Session, process: ProcessInfo, seen_at: datetime | None = None) -> None:
    """Insert or refresh the process's one row (last_seen: now, or seen_at) and prune processes gone for FORGET."""
    values = {"instance": process.instance, "kind": ProcessKind(process.kind).value, "host": process.host[:255],
              "pid": process.pid, "version": process.version[:120], "commit": process.commit,
              "started_at": process.started_at, "last_seen": seen_at if seen_at is not None else func.now()}
    stmt = insert(_TABLE).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[_TABLE.c.instance],
        set_={"last_seen": stmt.excluded.last_seen, "version": stmt.excluded.version,
              "commit": stmt.excluded.commit})
    session.execute(stmt)
    prune_heartbeats(session=session)
    session.flush()


def prune_heartbeats(*, session: Session, older_than: timedelta = FORGET) -> int:
    """Delete the rows of processes not seen for older_than; returns how many."""
    result = session.execute(delete(_TABLE).where(_TABLE.c.last_seen < func.now() - older_than))
    return result.rowcount or 0


def forget_process(*, session: Session, instance: str) -> bool:
    """Remove a process's row (it is stopping cleanly); False when it had none."""
    result = session.execute(delete(_TABLE).where(_TABLE.c.instance == instance))
    return bool(result.rowcount)


def running_processes(session: Session, *, within: timedelta = FORGET) -> list[SeenProcess]:
    """Processes seen in the last `within`, by kind, host and pid."""
    age = func.extract("epoch", func.now() - ProcessHeartbeat.last_seen)
    rows = session.execute(
        select(ProcessHeartbeat, age.label("age"))
        .where(ProcessHeartbeat.last_seen >= func.now() - within)
        .order_by(ProcessHeartbeat.kind, ProcessHeartbeat.host, ProcessHeartbeat.pid, ProcessHeartbeat.started_at))
    return [SeenProcess(kind=h.kind, host=h.host, pid=h.pid, version=h.version, commit=h.commit,
                        started_at=h.started_at, last_seen=h.last_seen, seconds_ago=float(a or 0))
            for h, a in rows]


def other_versions_running(session: Session, *, commit: str | None, within: timedelta = FRESH) -> list[SeenProcess]:
    """Processes seen in the last `within` that run another commit than `commit` (the previous version, still up)."""
    return [p for p in running_processes(session, within=within) if p.commit != commit]


# ------------------------------------------------------------------------------------ the writer thread

class Heartbeat:
    """A daemon thread recording this process's heartbeat every `interval` seconds; a database that is down
    (or a schema without the table) is logged once and retried at the next beat, never raised."""

    def __init__(self, kind: ProcessKind, *, interval: float = INTERVAL_SECONDS, url: str | None = None,
                 process: ProcessInfo | None = None):
        self.process = process or this_process(kind)
        self.interval = interval
        self.url = url
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_error: str | None = None

    def beat(self) -> bool:
        """Record one heartbeat now; False when the database did not take it."""
        from core.db import session_scope

        try:
            with session_scope(self.url) as s:
                record_heartbeat(session=s, process=self.process)
        except Exception as exc:
            error = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            if error != self._last_error:
                log.warning("heartbeat of this %s not recorded (retrying every %.0f s): %s",
                            self.process.kind, self.interval, error)
            self._last_error = error
            return False
        if self._last_error is not None:
            log.info("heartbeat of this %s recorded again", self.process.kind)
            self._last_error = None
        return True

    def _run(self) -> None:
        while True:
            self.beat()
            if self._stop.wait(self.interval):
                return

    def start(self) -> Heartbeat:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"aftercare-heartbeat-{self.process.kind}",
                                            daemon=True)
            self._thread.start()
        return self

    def stop(self, *, forget: bool = True) -> None:
        """Stop beating and, when forget, remove this process's row so it no longer counts as running."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        if not forget:
            return
        from core.db import session_scope

        try:
            with session_scope(self.url) as s:
                forget_process(session=s, instance=self.process.instance)
        except Exception as exc:  # the row ages out after FORGET anyway
            log.info("heartbeat row of this %s not removed: %s", self.process.kind, str(exc).splitlines()[:1])


_started: dict[ProcessKind, Heartbeat] = {}
_lock = threading.Lock()


def start_process_heartbeat(kind: ProcessKind, *, interval: float = INTERVAL_SECONDS) -> Heartbeat:
    """Start this process's heartbeat once (later calls return the running one); its row goes at exit."""
    kind = ProcessKind(kind)
    with _lock:
        hb = _started.get(kind)
        if hb is None:
            hb = _started[kind] = Heartbeat(kind, interval=interval).start()
            atexit.register(hb.stop)
        return hb
