"""The sweep: states in SQL, one breach event per ticket and target, one mail to the team lead, metrics."""

from __future__ import annotations

from prometheus_client import REGISTRY
from sqlalchemy import func, select

from core.mail.models import OutboxMessage
from core.sla.models import SlaBreach, TicketSla
from core.sla.service import refresh_many, refresh_ticket_sla, sla_for_tickets, sla_state_condition
from core.sla.sweep import sweep
from core.tickets.models import Ticket, TicketEvent

from tests.sla.conftest import utc

NOW = utc("2026-11-25T12:00:00Z")  # Wednesday 13:00 in Madrid, inside business hours


def _breach_events(session, ticket_id):
    return session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id,
                                                     TicketEvent.kind == "sla_breach")).all()


def _metric(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_sweep_marks_states_and_records_each_breach_once(session, make_ticket, desk):
    # A: high (1 h first response), created 11:30 local, no reply by 13:00 local -> breached.
    a = make_ticket("2026-11-25T10:30:00Z", "high")
    # B: high, created 12:10 local: 50 of 60 minutes used, warn 15 min before -> at risk.
    b = make_ticket("2026-11-25T11:10:00Z", "high")
    # C: medium, answered, then pending -> paused.
    c = make_ticket("2026-11-25T11:00:00Z", "medium", status="pending",
                    events=[("2026-11-25T11:05:00Z", "public_reply", None),
                            ("2026-11-25T11:30:00Z", "status", {"from": "open", "to": "pending"})])
    # D: low, just created -> ok.
    d = make_ticket("2026-11-25T11:50:00Z", "low")
    # Rows computed when each ticket last changed (A's due time passes later, only the sweep sees it).
    for t in (a, b, c, d):
        refresh_many(session=session, ticket_ids=[t.id], now=t.created_at)
    refresh_many(session=session, ticket_ids=[c.id], now=utc("2026-11-25T11:30:00Z"))
    # E: no SLA row at all (written by an import): the sweep computes it.
    e = make_ticket("2026-11-25T08:00:00Z", "medium")  # 09:00 local, 4 h of 2 h used -> breached
    session.commit()
    before = _metric("sla_breaches_total", target="first_response", priority="high")

    result = sweep(session=session, now=NOW)
    session.commit()

    states = dict(session.execute(select(TicketSla.ticket_id, TicketSla.state)).all())
    assert states == {a.id: "breached", b.id: "at_risk", c.id: "paused", d.id: "ok", e.id: "breached"}
    assert result["new_breaches"] == 2 and result["at_risk"] == 1 and result["refreshed"] == 1
    ev = _breach_events(session, a.id)
    assert len(ev) == 1 and ev[0].data["target"] == "first_response"
    assert _breach_events(session, b.id) == []
    assert _metric("sla_breaches_total", target="first_response", priority="high") == before + 1
    assert _metric("tickets_at_risk") == 1
    # One mail to the team lead listing both breaches.
    mails = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "sla_breach")).all()
    assert len(mails) == 1 and mails[0].to_addr == desk["lead"].email
    assert f"AC-{a.id}" in mails[0].body and f"AC-{e.id}" in mails[0].body

    # Later sweeps never repeat a breach; B breaches at 12:10Z (13:10 local).
    later = sweep(session=session, now=utc("2026-11-25T12:30:00Z"))
    session.commit()
    assert later["new_breaches"] == 1
    assert len(_breach_events(session, a.id)) == 1 and len(_breach_events(session, b.id)) == 1
    assert sweep(session=session, now=utc("2026-11-25T12:31:00Z"))["new_breaches"] == 0
    session.commit()
    assert session.scalar(select(func.count()).select_from(SlaBreach)) == 3
    assert session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "sla_breach")) == 2

    # The queue's filter column.
    breached = session.scalars(select(Ticket.id).where(sla_state_condition(["breached"])).order_by(Ticket.id)).all()
    assert breached == [a.id, b.id, e.id]
    paused = session.scalars(select(Ticket.id).where(sla_state_condition(["paused"]))).all()
    assert paused == [c.id]


