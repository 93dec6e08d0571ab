"""The SLA page and the SLA policies page through app.py (AppTest), on a database with breached and at-risk tickets."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from core.sla.models import SlaCalendar, SlaPolicy
from core.sla.service import refresh_many
from core.sla.sweep import sweep

APP = "../../app.py"


@pytest.fixture
def app_as(session, desk, make_user, make_ticket, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("AUTH_LOGIN_SLEEP", "0")
    make_user("admin", username="root")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    old = make_ticket((now - timedelta(days=10)).isoformat(), "high")  # long breached
    fresh = make_ticket(now.isoformat(), "low")
    refresh_many(session=session, ticket_ids=[old.id, fresh.id], now=now)
    sweep(session=session, now=now)
    session.commit()

    def _make(username: str, role: str):
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["authentication_status"] = True
        at.session_state["username"] = username
        at.session_state["name"] = username
        at.session_state["roles"] = [role]
        at.run()
        return at

    return _make, old


def test_sla_page_lists_breached_ticket_with_owner_and_offers_csv(app_as, desk):
    make, old = app_as
    at = make("lead", "support_lead")
    at.switch_page("pages/sla.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "SLA"
    assert [m.value for m in at.metric][:2] == ["1", "0"]
    frame = at.dataframe[0].value
    assert list(frame["ticket"]) == [f"AC-{old.id}"] and list(frame["owner"]) == [desk["agent"].name]
    assert "overdue" in frame["first response"].iloc[0]
    # Compliance tab: grouped by priority.
    at.selectbox[0].set_value("priority").run()
    assert not at.exception


def test_agent_cannot_open_sla_settings(app_as):
    make, _ = app_as
    at = make("agent", "agent")
    with pytest.raises(ValueError):
        at.switch_page("pages/sla_settings.py").run()


def test_admin_saves_a_policy_and_a_bad_calendar_is_refused(app_as, session):
    make, _ = app_as
    at = make("root", "admin")
    at.switch_page("pages/sla_settings.py").run()
    assert not at.exception, [e.value for e in at.exception]
    # Policy form: high / enterprise, 30 / 240 / 10.
    form_inputs = at.number_input
    at.selectbox[1].set_value("enterprise")
    form_inputs[0].set_value(30)
    form_inputs[1].set_value(240)
    form_inputs[2].set_value(10)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    session.expire_all()
    pol = session.scalar(select(SlaPolicy).where(SlaPolicy.plan == "enterprise"))
    assert pol is not None and (pol.first_response_minutes, pol.resolution_minutes) == (30, 240)
    # New calendar with overlapping intervals: an error, nothing stored.
    name = next(t for t in at.text_input if t.label == "Name")
    name.set_value("Broken")
    mon = next(t for t in at.text_input if t.label == "Mon")
    mon.set_value("09:00-14:00, 13:00-18:00")
    next(b for b in at.button if b.label == "Save calendar").click().run()
    assert any("overlap" in e.value for e in at.error)
    session.expire_all()
    assert session.scalar(select(SlaCalendar).where(SlaCalendar.name == "Broken")) is None
