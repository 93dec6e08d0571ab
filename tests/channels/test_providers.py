"""Zendesk and Front sync against small local API servers: in, out, pagination, 429s, failures, resume."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.channels.models import ProviderLink, SyncCursor, SyncRun
from core.tickets.models import Ticket, TicketEvent
from tests.channels.fakes import FakeFront, FakeZendesk


@pytest.fixture
def zendesk(db_url, session, make_user, customers, monkeypatch):
    from core.channels.service import save_config
    from core.config import get_settings

    api = FakeZendesk().start()
    admin = make_user("admin", username="root")
    agent = make_user("agent", username="zed", team="tech")
    save_config(session=session, actor=admin, key="zendesk", enabled=True,
                config={"base_url": api.url, "email": "sync@acme-support.example", "category_field_id": "360001"})
    session.commit()
    monkeypatch.setenv("ZENDESK_API_TOKEN", "zd-token")
    get_settings.cache_clear()
    api.add_user(101, "ana@acme.example", "Ana", "end-user")
    api.add_user(102, "nobody@nowhere.example", "Nobody", "end-user")
    api.add_user(201, agent.email, "Zed", "agent")
    api.admin, api.agent = admin, agent
    yield api
    api.stop()
    get_settings.cache_clear()


@pytest.fixture
def front(db_url, session, make_user, customers, monkeypatch):
    from core.channels.service import save_config
    from core.config import get_settings

    api = FakeFront().start()
    admin = make_user("admin", username="root")
    agent = make_user("agent", username="fry", team="tech")
    save_config(session=session, actor=admin, key="front", enabled=True, config={"base_url": api.url})
    session.commit()
    monkeypatch.setenv("FRONT_API_TOKEN", "front-token")
    get_settings.cache_clear()
    api.admin, api.agent = admin, agent
    yield api
    api.stop()
    get_settings.cache_clear()


def _tickets(session):
    session.expire_all()
    return {t.external_id: t for t in session.scalars(select(Ticket))}


def _events(session, ticket_id, kind):
    return list(session.scalars(select(TicketEvent.body).where(TicketEvent.ticket_id == ticket_id,
                                                               TicketEvent.kind == kind).order_by(TicketEvent.id)))


def test_zendesk_sync_in_out_idempotent_with_pagination_and_429(zendesk, session, capsys):
    from core.cli import main
    from core.tickets import service as tickets

    api = zendesk
    api.add_ticket(1, subject="Agents page export fails", description="Export gives an empty CSV.", requester_id=101,
                   assignee_id=201, tags=["vip"])
    api.add_comment(1, author_id=201, body="Looking into it.")
    api.add_comment(1, author_id=201, body="Probably the new exporter.", public=False)
    api.add_comment(1, author_id=101, body="Thanks, it is urgent for us.")
    api.add_ticket(2, subject="Invoice copy", description="Please resend the invoice.", requester_id=101,
                   status="pending")
    api.add_ticket(3, subject="Who am I", description="Stranger.", requester_id=102)
    api.throttle = 1  # the very first request is rate limited
    assert main(["sync", "zendesk"]) == 0
    out = capsys.readouterr().out
    assert "in: 3 created" in out and "tickets from unknown requesters (filed under the intake account): 1" in out
    assert "rate limited: 1" in out
    # two export pages were followed, the second with the first page's cursor
    exports = api.calls("GET", "/api/v2/incremental/tickets/cursor.json")
    assert exports[0][2].get("start_time") == "0" and any("cursor" in q for _, _, q, _ in exports)
    got = _tickets(session)
    t1, t2 = got["zendesk:1"], got["zendesk:2"]
    assert t1.subject == "Agents page export fails" and t1.assignee_id == api.agent.id
    assert t2.status == "pending" and t1.channel == "import"
    assert _events(session, t1.id, "public_reply") == ["Looking into it."]
    assert _events(session, t1.id, "internal_note") == ["Probably the new exporter."]
    assert _events(session, t1.id, "customer_reply") == ["Thanks, it is urgent for us."]

    # a second pass brings nothing new and doubles nothing
    assert main(["sync", "zendesk"]) == 0
    assert "in: 0 created" in capsys.readouterr().out
    assert session.scalar(select(func.count()).select_from(Ticket)) == 3

    # Aftercare's changes go out: priority, category (custom field + tag), assignee, internal note as private
    lead = api.admin
    t1 = tickets.change_priority(session=session, actor=lead, ticket_id=t1.id, version=None, priority="high",
                                 reason="VIP account")
    tickets.add_note(session=session, actor=lead, ticket_id=t1.id, body="Escalated to engineering.")
    session.commit()
    api.requests.clear()
    assert main(["sync", "zendesk"]) == 0
    assert "1 internal notes" in capsys.readouterr().out
    puts = [b["ticket"] for m, p, _, b in api.calls("PUT", "/api/v2/tickets/1.json")]
    fields = next(p for p in puts if "priority" in p)
    assert fields["priority"] == "high" and fields["assignee_id"] == 201 and fields["status"] == "open"
    assert fields["custom_fields"] == [{"id": 360001, "value": t1.category}]
    assert "vip" in fields["tags"] and f"aftercare_{t1.category}" in fields["tags"]
    note = next(p["comment"] for p in puts if "comment" in p)
    assert note == {"body": "Escalated to engineering.", "public": False}
    assert any(c["body"] == "Escalated to engineering." and not c["public"] for c in api.comments[1])

    # the pushed note comes back in the export and is not imported twice; a remote change comes in
    api.add_comment(2, author_id=101, body="Any news?")
    api.touch(1, status="solved")
    assert main(["sync", "zendesk"]) == 0
    got = _tickets(session)
    assert got["zendesk:1"].status == "solved"
    assert got["zendesk:2"].status == "open"  # the customer's comment reopened the pending ticket
    assert _events(session, t1.id, "internal_note") == ["Probably the new exporter.", "Escalated to engineering."]
    runs = session.scalars(select(SyncRun).where(SyncRun.provider == "zendesk")).all()
    assert [r.status for r in runs] == ["ok"] * 4


def test_zendesk_failure_is_recorded_and_the_next_run_resumes_from_the_cursor(zendesk, session, capsys):
    from core.cli import main

    api = zendesk
    for i in range(1, 5):
        api.add_ticket(i, subject=f"Problem {i}", description=f"Details {i}.", requester_id=101)
    api.fail_paths = {"/api/v2/tickets/3/": 500}  # the second page cannot be read
    assert main(["sync", "zendesk"]) == 1
    out = capsys.readouterr().out
    assert "error: GET" in out and "HTTP 500" in out
    run = session.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
    assert run.status == "failed" and "HTTP 500" in run.error and run.counts["created"] == 2
    assert len(_tickets(session)) == 2  # the first page committed with its cursor
    cursor = session.scalar(select(SyncCursor.cursor).where(SyncCursor.provider == "zendesk", SyncCursor.direction == "in"))
    assert cursor == "2"
    api.fail_paths = {}
    api.requests.clear()
    assert main(["sync", "zendesk"]) == 0
    assert api.calls("GET", "/api/v2/incremental")[0][2] == {"cursor": "2", "include": "users"}
    assert sorted(_tickets(session)) == ["zendesk:1", "zendesk:2", "zendesk:3", "zendesk:4"]


def test_zendesk_not_configured_is_a_clear_error(db_url, session, capsys):
    from core.cli import main

    assert main(["sync", "zendesk"]) == 2
    assert "Zendesk is not configured" in capsys.readouterr().err


def test_front_sync_pages_conversations_and_writes_back(front, session, capsys):
    from core.cli import main
    from core.tickets import service as tickets

    api = front
    teammate = {"id": "tea_7", "email": api.agent.email, "username": "fry"}
    api.add_conversation("cnv_1", subject="Webhook retries", requester="ana@acme.example",
                         text="Webhooks are retried forever.", assignee=teammate, status="assigned")
    api.add_message("cnv_1", inbound=False, text="We are on it.", author=teammate)
    api.add_comment("cnv_1", body="Looks like the backoff config.", author=teammate)
    api.add_conversation("cnv_2", subject="Billing address", requester="bo@globex.example", text="Change my address.")
    api.add_conversation("cnv_3", subject="Spam", requester="spam@unknown-co.example", text="Buy now.")
    api.add_message("cnv_2", inbound=True, handle="bo@globex.example", text="Also the VAT id.")
    api.conversations["cnv_3"]["status"] = "archived"
    api.throttle = 1
    assert main(["sync", "front"]) == 0
    out = capsys.readouterr().out
    assert "in: 3 created" in out and "tickets from unknown requesters" in out and "rate limited: 1" in out
    assert any("page_token" in q for _, p, q, _ in api.calls("GET", "/conversations") if p == "/conversations")
    got = _tickets(session)
    c1, c2 = got["front:cnv_1"], got["front:cnv_2"]
    assert c1.description == "Webhooks are retried forever." and c1.assignee_id == api.agent.id
    assert _events(session, c1.id, "public_reply") == ["We are on it."]
    assert _events(session, c1.id, "internal_note") == ["Looks like the backoff config."]
    assert _events(session, c2.id, "customer_reply") == ["Also the VAT id."]
    # out: custom fields, assignee and the note as a comment
    tickets.change_priority(session=session, actor=api.admin, ticket_id=c2.id, version=None, priority="high",
                            reason="angry")
    tickets.add_note(session=session, actor=api.admin, ticket_id=c2.id, body="Check the VAT rules.")
    session.refresh(c2)
    tickets.reassign(session=session, actor=api.admin, ticket_id=c2.id, version=c2.version, assignee_id=api.agent.id)
    session.commit()
    api.requests.clear()
    assert main(["sync", "front"]) == 0
    assert "out: 1 tickets updated, 1 internal notes" in capsys.readouterr().out
    assert [p for _, p, _, _ in api.calls("PATCH")] == ["/conversations/cnv_2"]  # only what changed here
    patch = api.conversations["cnv_2"]["custom_fields"]
    assert patch == {"Category": _tickets(session)["front:cnv_2"].category, "Priority": "high"}
    assert api.conversations["cnv_2"]["assignee"] == {"id": "tea_7"}  # the agent mapped by e-mail
    assert [c["body"] for c in api.comments["cnv_2"]] == ["Check the VAT rules."]
    # again: the pushed comment is not imported back, nothing doubles; an archived conversation solves the ticket
    api.conversations["cnv_1"]["status"] = "archived"
    api.activity["cnv_1"] = api._tick()
    assert main(["sync", "front"]) == 0
    got = _tickets(session)
    assert got["front:cnv_1"].status == "solved"
    assert _events(session, c2.id, "internal_note") == ["Check the VAT rules."]
    assert session.scalar(select(func.count()).select_from(ProviderLink).where(ProviderLink.kind == "note")) == 1
    assert len(got) == 3


def test_a_status_set_in_aftercare_goes_out_and_is_not_undone_by_the_echo(zendesk, session):
    from core.tickets.providers import run_sync
    from core.tickets import service as tickets

    zendesk.add_ticket(7, subject="Login loop", description="I keep getting logged out.", requester_id=101)
    assert run_sync("zendesk").created == 1
    t = _tickets(session)["zendesk:7"]
    tickets.change_status(session=session, actor=zendesk.admin, ticket_id=t.id, version=None, status="solved",
                          reason="fixed by the 2.4.1 release")
    session.commit()
    assert run_sync("zendesk").error is None
    assert zendesk.tickets[7]["status"] == "solved"
    assert run_sync("zendesk").error is None  # the update comes back in the export
    assert _tickets(session)["zendesk:7"].status == "solved"


def test_unknown_requesters_are_imported_and_tickets_without_one_are_held_not_lost(zendesk, session, capsys):
    from core.accounts.models import Account, Contact
    from core.cli import main

    api = zendesk
    api.add_user(103, None, "Phone Caller", "end-user")  # e.g. a ticket from a phone call: no e-mail yet
    api.add_ticket(1, subject="Who am I", description="Stranger.", requester_id=102)
    api.add_ticket(2, subject="Call back please", description="Called about billing.", requester_id=103)
    api.add_ticket(3, subject="Known", description="Ana again.", requester_id=101)
    assert main(["sync", "zendesk"]) == 0
    out = capsys.readouterr().out
    assert "in: 2 created" in out and "no requester e-mail (held for retry): 1" in out
    assert "held for retry on the next pass: 1" in out
    got = _tickets(session)
    intake = session.scalar(select(Account).where(Account.key == "unassigned-senders"))
    assert got["zendesk:1"].account_id == intake.id
    contact = session.scalar(select(Contact).where(Contact.email == "nobody@nowhere.example"))
    assert contact.name == "Nobody" and contact.account_id == intake.id  # from the provider's requester data
    run = session.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
    assert run.counts["held"] == 1 and run.counts["unknown_requesters"] == 1
    # the export cursor moved past ticket 2, yet it is not lost: once the requester has an e-mail it comes in
    assert main(["sync", "zendesk"]) == 0
    assert "held for retry on the next pass: 1" in capsys.readouterr().out
    api.users[103]["email"] = "caller@phone.example"
    assert main(["sync", "zendesk"]) == 0
    out = capsys.readouterr().out
    assert "in: 1 created" in out and "held for retry" not in out
    assert _tickets(session)["zendesk:2"].subject == "Call back please"
    assert main(["sync", "zendesk"]) == 0
    assert "in: 0 created" in capsys.readouterr().out and len(_tickets(session)) == 3


def test_a_failed_note_does_not_resend_the_notes_already_pushed(front, session, capsys):
    from core.tickets.providers import run_sync
    from core.tickets import service as tickets

    api = front
    api.add_conversation("cnv_1", subject="Webhooks", requester="ana@acme.example", text="Retried forever.")
    assert run_sync("front").created == 1
    t = _tickets(session)["front:cnv_1"]
    for body in ("First note.", "Second note.", "Third note."):
        tickets.add_note(session=session, actor=api.admin, ticket_id=t.id, body=body)
    session.commit()
    api.fail_on = {("POST", "/conversations/cnv_1/comments"): (2, 500)}  # the second note fails
    result = run_sync("front")
    assert result.error and "HTTP 500" in result.error and result.notes_pushed == 1
    assert [c["body"] for c in api.comments["cnv_1"]] == ["First note."]
    result = run_sync("front")
    assert result.error is None and result.notes_pushed == 2
    assert [c["body"] for c in api.comments["cnv_1"]] == ["First note.", "Second note.", "Third note."]
    assert run_sync("front").notes_pushed == 0


def test_a_second_sync_while_one_runs_is_refused_with_a_clear_message(zendesk, session, capsys):
    from core.channels.jobs import zendesk_sync_job
    from core.channels.service import channel_lock
    from core.cli import main

    zendesk.add_ticket(1, subject="Slow", description="Details.", requester_id=101)
    with channel_lock("zendesk"):  # a pass is running (the worker, or "Sync now" on the settings page)
        assert main(["sync", "zendesk"]) == 2
        assert "another zendesk sync is running right now" in capsys.readouterr().err
        assert "another zendesk sync is running" in zendesk_sync_job()  # the worker skips, not a failure
        assert session.scalar(select(func.count()).select_from(SyncRun)) == 0
    assert zendesk.calls("GET", "/api/v2/incremental") == []
    assert main(["sync", "zendesk"]) == 0  # the lock is released with the pass
    assert "in: 1 created" in capsys.readouterr().out


def test_retry_after_is_waited_in_full(zendesk, session):
    from core.tickets.providers.base import Http, SyncResult
    from core.tickets.providers.zendesk import ZendeskProvider
    from core.channels.service import get_config

    slept = []

    def sleep(seconds):  # stands in for time.sleep: records the wait and lets it pass at once
        slept.append((seconds, len(zendesk.requests)))

    zendesk.add_ticket(1, subject="One", description="Details.", requester_id=101)
    zendesk.throttle, zendesk.retry_after = 1, "60"
    cfg = get_config(session=session, key="zendesk")
    http = Http(base_url=zendesk.url, auth=("sync@acme-support.example/token", "zd-token"), sleep=sleep)
    provider = ZendeskProvider(config=cfg, token="zd-token", http=http)
    result = SyncResult(provider="zendesk")
    provider.sync_in(result=result)
    provider.close()
    assert slept == [(60.0, 1)]  # the whole minute, and no second request before it was over
    assert result.created == 1 and http.rate_limited == 1


def test_a_longer_retry_after_stops_the_pass_cleanly_and_the_next_run_resumes(zendesk, session, capsys):
    from core.cli import main

    api = zendesk
    for i in range(1, 5):
        api.add_ticket(i, subject=f"Problem {i}", description=f"Details {i}.", requester_id=101)
    # the second export page answers 429 asking for an hour: more than one pass may wait
    api.fail_on, api.retry_after = {("GET", "/api/v2/incremental"): (2, 429)}, "3600"
    assert main(["sync", "zendesk"]) == 0
    out = capsys.readouterr().out
    assert "in: 2 created" in out and "stopped early: rate limited" in out and "asked to wait 3600s" in out
    run = session.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
    assert run.status == "ok" and "next run resumes from the stored cursor" in run.counts["stopped"]
    assert run.error is None
    api.requests.clear()
    assert main(["sync", "zendesk"]) == 0
    assert api.calls("GET", "/api/v2/incremental")[0][2] == {"cursor": "2", "include": "users"}
    assert sorted(_tickets(session)) == ["zendesk:1", "zendesk:2", "zendesk:3", "zendesk:4"]
