"""Roadmap notices: each linked person hears once per item per change, by mail and in the portal."""

from __future__ import annotations

from sqlalchemy import select

from core.feedback import service as feedback
from core.feedback.models import FeedbackItem
from core.loop import roadmap
from core.mail.models import OutboxMessage


def _mails(session, kind):
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


def test_in_progress_and_shipped_tell_each_person_once(session, make_user, make_contact, make_ticket, account):
    pm = make_user("pm")
    ana, bob, eva = make_contact(name="Ana"), make_contact(name="Bob", language="es"), make_contact(name="Eva")
    t1 = make_ticket(ana, category="feature", subject="Dark mode please")
    t2 = make_ticket(ana, category="feature", subject="Dark mode again")   # Ana is linked twice
    t3 = make_ticket(bob, category="feature", subject="Modo oscuro")
    fb = FeedbackItem(kind="rating", score=2, comment="needs dark mode", account_id=account.id, contact_id=eva.id)
    fb_ana = FeedbackItem(kind="rating", score=3, comment="dark!", account_id=account.id, contact_id=ana.id)
    anon = FeedbackItem(kind="rating", score=3, comment="anonymous", account_id=account.id)
    session.add_all([fb, fb_ana, anon])
    session.flush()
    item = feedback.create_roadmap_item(session=session, actor=pm, title="Dark mode")
    for t in (t1, t2, t3):
        feedback.link_ticket(session=session, actor=pm, roadmap_item_id=item.id, ticket_id=t.id)
    for f in (fb, fb_ana, anon):
        feedback.link_feedback(session=session, actor=pm, roadmap_item_id=item.id, feedback_item_id=f.id)
    session.commit()

    feedback.set_roadmap_status(session=session, actor=pm, roadmap_item_id=item.id, status="in_progress")
    started = _mails(session, "roadmap_in_progress")
    assert sorted(m.to_addr for m in started) == sorted([ana.email, bob.email, eva.email])
    assert any(m.to_addr == bob.email and m.subject.endswith("Hemos empezado a trabajar en: Dark mode") for m in started)

    # Moving back and forth, and shipping twice, tells nobody a second time.
    feedback.set_roadmap_status(session=session, actor=pm, roadmap_item_id=item.id, status="planned")
    feedback.set_roadmap_status(session=session, actor=pm, roadmap_item_id=item.id, status="in_progress")
    feedback.set_roadmap_status(session=session, actor=pm, roadmap_item_id=item.id, status="shipped")
    feedback.set_roadmap_status(session=session, actor=pm, roadmap_item_id=item.id, status="in_progress")
    feedback.set_roadmap_status(session=session, actor=pm, roadmap_item_id=item.id, status="shipped")
    session.commit()
    assert len(_mails(session, "roadmap_in_progress")) == 3
    shipped = _mails(session, "roadmap_shipped")
    assert sorted(m.to_addr for m in shipped) == sorted([ana.email, bob.email, eva.email])
    ana_mail = next(m for m in shipped if m.to_addr == ana.email)
    assert f"AC-{t1.id}" in ana_mail.subject and "Hello Ana" in ana_mail.body

    told = roadmap.told_for_item(session=session, roadmap_item_id=item.id)
    assert sorted((r["name"], r["change"]) for r in told) == sorted(
        (n, c) for n in ("Ana", "Bob", "Eva") for c in ("in_progress", "shipped"))
    from core.loop.outcomes import ticket_outcomes

    assert [(r["title"], r["status"]) for r in ticket_outcomes(session=session, ticket_id=t3.id)["roadmap"]] == [
        ("Dark mode", "shipped")]
    notes = roadmap.notes_for_contact(session=session, contact_id=eva.id)
    assert [n["change"] for n in notes] == ["shipped", "in_progress"] and notes[0]["title"] == "Dark mode"


def test_a_title_with_braces_is_sent_as_written(session, make_user, make_contact, make_ticket):
    pm = make_user("pm")
    c = make_contact(name="{title}")
    t = make_ticket(c, category="feature")
    item = feedback.create_roadmap_item(session=session, actor=pm, title="Export {name} {0.__class__}")
    feedback.link_ticket(session=session, actor=pm, roadmap_item_id=item.id, ticket_id=t.id)
    feedback.set_roadmap_status(session=session, actor=pm, roadmap_item_id=item.id, status="shipped")
    [mail] = _mails(session, "roadmap_shipped")
    assert "Hello {title}," in mail.body and '"Export {name} {0.__class__}"' in mail.body
