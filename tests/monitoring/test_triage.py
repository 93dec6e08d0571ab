"""Triage: each firing interval marked actionable or noise with a note; accuracy = actionable / triaged."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditLog
from core.auth.roles import PermissionDenied
from core.monitoring import triage
from core.monitoring.history import AlertInterval
from core.monitoring.models import AlertTriage

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


def _interval(name: str, minutes: int, service: str = "api") -> AlertInterval:
    start = T0 + timedelta(minutes=minutes)
    return AlertInterval(alertname=name, labels={"alertname": name, "service": service, "severity": "critical"},
                         starts_at=start, ends_at=start + timedelta(minutes=10))


def test_accuracy_is_actionable_over_triaged(session, make_user):
    ops = make_user("ops")
    verdicts = ["actionable", "actionable", "actionable", "noise"]
    for i, v in enumerate(verdicts):
        triage.triage_interval_of(session=session, actor=ops, interval=_interval("HighErrorRate", i * 30), verdict=v,
                                  note=f"note {i}")
    session.commit()
    acc = triage.accuracy(session=session)
    assert acc == {"accuracy": 0.75, "actionable": 3, "triaged": 4}
    assert triage.accuracy(session=session, start=T0 + timedelta(minutes=45)) == {"accuracy": 0.5, "actionable": 1, "triaged": 2}
    assert triage.by_alert(session=session) == [{"alertname": "HighErrorRate", "triaged": 4, "actionable": 3, "accuracy": 0.75}]


def test_a_second_verdict_replaces_the_first_and_both_are_audited(session, make_user):
    lead = make_user("ops")
    iv = _interval("SLABreachesRising", 0, service="support")
    triage.triage_interval_of(session=session, actor=lead, interval=iv, verdict="noise", note="flappy")
    row = triage.triage_interval_of(session=session, actor=lead, interval=iv, verdict="actionable",
                                    note="real: queue understaffed")
    session.commit()
    assert session.scalar(select(func.count()).select_from(AlertTriage)) == 1
    assert (row.verdict, row.note, row.triaged_by_id) == ("actionable", "real: queue understaffed", lead.id)
    key = (iv.alertname, iv.labels_key, iv.starts_at)
    assert triage.verdicts(session=session, start=T0 - timedelta(hours=1), end=T0 + timedelta(hours=1))[key].verdict == "actionable"
    audits = session.scalars(select(AuditLog).where(AuditLog.action == "alert.triage").order_by(AuditLog.id)).all()
    assert [a.details["verdict"] for a in audits] == ["noise", "actionable"]


def test_bad_triage_is_refused_and_nothing_stored(session, make_user):
    ops = make_user("ops")
    for kwargs, message in [({"verdict": "maybe"}, "actionable' or 'noise"), ({"note": "x" * 2001}, "too long"),
                            ({"starts_at": datetime(2026, 11, 20, 10, 0)}, "time zone")]:
        args = {"alertname": "ServiceDown", "labels": {"alertname": "ServiceDown"}, "starts_at": T0, "verdict": "noise"} | kwargs
        with pytest.raises(triage.TriageError, match=message):
            triage.triage_interval(session=session, actor=ops, **args)
    assert session.scalar(select(func.count()).select_from(AlertTriage)) == 0


def test_roles_without_triage_permission_are_refused(session, make_user):
    for role in ("agent", "pm", "support_lead"):  # triage happens on the Alerts page, which is ops' (and admin's)
        user = make_user(role)
        with pytest.raises(PermissionDenied):
            triage.triage_interval_of(session=session, actor=user, interval=_interval("ServiceDown", 0), verdict="noise")
