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
    from core.backups import retention, storage, verify
    from core.db import database_url

    url, targets = database_url(), storage.parse_targets()
    result = verify.backup_and_verify(url=url, targets=targets, trigger=RunTrigger.SCHEDULED, actor="worker")
    if result.status == RunStatus.FAILED:
        _tell_ops(f"Backup {result.id} failed", f"No target has this backup. Error: {result.error}",
                  critical=True, dedup_key=f"backup-failed-{result.id}")
        raise RuntimeError(f"backup {result.id} failed: {result.error}")
    outcomes = result.verifications
    plans = retention.prune(url=url, targets=targets, dry_run=False)
    pruned = sum(len(p.deleted) for p in plans)
    summary = (f"backup {result.id} {result.status} ({result.size_bytes} bytes); verified "
               f"{sum(o.ok for o in outcomes)}/{len(outcomes)}; pruned {pruned}")
    if result.status != RunStatus.SUCCEEDED or not all(o.ok for o in outcomes):
        problems = [f"{o.target}: {o.error}" for o in result.outcomes if not o.ok]
        problems += [f"{o.target}: verification failed: {o.error}" for o in outcomes if not o.ok]
        _tell_ops(f"Backup {result.id} is missing from {len(problems)} target(s)",
                  summary + "\n" + "\n".join(problems), critical=False, dedup_key=f"backup-partial-{result.id}")
        raise RuntimeError(summary + f"; {result.error or 'a copy failed verification'}")
    return summary


def _tell_ops(subject: str, body: str, *, critical: bool, dedup_key: str) -> None:
    """Page (critical) or post to Slack (warning); every attempt, or "not configured", lands in the
    notification log on the Alerts page. A notification failure never hides the backup's own failure."""
    from core.db import session_scope
    from core.monitoring.models import Channel, Severity
    from core.monitoring.notify import notify

    try:
        with session_scope() as s:
            notify(session=s, channel=Channel.PAGERDUTY if critical else Channel.SLACK, subject=subject, body=body,
                   severity=Severity.CRITICAL if critical else Severity.WARNING, dedup_key=dedup_key,
                   source="aftercare-backups")
    except Exception:  # noqa: BLE001 - the job's own error is what matters
        log.exception("could not notify ops about %s", dedup_key)


@scheduled("restore_drill_weekly", trigger="cron", day_of_week="sun", hour=(_HOUR + 2) % 24, minute=_MINUTE)
def weekly_drill_job() -> str:
    """Restore the newest backup into a scratch database, verify and drop it."""
    from core.backups import drill, storage
    from core.db import database_url

    report = drill.run_drill(url=database_url(), targets=storage.parse_targets(), actor="worker")
    if not report.ok:
        _tell_ops(f"Restore drill of {report.backup_id} failed", report.error or "the restored copy failed its checks",
                  critical=False, dedup_key=f"drill-failed-{report.backup_id}")
        raise RuntimeError(f"restore drill of {report.backup_id} failed: {report.error or 'checks failed'}")
    return f"restore drill of {report.backup_id} passed in {report.duration_seconds:.1f}s"


@scheduled("backup_housekeeping", trigger="interval", minutes=1, run_at_start=True)
def housekeeping_job() -> str | None:
    """Mark runs a killed worker left 'running' as failed, and refresh the backup metrics."""
    from core.backups import metrics
    from core.backups.dump import mark_interrupted_runs, remove_orphaned_staging
    from core.db import session_scope

    with session_scope() as s:
        n = mark_interrupted_runs(s)
        metrics.refresh(s)
    removed = remove_orphaned_staging()
    said = [f"marked {n} interrupted backup run(s) failed"] if n else []
    said += [f"removed {len(removed)} half-written dump folder(s) of stopped processes"] if removed else []
    return "; ".join(said) or None
