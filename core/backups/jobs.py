"""Worker jobs: the daily backup (then verify and prune), the weekly restore drill, and housekeeping."""

from __future__ import annotations

import logging

from core.backups.models import RunStatus, RunTrigger
from core.config import get_settings
from core.jobs import scheduled

log = logging.getLogger(__name__)


def backup_time() -> tuple[int, int]:
    """(hour, minute) of BACKUP_TIME ("HH:MM", local business time); 02:00 when unreadable."""
    try:
        hour, minute = (int(x) for x in get_settings().backup_time.split(":", 1))
        if 0 <= hour < 24 and 0 <= minute < 60:
            return hour, minute
    except ValueError:
        pass
    log.warning("BACKUP_TIME %r is not HH:MM; using 02:00", get_settings().backup_time)
    return 2, 0


_HOUR, _MINUTE = backup_time()


@scheduled("backup_daily", trigger="cron", hour=_HOUR, minute=_MINUTE)
def daily_backup_job() -> str:
    """Back up, verify the new copies, then prune by the retention policy."""
    from core.backups import dump, retention, storage, verify
    from core.db import database_url

    url, targets = database_url(), storage.parse_targets()
    result = dump.run_backup(url=url, targets=targets, trigger=RunTrigger.SCHEDULED, actor="worker")
    if result.status == RunStatus.FAILED:
        raise RuntimeError(f"backup {result.id} failed: {result.error}")
    outcomes = verify.verify_backup(url=url, backup_id=result.id, targets=targets, actor="worker")
    plans = retention.prune(url=url, targets=targets, dry_run=False)
    pruned = sum(len(p.deleted) for p in plans)
    summary = (f"backup {result.id} {result.status} ({result.size_bytes} bytes); verified "
               f"{sum(o.ok for o in outcomes)}/{len(outcomes)}; pruned {pruned}")
    if result.status != RunStatus.SUCCEEDED or not all(o.ok for o in outcomes):
        raise RuntimeError(summary + f"; {result.error or 'a copy failed verification'}")
    return summary


@scheduled("restore_drill_weekly", trigger="cron", day_of_week="sun", hour=(_HOUR + 2) % 24, minute=_MINUTE)
def weekly_drill_job() -> str:
    """Restore the newest backup into a scratch database, verify and drop it."""
    from core.backups import drill, storage
    from core.db import database_url

    report = drill.run_drill(url=database_url(), targets=storage.parse_targets(), actor="worker")
    if not report.ok:
        raise RuntimeError(f"restore drill of {report.backup_id} failed: {report.error or 'checks failed'}")
    return f"restore drill of {report.backup_id} passed in {report.duration_seconds:.1f}s"


@scheduled("backup_housekeeping", trigger="interval", minutes=1, run_at_start=True)
def housekeeping_job() -> str | None:
    """Mark runs a killed worker left 'running' as failed, and refresh the backup metrics."""
    from core.backups import metrics
    from core.backups.dump import mark_interrupted_runs
    from core.db import session_scope

    with session_scope() as s:
        n = mark_interrupted_runs(s)
        metrics.refresh(s)
    return f"marked {n} interrupted backup run(s) failed" if n else None
