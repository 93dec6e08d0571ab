"""The feedback page and the portal widget through app.py (AppTest): reading, linking, rating, permissions, text safety."""

from __future__ import annotations

from sqlalchemy import select

from core.db import session_scope
from core.feedback.models import FeedbackItem, RoadmapItem, RoadmapLink
from core.ui.widgets import md_escape
import random
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from tests.conftest import TEMPLATE

PAGE = "pages/feedback.py"
PORTAL = "pages/portal.py"
NASTY = "**bold** <img src=x onerror=alert(1)> [link](http://evil.example)"


USERNAMES = {"pm": "pm", "support_lead": "lead", "customer": "customer"}


@pytest.fixture(scope="module")
def feedback_db_url(pg_server_url, template_url):
    """A database with staff, accounts, tickets and the feedback demo data; DATABASE_URL points at it."""
    from core.accounts.models import Account, Contact
    from core.auth.service import create_user
    from core.config import get_settings
    from core.db import reset_engines
    from core.feedback import demo
    from core.tickets.models import Ticket

    name = f"fb_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server_url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
    url = make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    mp = pytest.MonkeyPatch()
    mp.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    reset_engines()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    rng = random.Random(5)
    with session_scope() as s:
        lead = create_user(session=s, actor="system", username="lead", name="Lead", email="lead@x.example",
                           role="support_lead", password="password123")
        create_user(session=s, actor="system", username="pm", name="PM", email="pm@x.example", role="pm",
                    password="password123")
        contacts = []
        for i in range(12):
            plan = ["starter", "pro", "enterprise", "free"][i % 4]
            acc = Account(key=f"acc{i}", name=f"Account {i}", plan=plan,
                          mrr=Decimal({"free": 0, "starter": 99, "pro": 499, "enterprise": 2500}[plan]),
                          started_at=now - timedelta(days=300), owner_user_id=lead.id)
            s.add(acc)
            s.flush()
            for j in range(3):
                c = Contact(account_id=acc.id, email=f"c{j}@acc{i}.example", name=f"C{j}", language="es" if i % 3 else "en")
                s.add(c)
                contacts.append(c)
        s.flush()
        create_user(session=s, actor="system", username="customer", name="Customer", email=contacts[0].email,
                    role="customer", password="password123", contact_id=contacts[0].id)
        for i in range(80):
            c = rng.choice(contacts)
            created = now - timedelta(days=rng.uniform(1, 80))
            s.add(Ticket(account_id=c.account_id, requester_id=c.id, subject="Export to CSV", description="d",
                         channel="portal", status="closed", priority="medium", category=rng.choice(["bug", "feature"]),
                         category_source="human", created_at=created, solved_at=created + timedelta(hours=5)))
        s.flush()
        demo.seed(session=s, rng=random.Random(7), now=now, days=90, tickets=300)
    yield url
    reset_engines()
    mp.undo()
    get_settings.cache_clear()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def app_as(feedback_db_url):
    """Factory: app_as(role) -> an AppTest of app.py, run once, logged in as that role's user."""
    from streamlit.testing.v1 import AppTest

    def _make(role: str):
        at = AppTest.from_file("../../app.py", default_timeout=60)
        at.session_state["authentication_status"] = True
        at.session_state["username"] = USERNAMES[role]
        at.session_state["name"] = USERNAMES[role]
        at.session_state["roles"] = [role]
        at.run()
        return at

    return _make


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def test_pm_sees_measures_and_links_feedback_from_the_explorer(app_as):
    at = app_as("pm")
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Feedback & NPS"
    assert {m.label for m in at.metric} >= {"NPS", "CSAT (4-5 share)", "Monthly churn", "Feedback implemented"}

    with session_scope() as s:
        target = s.scalar(select(RoadmapItem.id).where(RoadmapItem.status == "planned").limit(1))
    at.text_input(key="fb_search").input("export").run()
    link_form = next(ms for ms in at.multiselect if ms.label.startswith("Feedback items"))
    options = link_form.options
    assert options, "the search should find feedback about exports"
    fid = int(options[0].split(" ")[0].lstrip("#"))
    link_form.select(options[0])
    next(sb for sb in at.selectbox if sb.label == "Roadmap item").set_value(target)
    _button(at, "Link").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    with session_scope() as s:
        assert s.scalar(select(RoadmapLink.id).where(RoadmapLink.feedback_item_id == fid,
                                                     RoadmapLink.roadmap_item_id == target))


