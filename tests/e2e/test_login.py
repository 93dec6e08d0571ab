"""The login page, role-based access and the overview, in a real browser against the real app."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, login, wait_logged_in

pytestmark = pytest.mark.e2e


def test_admin_logs_in_and_sees_the_overview_with_numbers(live_app, page):
    login(page, live_app["url"], "admin", ADMIN_PASSWORD)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_text("First response (median)")).to_be_visible()
    expect(page.get_by_text("Tickets per day")).to_be_visible()


def test_agent_cannot_reach_an_ops_page_even_by_url(live_app, page):
    login(page, live_app["url"], "agent", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_role("link", name="Backups")).to_have_count(0)
    wait_logged_in(page)  # the cookie, so loading an address logs the agent straight back in
    page.goto(live_app["url"] + "/backups")
    # The cookie logs the agent back in; the address is not in the agent's navigation, so the agent's own
    # default page opens instead, and nothing of the backups page renders.
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_role("heading", name="Backups")).to_have_count(0)
    expect(page.get_by_role("button", name="Back up now")).to_have_count(0)


def test_a_wrong_password_shows_an_error_and_no_console(live_app, page):
    login(page, live_app["url"], "admin", "not-the-password")
    expect(page.get_by_text("Wrong username or password.")).to_be_visible()
    expect(page.get_by_role("heading", name="Overview")).to_have_count(0)


def test_logout_returns_to_the_login_form_and_a_reload_stays_logged_out(live_app, page):
    login(page, live_app["url"], "lead", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    wait_logged_in(page)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("textbox", name="Username")).to_be_visible()
    page.wait_for_function("() => !document.cookie.includes('aftercare_auth=')")  # the cookie is gone
    page.reload()
    expect(page.get_by_role("textbox", name="Username")).to_be_visible()
    expect(page.get_by_role("heading", name="Overview")).to_have_count(0)
