"""A customer files a ticket in the portal; a support lead finds it categorised and assigned, and reassigns it."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORD, login, wait_idle, wait_logged_in

pytestmark = pytest.mark.e2e


def test_customer_files_a_ticket_and_a_support_lead_reassigns_it(live_app, new_page):
    customer = new_page(viewport={"width": 1400, "height": 1000}, name="customer")
    login(customer, live_app["url"], "customer", DEMO_PASSWORD)
    expect(customer.get_by_role("heading", name="Support")).to_be_visible()
    wait_logged_in(customer)
    customer.get_by_label("Subject").fill("Workflow run crashes with error 500 every time")
    customer.get_by_label("What happened?").fill(
        "Each time I start the onboarding workflow it stops at step two with Internal Server Error 500. "
        "<script>alert('x')</script>")
    customer.get_by_text("Yes", exact=True).click()
    customer.get_by_role("button", name="Send request").click()
    thanks = customer.get_by_text(re.compile(r"Your request AC-\d+ was received"))
    expect(thanks).to_be_visible()
    ref = re.search(r"AC-\d+", thanks.inner_text()).group(0)
    customer.context.close()  # done with it; the fixture closes it anyway when the test fails first

    lead = new_page(viewport={"width": 1500, "height": 1200}, name="lead")
    login(lead, live_app["url"], "lead", DEMO_PASSWORD)
    expect(lead.get_by_role("heading", name="Overview")).to_be_visible()
    wait_logged_in(lead)
    lead.get_by_role("link", name="Ticket queue").click()
    expect(lead.get_by_role("heading", name="Ticket queue")).to_be_visible()
    wait_idle(lead)
    search = lead.get_by_label("Search subject and description, or a ticket number (AC-123)")
    search.fill(ref)
    search.press("Enter")
    heading = lead.get_by_role("heading", name=re.compile(rf"{ref}: Workflow run crashes"))
    expect(heading).to_be_visible()
    details = lead.get_by_text(re.compile(r"· bug \(model, confidence 0\.\d\d\) · Tech / "))
    expect(details).to_be_visible()  # categorised as a bug, routed to the tech team and an agent
    expect(lead.get_by_text("<script>alert('x')</script>", exact=False).first).to_be_visible()  # shown as text
    wait_idle(lead)

    form = lead.locator("[data-testid='stForm']").filter(has_text="Reassign")
    form.get_by_role("combobox", name="Agent").click()
    lead.get_by_role("option", name="Mei Chen").click()
    form.get_by_label("Reason (optional)").fill("Mei knows the workflow engine")
    form.get_by_role("button", name="Reassign").click()
    expect(lead.get_by_text(f"{ref} reassigned.")).to_be_visible()
    expect(lead.get_by_text(re.compile(r"· Tech / Mei Chen ·"))).to_be_visible()