def test_support_lead_reads_but_cannot_link(app_as):
    at = app_as("support_lead")
    at.switch_page(PAGE).run()
    assert not at.exception
    assert "Link" not in [b.label for b in at.button]
    assert "Add" not in [b.label for b in at.button]


def test_customer_rates_in_the_portal_and_comments_stay_text(app_as):
    at = app_as("customer")
    at.switch_page(PORTAL).run()
    assert not at.exception, [e.value for e in at.exception]
    _button(at, "Send feedback").click().run()                       # no stars chosen: a message, nothing stored
    assert "Choose from 1 to 5 stars." in [e.value for e in at.error]
    area = next(t for t in at.text_area if t.label == "Tell us more (optional)")
    area.input(NASTY)
    radio = next(r for r in at.radio if r.label == "Your rating")
    radio.set_value(2)
    _button(at, "Send feedback").click().run()
    assert not at.exception, [e.value for e in at.exception]
    with session_scope() as s:
        item = s.scalar(select(FeedbackItem).where(FeedbackItem.comment == NASTY))
        assert item is not None and item.kind == "rating" and item.score == 2 and item.page

    pm = app_as("pm")
    pm.switch_page(PAGE).run()
    pm.text_input(key="fb_search").input("onerror").run()
    assert not pm.exception
    # The comment is in the explorer's table, and never rendered as Markdown or HTML anywhere.
    frames = [df.value for df in pm.dataframe]
    assert any((f["comment"] == NASTY).any() for f in frames if "comment" in f)
    assert all("onerror" not in md.value for md in pm.markdown)


