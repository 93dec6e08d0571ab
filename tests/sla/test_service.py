"""Editing policies and calendars: validation, permission, audit; the defaults the migration seeds."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditLog
from core.auth.roles import PermissionDenied
from core.sla.models import SlaCalendar, SlaPolicy
from core.sla.service import SlaConfigError, list_policies, refresh_many, save_calendar, save_policy
from core.sla.models import TicketSla

from tests.sla.conftest import utc

LUNCH = {"timezone": "Europe/Madrid", "hours": {d: [["09:00", "14:00"], ["15:00", "18:00"]]
                                                 for d in ("mon", "tue", "wed", "thu", "fri")},
         "holidays": ["2026-12-25"]}


def _audits(session, action):
    return session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == action))


def test_defaults_are_seeded(session):
    got = [(p.priority, p.plan, p.first_response_minutes, p.resolution_minutes, p.business_hours)
           for p in list_policies(session=session)]
    assert got == [("high", "any", 60, 480, True), ("medium", "any", 120, 1440, True), ("low", "any", 480, 4320, True)]
    cal = session.scalar(select(SlaCalendar))
    assert cal.timezone == "Europe/Madrid" and cal.hours["mon"] == [["09:00", "18:00"]] and "sat" not in cal.hours


@pytest.mark.parametrize("calendar, message", [
    ({"timezone": "Europe/Atlantis", "hours": LUNCH["hours"]}, "unknown time zone"),
    ({"timezone": "UTC", "hours": {"mon": [["09:00", "14:00"], ["13:30", "18:00"]]}}, "overlap"),
    ({"timezone": "UTC", "hours": {"mon": [["14:00", "09:00"]]}}, "ends before it starts"),
    ({"timezone": "UTC", "hours": {}}, "no open time"),
])
def test_bad_calendar_is_refused_and_nothing_stored(session, make_user, calendar, message):
    admin = make_user("admin")
    with pytest.raises(SlaConfigError, match=message):
        save_calendar(session=session, actor=admin, name="Broken", calendar=calendar)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(SlaCalendar)) == 1
    assert _audits(session, "sla.calendar.create") == 0


def test_calendar_and_plan_policy_are_saved_audited_and_used(session, make_user, make_ticket, desk):
    admin = make_user("admin")
    cal = save_calendar(session=session, actor=admin, name="Madrid with lunch", calendar=LUNCH)
    pol = save_policy(session=session, actor=admin, priority="high", plan="enterprise", first_response_minutes=30,
                      resolution_minutes=240, warn_before_minutes=10, business_hours=True, calendar_id=cal.id)
    session.commit()
    assert _audits(session, "sla.calendar.create") == 1 and _audits(session, "sla.policy.create") == 1
    # An enterprise high ticket created Wed 13:45 local: 15 min before lunch, 15 after -> 15:15 local (14:15Z).
    ent = make_ticket("2026-11-25T12:45:00Z", "high", account=desk["enterprise"])
    pro = make_ticket("2026-11-25T12:45:00Z", "high")
    refresh_many(session=session, ticket_ids=[ent.id, pro.id], now=utc("2026-11-25T12:45:00Z"))
    rows = {r.ticket_id: r for r in session.scalars(select(TicketSla))}
    assert rows[ent.id].policy_id == pol.id and rows[ent.id].fr_due_at == utc("2026-11-25T14:15:00Z")
    assert rows[pro.id].fr_target_minutes == 60 and rows[pro.id].fr_due_at == utc("2026-11-25T13:45:00Z")
    # Editing an existing policy records before/after.
    save_policy(session=session, actor=admin, priority="high", plan="enterprise", first_response_minutes=45,
                resolution_minutes=240, warn_before_minutes=10, business_hours=False, calendar_id=None)
    session.commit()
    row = session.scalar(select(AuditLog).where(AuditLog.action == "sla.policy.update"))
    assert row.details["before"]["first_response_minutes"] == 30 and row.details["after"]["first_response_minutes"] == 45
    # Changing a policy makes open tickets' rows stale for the sweep.
    assert session.scalar(select(TicketSla.source_updated_at).where(TicketSla.ticket_id == ent.id)) is None


def test_policy_validation_and_permission(session, make_user):
    admin, agent = make_user("admin"), make_user("agent")
    cal_id = session.scalar(select(SlaCalendar.id))
    with pytest.raises(PermissionDenied):
        save_policy(session=session, actor=agent, priority="high", first_response_minutes=30, resolution_minutes=60,
                    warn_before_minutes=5, business_hours=True, calendar_id=cal_id)
    with pytest.raises(SlaConfigError, match="first-response target cannot be longer"):
        save_policy(session=session, actor=admin, priority="high", first_response_minutes=600, resolution_minutes=60,
                    warn_before_minutes=5, business_hours=True, calendar_id=cal_id)
    with pytest.raises(SlaConfigError, match="warn before"):
        save_policy(session=session, actor=admin, priority="low", first_response_minutes=60, resolution_minutes=600,
                    warn_before_minutes=60, business_hours=True, calendar_id=cal_id)
    with pytest.raises(SlaConfigError, match="needs an existing calendar"):
        save_policy(session=session, actor=admin, priority="low", first_response_minutes=60, resolution_minutes=600,
                    warn_before_minutes=5, business_hours=True, calendar_id=None)
    session.rollback()
    assert session.scalar(select(SlaPolicy.first_response_minutes).where(SlaPolicy.priority == "high")) == 60