def test_reply_and_reopen_through_refresh(session, make_ticket):
    t = make_ticket("2026-11-25T10:30:00Z", "high")
    refresh_ticket_sla(session=session, ticket_id=t.id, now=utc("2026-11-25T10:45:00Z"))
    left = sla_for_tickets(session=session, ticket_ids=[t.id], now=utc("2026-11-25T11:00:00Z"))[t.id]
    assert round(left["first_response_left"]) == 30 and left["state"] == "ok"
    # The agent replies at 11:20Z (50 min): first response met and stopped.
    session.add(TicketEvent(ticket_id=t.id, at=utc("2026-11-25T11:20:00Z"), kind="public_reply", public=True,
                            actor_user_id=t.assignee_id))
    row = refresh_ticket_sla(session=session, ticket_id=t.id, now=utc("2026-11-25T11:30:00Z"))
    assert row.fr_stopped_at == utc("2026-11-25T11:20:00Z") and not row.fr_breached and row.fr_due_at is None
    assert row.fr_elapsed_minutes == 50.0 and row.res_elapsed_minutes == 60.0
    after = sla_for_tickets(session=session, ticket_ids=[t.id], now=utc("2026-11-25T11:30:00Z"))[t.id]
    assert (after["first_response_left"], after["first_response_outcome"], after["resolution_outcome"]) == \
        (None, "met", None)  # the queue says how the stopped target ended; resolution still runs
    # Solved, then the row is no longer swept.
    t.status = "solved"
    t.updated_at = utc("2026-11-25T11:40:00Z")
    session.add(TicketEvent(ticket_id=t.id, at=utc("2026-11-25T11:40:00Z"), kind="status",
                            data={"from": "open", "to": "solved"}))
    row = refresh_ticket_sla(session=session, ticket_id=t.id, now=utc("2026-11-25T12:00:00Z"))
    assert row.active is False and row.res_stopped_at == utc("2026-11-25T11:40:00Z") and row.state == "ok"


def test_the_worker_sweep_posts_new_breaches_to_slack_once(session, make_ticket, desk, monkeypatch):
    """With SLACK_WEBHOOK_URL set, the lead's breach list also goes to Slack (logged on the Alerts page);
    a later sweep with nothing new posts nothing."""
    from datetime import datetime, timedelta, timezone

    from core.config import get_settings
    from core.monitoring.notify import attempts_log
    from core.sla.sweep import run_sweep
    from tests.monitoring.conftest import Capture

    old = (datetime.now(timezone.utc) - timedelta(days=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    t = make_ticket(old, "high")
    slack = Capture()
    try:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url + "/services/T/B/X")
        get_settings.cache_clear()
        summary = run_sweep()
        assert "slack 1" in summary
        [post] = slack.requests
        assert f"AC-{t.id}" in post["json"]["text"] and "SLA breached" in post["json"]["text"]
        run_sweep()
        assert len(slack.requests) == 1
        session.expire_all()
        [attempt] = attempts_log(session=session)
        assert (attempt.channel, attempt.status) == ("slack", "sent")
    finally:
        slack.close()
        get_settings.cache_clear()


def test_a_sweep_recomputes_every_changed_ticket_in_batches_within_its_time_budget(session, make_ticket, desk):
    """After a policy change every open ticket is stale: one sweep works through them batch after batch
    (here batches of 2) instead of one batch a minute; with no budget left it stops after one batch."""
    for _ in range(5):
        make_ticket("2026-11-25T08:00:00Z", "low")
    session.commit()
    assert sweep(session=session, now=NOW, stale_batch=2)["refreshed"] == 5
    session.commit()
    assert session.scalar(select(func.count()).select_from(TicketSla)) == 5
    from core.sla.service import mark_all_stale

    mark_all_stale(session=session)
    session.commit()
    assert sweep(session=session, now=NOW, stale_batch=2, budget_seconds=0)["refreshed"] == 2
