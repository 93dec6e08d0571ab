"""The macros page for support leads (not agents), applying a macro from the queue, the portal's outcomes."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core.loop import macros
from core.loop.models import Macro, MacroUse

APP = "../../app.py"


def _open(role: str, username: str, page: str) -> AppTest:
    import streamlit as st

    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    at.session_state["name"] = username
    at.session_state["roles"] = [role]
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def page_env(db_url, monkeypatch):
    monkeypatch.setenv("AUTH_LOGIN_SLEEP", "0")
    monkeypatch.setenv("PROMETHEUS_URL", "http://127.0.0.1:9")


def test_a_lead_adds_a_macro_on_the_page_and_an_agent_may_not_open_it(page_env, session, make_user):
    lead = make_user("support_lead", username="lead")
    make_user("agent", username="agent")
    at = _open("support_lead", "lead", "pages/macros.py")
    assert at.title[0].value == "Macros"
    form_inputs = [t for t in at.text_input if t.label == "Title"]
    form_inputs[-1].input("Greeting <b>")
    links = [t for t in at.text_area if t.label.startswith("Documentation links")]
    links[-1].input("Help centre | https://docs.example.com/help")
    next(b for b in at.button if b.label == "Add macro").click().run()
    assert not at.exception, [e.value for e in at.exception]
    m = session.scalar(select(Macro).where(Macro.title == "Greeting <b>"))
    assert m is not None and m.doc_links == [{"title": "Help centre", "url": "https://docs.example.com/help"}]
    assert m.created_by == lead.id

    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "agent"
    at.session_state["name"] = "agent"
    at.session_state["roles"] = ["agent"]
    at.run()
    with pytest.raises(ValueError):
        at.switch_page("pages/macros.py").run()


def test_an_agent_applies_a_macro_from_the_queue_and_the_portal_shows_the_article(
        page_env, session, make_user, make_contact, make_ticket):
    lead = make_user("support_lead", username="lead")
    make_user("agent", username="agent")
    contact = make_contact(name="Ana")
    ticket = make_ticket(contact, category="question", subject="How to export")
    m = macros.create_macro(session=session, actor=lead, title="Export how-to", body="Hi {requester_name}",
                            doc_links=[{"title": "Exporting data", "url": "https://docs.example.com/export"}])
    session.commit()
    customer = make_user("customer", username="ana", contact_id=contact.id)

    at = _open("agent", "agent", "pages/queue.py")
    at.text_input[0].input(f"AC-{ticket.id}").run()
    assert not at.exception, [e.value for e in at.exception]
    next(b for b in at.button if b.label == "Send as public reply").click().run()
    assert "Choose a macro first." in [e.value for e in at.error]  # nothing is picked for the agent
    next(b for b in at.selectbox if b.label == "Macro").set_value(m.id)
    next(b for b in at.button if b.label == "Send as public reply").click().run()
    assert not at.exception, [e.value for e in at.exception]
    session.expire_all()
    assert session.scalar(select(MacroUse.macro_id)) == m.id

    at = _open("customer", customer.username, "pages/portal.py")
    texts = [t.value for t in at.text]
    assert any("Answered with the article: Exporting data (https://docs.example.com/export)" in v for v in texts)


def test_the_roadmap_tab_shows_who_was_told(page_env, session, make_user, make_contact, make_ticket):
    from core.feedback import service as feedback

    pm = make_user("pm", username="pm")
    ana = make_contact(name="Ana <i>")
    ticket = make_ticket(ana, category="feature", subject="Dark mode")
    item = feedback.create_roadmap_item(session=session, actor=pm, title="Dark mode")
    feedback.link_ticket(session=session, actor=pm, roadmap_item_id=item.id, ticket_id=ticket.id)
    feedback.set_roadmap_status(session=session, actor=pm, roadmap_item_id=item.id, status="shipped")
    session.commit()

    at = _open("pm", "pm", "pages/feedback.py")
    told = [df.value for df in at.dataframe if "email" in getattr(df.value, "columns", [])]
    assert told and told[0]["name"].tolist() == ["Ana <i>"] and told[0]["change"].tolist() == ["shipped"]