def test_customer_answers_the_nps_survey_and_rates_a_solved_ticket(app_as):
    from core.accounts.models import Contact
    from core.auth.models import User
    from core.feedback.models import CsatRequest
    from core.feedback.service import request_csat
    from core.tickets.models import Ticket

    with session_scope() as s:
        customer = s.scalar(select(User).where(User.username == "customer"))
        ticket = Ticket(account_id=s.get(Contact, customer.contact_id).account_id,
                        requester_id=customer.contact_id, subject="Webhook <b>stopped</b>", description="d",
                        channel="portal", status="solved", priority="medium", category="bug", category_source="human",
                        solved_at=datetime.now(timezone.utc))
        s.add(ticket)
        s.flush()
        request_csat(session=s, ticket=ticket)
        tid = ticket.id

    at = app_as("customer")
    at.switch_page(PORTAL).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(t.value == f"AC-{tid}: Webhook <b>stopped</b>" for t in at.text)   # the subject shown as text
    next(r for r in at.radio if r.key == f"csat_score_{tid}").set_value(4)
    next(b for b in at.button if b.label == "Send rating" and b.form_id == f"csat_{tid}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    with session_scope() as s:
        item = s.scalar(select(FeedbackItem).where(FeedbackItem.ticket_id == tid))
        assert (item.kind, item.score) == ("csat", 4)
        assert s.scalar(select(CsatRequest.answered_at).where(CsatRequest.ticket_id == tid)) is not None

    nps = next(r for r in at.radio if r.label.startswith("How likely"))
    nps.set_value(3)
    next(t for t in at.text_area if t.label == "Why?").input("Too many outages")
    _button(at, "Send answer").click().run()
    assert not at.exception, [e.value for e in at.exception]
    with session_scope() as s:
        answer = s.scalar(select(FeedbackItem).where(FeedbackItem.kind == "nps",
                                                     FeedbackItem.contact_id == customer.contact_id))
        assert (answer.score, answer.comment) == (3, "Too many outages")
    assert not [r for r in at.radio if r.label.startswith("How likely")]  # not offered again


def _ticket_widget(username, ticket_id):
    from sqlalchemy import select

    from core.auth.models import User
    from core.db import session_scope
    from core.ui.feedback import render_ticket_roadmap

    with session_scope() as s:
        user = s.scalar(select(User).where(User.username == username))
        s.expunge(user)
    render_ticket_roadmap(user, ticket_id)


def test_a_ticket_is_linked_to_the_roadmap_from_its_page(feedback_db_url):
    from streamlit.testing.v1 import AppTest

    from core.tickets.models import Ticket

    with session_scope() as s:
        tid = s.scalar(select(Ticket.id).where(~Ticket.id.in_(select(RoadmapLink.ticket_id).where(
            RoadmapLink.ticket_id.is_not(None)))).limit(1))
        planned = s.scalar(select(RoadmapItem).where(RoadmapItem.status == "planned").limit(1))
        rid, title = planned.id, planned.title
    lead = AppTest.from_function(_ticket_widget, args=("lead", tid)).run()
    assert not lead.exception and not lead.button                       # may see, may not link
    pm = AppTest.from_function(_ticket_widget, args=("pm", tid)).run()
    pm.selectbox[0].set_value(rid)
    next(b for b in pm.button if b.label == "Link to roadmap").click().run()
    assert not pm.exception, [e.value for e in pm.exception]
    with session_scope() as s:
        assert s.scalar(select(RoadmapLink.id).where(RoadmapLink.ticket_id == tid, RoadmapLink.roadmap_item_id == rid))
    again = AppTest.from_function(_ticket_widget, args=("lead", tid)).run()
    assert f"Roadmap: {title} (planned)" in [t.value for t in again.text]


def _my_followups(username):
    from sqlalchemy import select

    from core.auth.models import User
    from core.db import session_scope
    from core.ui.feedback import render_my_followups

    with session_scope() as s:
        user = s.scalar(select(User).where(User.username == username))
        s.expunge(user)
    render_my_followups(user)


def test_an_owner_closes_a_follow_up_from_their_own_list(feedback_db_url):
    from streamlit.testing.v1 import AppTest

    from core.feedback.models import DetractorFollowUp

    at = AppTest.from_function(_my_followups, args=("lead",)).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.subheader and at.subheader[0].value.startswith("Detractor follow-ups for you")
    first = at.text_input[0]
    fid = int(first.key.rsplit("_", 1)[1])
    first.input("Called them, fix ships Friday")
    next(b for b in at.button if b.form_id == f"my_followup_{fid}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    with session_scope() as s:
        fu = s.get(DetractorFollowUp, fid)
        assert (fu.status, fu.note) == ("done", "Called them, fix ships Friday")
    assert not AppTest.from_function(_my_followups, args=("pm",)).run().subheader  # owns no accounts


def test_nps_charts_ring_the_months_with_too_few_answers(app_as):
    import json

    from core.feedback import measures
    from core.ui.feedback import period

    start, end = period(6)
    with session_scope() as s:
        few_by_plan = [r for r in measures.nps_by_month(session=s, start=start, end=end, by_plan=True) if r["too_few"]]
    assert few_by_plan, "twelve accounts give some plan a month of fewer than 30 answers"
    at = app_as("pm")
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    specs = {json.loads(c.proto.spec)["layout"]["title"]["text"]: json.loads(c.proto.spec) for c in at.get("plotly_chart")
             if json.loads(c.proto.spec)["layout"].get("title")}
    rings = [t for t in specs["NPS by month and plan"]["data"] if t.get("name") == "too few to trust (n<30)"]
    assert len(rings) == 1 and rings[0]["marker"]["symbol"] == "circle-open"
    assert sorted(rings[0]["text"]) == sorted(f"{r['plan']}: n={r['responses']}" for r in few_by_plan)
    assert any(c.value.startswith("Ringed points rest on fewer than 30 answers") for c in at.caption)
    nps_caption = next(c.value for c in at.caption if c.value.endswith("responses") or "too few to trust" in c.value)
    assert "responses" in nps_caption


def _tab_container_of(at, label):
    """The st.tabs block holding a tab with this label (its proto says which tab opens first)."""
    def walk(node):
        if getattr(node, "type", None) == "tab_container" and any(
                getattr(c, "label", None) == label for c in node.children.values()):
            return node
        for child in getattr(node, "children", {}).values():
            found = walk(child)
            if found is not None:
                return found
        return None

    return walk(at._tree)


def test_the_csat_mail_link_opens_the_rating_of_that_ticket_first(app_as):
    from core.accounts.models import Contact
    from core.auth.models import User
    from core.feedback.service import request_csat
    from core.tickets.models import Ticket

    with session_scope() as s:
        customer = s.scalar(select(User).where(User.username == "customer"))
        account_id = s.get(Contact, customer.contact_id).account_id
        ids = []
        for subject in ("Older export", "Login **loop**"):
            t = Ticket(account_id=account_id, requester_id=customer.contact_id, subject=subject, description="d",
                       channel="portal", status="solved", priority="medium", category="bug", category_source="human",
                       solved_at=datetime.now(timezone.utc) - timedelta(hours=len(ids)))
            s.add(t)
            s.flush()
            request_csat(session=s, ticket=t)
            ids.append(t.id)
    linked = ids[1]
    at = app_as("customer")
    at.switch_page(PORTAL)
    at.query_params["csat"] = str(linked)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    tabs = _tab_container_of(at, "Feedback")
    assert [t.label for t in tabs.children.values()][tabs.proto.tab_container.default_tab_index] == "Feedback"
    forms = [r.key for r in at.radio if (r.key or "").startswith("csat_score_")]
    assert forms[0] == f"csat_score_{linked}"                                   # the mailed ticket's rating first
    first_prompt = next(t.value for t in at.text if t.value.startswith("AC-"))
    assert first_prompt == f"AC-{linked}: Login **loop**"                       # shown as text

    plain = app_as("customer")
    plain.switch_page(PORTAL).run()
    tabs = _tab_container_of(plain, "Feedback")
    assert tabs.proto.tab_container.default_tab_index == 0                      # no link: the first tab

    gone = app_as("customer")
    gone.switch_page(PORTAL)
    gone.query_params["csat"] = "999999"
    gone.run()
    assert any("AC-999999 has nothing to rate here" in i.value for i in gone.info)


def test_the_portal_shows_ticket_subjects_as_text_and_records_where_feedback_was_given(app_as):
    from core.accounts.models import Contact
    from core.auth.models import User
    from core.tickets.models import Ticket

    with session_scope() as s:
        customer = s.scalar(select(User).where(User.username == "customer"))
        t = Ticket(account_id=s.get(Contact, customer.contact_id).account_id, requester_id=customer.contact_id,
                   subject="# Big *bold* [x](http://evil.example)", description="d", channel="portal", status="open",
                   priority="medium", category="bug", category_source="human")
        s.add(t)
        s.flush()
        tid = t.id
    at = app_as("customer")
    at.switch_page(PORTAL)
    at.query_params["from"] = "/agents/builder"
    at.run()
    next(sb for sb in at.selectbox if sb.label == "Request").set_value(tid).run()
    assert not at.exception, [e.value for e in at.exception]
    heading = next(h.value for h in at.subheader if h.value.startswith(f"AC-{tid}"))
    assert heading == f"AC-{tid}: " + md_escape("# Big *bold* [x](http://evil.example)")
    next(r for r in at.radio if r.label == "Your rating").set_value(5)
    next(t for t in at.text_area if t.label == "Tell us more (optional)").input("page check")
    _button(at, "Send feedback").click().run()
    assert not at.exception, [e.value for e in at.exception]
    with session_scope() as s:
        item = s.scalar(select(FeedbackItem).where(FeedbackItem.comment == "page check"))
        assert item.page == "/agents/builder"
