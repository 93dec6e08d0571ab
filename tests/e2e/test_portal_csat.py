"""A customer files a ticket, support solves it, and the customer rates it from the link in the CSAT mail."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, pool, select
from sqlalchemy.orm import Session

from tests.e2e.conftest import DEMO_PASSWORD, login, wait_idle, wait_logged_in

pytestmark = pytest.mark.e2e


def test_customer_files_a_ticket_and_rates_it_once_solved(live_app, new_page):
    from core.auth.models import User
    from core.feedback.models import FeedbackItem
    from core.mail.models import OutboxMessage
    from core.tickets import service

    page = new_page(viewport={"width": 1400, "height": 1000}, name="customer")
    login(page, live_app["url"], "customer", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Support")).to_be_visible()
    wait_logged_in(page)
    page.get_by_label("Subject").fill("Invoice PDF shows last month's seat count")
    page.get_by_label("What happened?").fill("The November invoice lists 12 seats; we have had 15 since October.")
    page.get_by_role("button", name="Send request").click()
    thanks = page.get_by_text(re.compile(r"Your request AC-\d+ was received"))
    expect(thanks).to_be_visible()
    ref = re.search(r"AC-\d+", thanks.inner_text()).group(0)
    ticket_id = int(ref.split("-")[1])

    # Support answers and solves it (the service the queue page calls); the CSAT request goes out by mail.
    engine = create_engine(live_app["database_url"], poolclass=pool.NullPool)
    try:
        with Session(engine) as s:
            lead = s.scalar(select(User).where(User.username == "lead"))
            service.public_reply(session=s, actor=lead, ticket_id=ticket_id, status="solved",
                                 body="Fixed: the invoice now shows 15 seats. A corrected PDF is attached to your account.")
            s.commit()
            mail = s.scalar(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket_id,
                                                        OutboxMessage.kind == "csat_request"))
            assert mail is not None, "solving the ticket queues the CSAT request"
            link = re.search(r"https?://\S*/portal\?csat=\d+", mail.body).group(0)
    finally:
        engine.dispose()

    page.goto(live_app["url"] + "/portal?" + link.split("?", 1)[1])  # the mail's link, on this app's address
    expect(page.get_by_role("heading", name="Rate your solved requests")).to_be_visible()
    wait_idle(page)
    form = page.locator('[data-testid="stForm"]').filter(has_text=f"{ref}:")
    expect(form).to_be_visible()
    form.get_by_text("★★★★★", exact=True).click()
    form.get_by_label("Anything to add? (optional)").fill("Quick and clear, thanks")
    form.get_by_role("button", name="Send rating").click()
    expect(page.get_by_text(f"Thank you! Your rating of {ref} was saved.")).to_be_visible()

    engine = create_engine(live_app["database_url"], poolclass=pool.NullPool)
    try:
        with Session(engine) as s:
            item = s.scalar(select(FeedbackItem).where(FeedbackItem.ticket_id == ticket_id, FeedbackItem.kind == "csat"))
            assert (item.score, item.comment) == (5, "Quick and clear, thanks")
    finally:
        engine.dispose()
