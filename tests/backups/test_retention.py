"""Retention with a fixed clock: daily, weekly and monthly slots count periods that have a backup; each
target's own newest verified backup always stays."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from core.backups import dump, service, verify
from core.backups.models import BackupCopy, CopyStatus, RunTrigger
from core.backups.retention import Candidate, Policy, plan

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)  # a Wednesday


def _daily(days: int) -> list[Candidate]:
    out = []
    for back in range(days):
        at = (NOW - timedelta(days=back)).replace(hour=2, minute=0)
        out.append(Candidate(f"{at:%Y%m%dT%H%M%SZ}-000000", at))
    return out


def test_plan_keeps_days_weeks_and_months():
    keep, delete = plan(_daily(400), now=NOW, policy=Policy(daily=7, weekly=4, monthly=3), tz="UTC")
    kept_days = sorted(k[:8] for k in keep)
    assert kept_days == ["20260930", "20261031", "20261108", "20261115",
                         "20261119", "20261120", "20261121", "20261122", "20261123", "20261124", "20261125"]
    assert len(delete) == 400 - len(keep)
    assert keep["20261108T020000Z-000000"] == ["weekly 2026-W45"]
    assert keep["20261031T020000Z-000000"] == ["monthly 2026-10"]


def test_plan_keeps_only_the_newest_of_a_day_and_the_newest_verified():
    early = Candidate("20261125T010000Z-000001", NOW.replace(hour=1))
    late = Candidate("20261125T110000Z-000002", NOW.replace(hour=11))
    old_verified = Candidate("20250101T020000Z-000003", datetime(2025, 1, 1, 2, tzinfo=timezone.utc), verified=True)
    older_verified = Candidate("20241201T020000Z-000004", datetime(2024, 12, 1, 2, tzinfo=timezone.utc), verified=True)
    keep, delete = plan([early, late, old_verified, older_verified], now=NOW, policy=Policy(1, 1, 1), tz="UTC")
    assert set(keep) == {late.backup_id, old_verified.backup_id}
    assert keep[old_verified.backup_id] == ["newest verified backup"]
    assert set(delete) == {early.backup_id, older_verified.backup_id}


def _at(day: str, hour: int = 2) -> Candidate:
    at = datetime.strptime(day, "%Y-%m-%d").replace(hour=hour, tzinfo=timezone.utc)
    return Candidate(f"{at:%Y%m%dT%H%M%SZ}-000000", at)


def test_an_outage_of_several_days_does_not_shrink_the_daily_backups_kept():
    # Daily backups all month, then five days without any (Nov 20-24), then one this morning and one at 11:00.
    cands = [_at(f"2026-11-{d:02d}") for d in range(1, 20)] + [_at("2026-11-25"), _at("2026-11-25", hour=11)]
    keep, delete = plan(cands, now=NOW, policy=Policy(daily=7, weekly=0, monthly=0), tz="UTC")
    # The 7 most recent days that have a backup, the newest backup of each, not only the 2 inside Nov 19-25.
    assert sorted(keep) == ["20261114T020000Z-000000", "20261115T020000Z-000000", "20261116T020000Z-000000",
                            "20261117T020000Z-000000", "20261118T020000Z-000000", "20261119T020000Z-000000",
                            "20261125T110000Z-000000"]
    assert keep["20261125T110000Z-000000"] == ["daily 2026-11-25"]
    assert "20261125T020000Z-000000" in delete and len(delete) == len(cands) - 7


def test_weeks_and_months_without_a_backup_do_not_use_up_a_slot():
    # Backups in weeks 48, 45, 44 and 40 of 2026 (none in 46, 47, 41-43) and in Nov, Aug and Jul (none in Sep, Oct).
    cands = [_at("2026-11-23"), _at("2026-11-25"),  # W48: the newest of the week is kept
             _at("2026-11-06"), _at("2026-11-01"), _at("2026-10-27"), _at("2026-10-01"),
             _at("2026-08-20"), _at("2026-08-03"), _at("2026-07-15")]
    keep, _ = plan(cands, now=NOW, policy=Policy(daily=0, weekly=3, monthly=0), tz="UTC")
    assert {k[:8]: v for k, v in keep.items()} == {"20261125": ["weekly 2026-W48"], "20261106": ["weekly 2026-W45"],
                                                  "20261101": ["weekly 2026-W44"]}
    keep, _ = plan([c for c in cands if c.created_at.month in (11, 8, 7)], now=NOW,
                   policy=Policy(daily=0, weekly=0, monthly=3), tz="UTC")
    assert {k[:8]: v for k, v in keep.items()} == {"20261125": ["monthly 2026-11"], "20260820": ["monthly 2026-08"],
                                                  "20260715": ["monthly 2026-07"]}


def test_plan_defaults_are_30_8_12():
    assert Policy() == Policy(daily=30, weekly=8, monthly=12)
    keep, _ = plan(_daily(400), now=NOW, policy=Policy(), tz="UTC")
    # 30 days, the 8 weeks reach 3 more Sundays back, the 12 months add month ends before that.
    assert 30 < len(keep) <= 30 + 8 + 12


def test_prune_dry_run_lists_then_prune_deletes_in_every_target(session, db_url, seeded, targets, make_user):
    ops = make_user("ops")
    first = service.run_backup(session=session, actor=ops, targets=targets)
    second = service.run_backup(session=session, actor=ops, targets=targets)
    session.commit()
    later = datetime.now(timezone.utc) + timedelta(days=100)
    policy = Policy(daily=1, weekly=0, monthly=0)

    plans = service.prune(session=session, actor=ops, dry_run=True, targets=targets, policy=policy, now=later)
    assert [p.delete for p in plans] == [[first.id]] * 3
    assert all(p.deleted == [] for p in plans)
    assert all(set(t.backup_ids()) == {first.id, second.id} for t in targets)

    plans = service.prune(session=session, actor=ops, dry_run=False, targets=targets, policy=policy, now=later)
    session.commit()
    assert [p.deleted for p in plans] == [[first.id]] * 3
    assert all(t.backup_ids() == [second.id] for t in targets)
    session.expire_all()
    statuses = {c.status for c in session.scalars(select(BackupCopy).where(BackupCopy.backup_id == first.id))}
    assert statuses == {CopyStatus.PRUNED}


def test_each_target_keeps_its_own_newest_verified_copy(session, db_url, seeded, targets, make_user):
    """The older backup is verified only in the folder, the newer one only in S3: another target's good copy
    must not let the folder delete the one copy it knows to be good."""
    ops = make_user("ops")
    folder, s3 = targets[0], targets[1]
    older = dump.run_backup(url=db_url, targets=[folder, s3], trigger=RunTrigger.SCHEDULED, actor="worker")
    verify.verify_backup(url=db_url, backup_id=older.id, targets=[folder], actor="worker")
    newer = dump.run_backup(url=db_url, targets=[folder, s3], trigger=RunTrigger.SCHEDULED, actor="worker")
    verify.verify_backup(url=db_url, backup_id=newer.id, targets=[s3], actor="worker")

    plans = service.prune(session=session, actor=ops, dry_run=False, targets=[folder, s3],
                          policy=Policy(daily=0, weekly=0, monthly=0))
    session.commit()
    assert [p.keep for p in plans] == [{older.id: ["newest verified backup"]}, {newer.id: ["newest verified backup"]}]
    assert folder.backup_ids() == [older.id] and s3.backup_ids() == [newer.id]
