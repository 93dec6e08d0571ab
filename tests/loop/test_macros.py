"""Macros: placeholders filled as plain text, nothing user-controlled interpreted, status change, usage, permissions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditLog
from core.auth.roles import PermissionDenied
from core.loop import macros
from core.loop.macros import MacroError
from core.loop.models import Macro
from core.mail.models import OutboxMessage
from core.tickets.models import TicketEvent

LINKS = [{"title": "Exporting data", "url": "https://docs.example.com/export"}]


def test_a_macro_reply_fills_placeholders_and_never_interprets_user_text(session, make_user, make_contact, make_ticket):
    lead, agent = make_user("support_lead"), make_user("agent")
    requester = make_contact(name="{agent_name} <script>alert(1)</script>")
    ticket = make_ticket(requester, category="question")
    macro = macros.create_macro(
        session=session, actor=lead, title="Export how-to", language="en", status="pending", doc_links=LINKS,
        body="Hi {requester_name}, about {ticket_number} for {account_name}: see below. {0.__class__} "
             "{requester_name!r:>40} {unknown}\n-- {agent_name}")
    session.commit()

    ev = macros.apply_macro(session=session, actor=agent, ticket_id=ticket.id, macro_id=macro.id)
    session.commit()

    expected_start = (f"Hi {{agent_name}} <script>alert(1)</script>, about AC-{ticket.id} for Acme Corp: see below. "
                      "{0.__class__} {requester_name!r:>40} {unknown}\n-- " + agent.name)
    assert ev.body.startswith(expected_start)
    assert "Documentation:\n- Exporting data: https://docs.example.com/export" in ev.body
    assert ev.public and ev.data["macro_id"] == macro.id and ev.data["doc_links"] == LINKS
    mail = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "public_reply"))
    assert mail.to_addr == requester.email and expected_start in mail.body
    session.refresh(ticket)
    assert ticket.status == "pending" and ticket.first_response_at is not None
    session.refresh(macro)
    assert macro.usage_count == 1
    top = macros.most_used(session=session)
    assert top[0]["title"] == "Export how-to" and top[0]["uses"] == 1
    assert [u["title"] for u in macros.ticket_macro_uses(session=session, ticket_id=ticket.id)] == ["Export how-to"]
    assert session.scalar(select(AuditLog.action).where(AuditLog.action == "macro.apply")) == "macro.apply"


def test_spanish_macro_links_are_headed_in_spanish(session, make_user, make_contact, make_ticket):
    lead = make_user("support_lead")
    ticket = make_ticket(make_contact(name="Lucía", language="es"), category="question")
    m = macros.create_macro(session=session, actor=lead, title="Exportar", language="es", doc_links=LINKS,
                            body="Hola {requester_name}, gracias por escribir.")
    text = macros.preview(session=session, actor=lead, ticket_id=ticket.id, macro_id=m.id)
    assert text.startswith("Hola Lucía, gracias por escribir.") and "Documentación:" in text


def test_agents_cannot_manage_macros_and_bad_input_stores_nothing(session, make_user):
    agent, lead, admin = make_user("agent"), make_user("support_lead"), make_user("admin")
    with pytest.raises(PermissionDenied):
        macros.create_macro(session=session, actor=agent, title="Mine", body="hello")
    m = macros.create_macro(session=session, actor=admin, title="Greeting", body="Hello {requester_name}")
    session.commit()
    with pytest.raises(PermissionDenied):
        macros.edit_macro(session=session, actor=agent, macro_id=m.id, title="x", body="y")
    with pytest.raises(PermissionDenied):
        macros.delete_macro(session=session, actor=agent, macro_id=m.id)
    for bad, match in [(dict(title="", body="x"), "title"), (dict(title="t", body="x", language="fr"), "language"),
                       (dict(title="t", body="x", status="closed"), "status"),
                       (dict(title="t", body="x", doc_links=[{"title": "x", "url": "javascript:alert(1)"}]), "http"),
                       (dict(title="Greeting", body="again"), "exists already")]:
        with pytest.raises(MacroError, match=match):
            macros.create_macro(session=session, actor=lead, **bad)
    assert session.scalar(select(func.count()).select_from(Macro)) == 1
    macros.edit_macro(session=session, actor=lead, macro_id=m.id, title="Greeting", body="Hi!", language="en")
    macros.delete_macro(session=session, actor=lead, macro_id=m.id)
    assert session.scalar(select(func.count()).select_from(Macro)) == 0
    assert macros.parse_links("Docs | https://d.example/a\n\n") == [{"title": "Docs", "url": "https://d.example/a"}]
    with pytest.raises(MacroError, match="Title"):
        macros.parse_links("no separator")


def test_a_customer_cannot_apply_a_macro(session, make_user, make_contact, make_ticket):
    lead = make_user("support_lead")
    ticket = make_ticket(make_contact(), category="question")
    m = macros.create_macro(session=session, actor=lead, title="Hello", body="Hello")
    session.commit()
    customer = make_user("customer")
    with pytest.raises(PermissionDenied):
        macros.apply_macro(session=session, actor=customer, ticket_id=ticket.id, macro_id=m.id)
    assert session.scalar(select(func.count()).select_from(TicketEvent)) == 0
