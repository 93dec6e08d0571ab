"""The feedback loop in a real browser: a customer rates in the portal, a product manager finds it and links it."""

import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, pool, text

from tests.e2e.conftest import DEMO_PASSWORD, login, wait_idle, wait_logged_in

pytestmark = pytest.mark.e2e


def _open(page, name: str) -> None:
    """Click a sidebar page link until its heading shows (a click during the first page's run can be lost)."""
    nav = page.get_by_role("link", name=name)
    expect(nav).to_be_visible(timeout=30_000)
    for _ in range(4):
        nav.click()
        try:
            expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=15_000)
            return
        except AssertionError:
            continue
    expect(page.get_by_role("heading", name=name)).to_be_visible()


def test_customer_rating_is_found_in_the_explorer_and_linked_to_the_roadmap(live_app, new_page):
    marker = f"e2e-{uuid.uuid4().hex[:8]}"
    comment = f"{marker} the <b>export</b> button is hidden"

    customer = new_page(viewport={"width": 1400, "height": 1000}, name="customer")
    login(customer, live_app["url"], "customer", DEMO_PASSWORD)
    expect(customer.get_by_role("heading", name="Support")).to_be_visible(timeout=30_000)
    wait_logged_in(customer)  # the login cookie's rerun would swallow a form sent before it
    customer.get_by_role("tab", name="Feedback").click()
    form = customer.locator('[data-testid="stForm"]').filter(has_text="Your rating")
    form.get_by_text("★★☆☆☆", exact=True).click()
    form.get_by_label("Tell us more (optional)").fill(comment)
    form.get_by_role("button", name="Send feedback").click()
    expect(customer.get_by_text("Your feedback reaches our product team")).to_be_visible(timeout=30_000)
    customer.context.close()  # done with it; the fixture closes it anyway when the test fails first

    pm = new_page(viewport={"width": 1400, "height": 1000}, name="pm")
    login(pm, live_app["url"], "pm", DEMO_PASSWORD)
    wait_logged_in(pm)
    _open(pm, "Feedback & NPS")
    pm.get_by_role("tab", name="Explorer").click()
    search = pm.get_by_label("Search comments, pages, accounts, contacts")
    search.fill(marker)
    search.press("Enter")
    expect(pm.get_by_text("1 feedback items")).to_be_visible(timeout=30_000)
    wait_idle(pm)  # a pick made while the search's run is still drawing the form is reset by that run
    link_form = pm.locator('[data-testid="stForm"]').filter(has_text="Feedback items (select rows above")
    picker = link_form.locator('[data-testid="stMultiSelect"] input')
    expect(picker).to_be_visible(timeout=30_000)
    picker.click()
    picker.fill(marker)                                   # filter the options to this item
    option = pm.get_by_role("option", name=re.compile(marker))
    option.click()
    pm.keyboard.press("Escape")
    expect(link_form.get_by_text(re.compile(marker)).first).to_be_visible(timeout=15_000)  # the chosen item
    target = link_form.get_by_role("combobox", name="Roadmap item")  # nothing is picked for the PM
    target.click()
    target.press("ArrowDown")
    target.press("Enter")
    expect(link_form.get_by_text("Choose a roadmap item")).to_have_count(0)
    link_form.get_by_role("button", name="Link", exact=True).click()
    expect(pm.get_by_text("Linked 1 feedback item(s)")).to_be_visible(timeout=45_000)
    pm.context.close()

    engine = create_engine(live_app["database_url"], poolclass=pool.NullPool)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT f.kind, f.score, f.page, count(l.id) FROM feedback_items f "
                                "LEFT JOIN roadmap_links l ON l.feedback_item_id = f.id "
                                "WHERE f.comment = :c GROUP BY f.id"), {"c": comment}).one()
    engine.dispose()
    assert row[0] == "rating" and row[1] == 2 and row[2] and row[3] == 1
