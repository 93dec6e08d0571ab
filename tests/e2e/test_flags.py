"""The Feature flags page in a real browser: an ops user changes a rollout with a reason and finds it in the
history, flips a kill switch and toggles a flag with its confirmation; an agent does not see the page."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORD, login, wait_idle, wait_logged_in

pytestmark = pytest.mark.e2e


def _open_flags(page, live_app) -> None:
    login(page, live_app["url"], "ops", DEMO_PASSWORD)
    wait_logged_in(page)  # a click during the login cookie's rerun is dropped
    page.get_by_role("link", name="Feature flags").click()
    expect(page.get_by_role("heading", name="Feature flags", exact=True)).to_be_visible()


def _open_flag(page, name: str) -> None:
    search = page.get_by_role("textbox", name="Search")
    search.fill(name)
    search.press("Enter")
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()


def test_switching_flags_refills_every_form_from_the_flag_now_shown(live_app, page):
    # The browser keeps a field's value across reruns: a form must not show (and save) the flag seen before.
    from sqlalchemy import create_engine, pool
    from sqlalchemy.orm import Session

    from core.flags import service

    engine = create_engine(live_app["database_url"], poolclass=pool.NullPool)
    with Session(engine) as s:
        stored = service.snapshot(service.get_flag(session=s, name="new-checkout"))
    engine.dispose()
    expected = service.rollout_of(stored["environments"]["production"]["strategies"])

    _open_flags(page, live_app)
    page.get_by_role("tab", name="Rollout & targeting").click()
    first = page.get_by_role("spinbutton", name="Rollout percentage").input_value()
    page.get_by_role("tab", name="Definition").click()
    expect(page.get_by_role("textbox", name="Definition")).to_be_visible()
    _open_flag(page, "new-checkout")
    page.get_by_role("tab", name="Rollout & targeting").click()
    expect(page.get_by_role("spinbutton", name="Rollout percentage")).to_have_value(str(expected))
    assert str(expected) != first, "the test needs a flag whose rollout differs from the first flag's"
    page.get_by_role("tab", name="Definition").click()
    expect(page.get_by_role("textbox", name="Definition")).to_have_value(re.compile(r'"name": "new-checkout"'))


def test_ops_changes_a_rollout_with_a_reason_and_sees_it_in_the_history(live_app, page):
    _open_flags(page, live_app)
    _open_flag(page, "new-checkout")

    page.get_by_role("tab", name="Rollout & targeting").click()
    pct = page.get_by_role("spinbutton", name="Rollout percentage")
    pct.fill("35")
    pct.press("Tab")
    page.get_by_role("textbox", name="Reason").first.fill("e2e: ramp to 35 after a quiet week")
    page.get_by_role("button", name="Set rollout").click()
    expect(page.get_by_text("new-checkout: rollout 35% in production.")).to_be_visible()

    page.get_by_role("tab", name="History").click()
    expect(page.get_by_text("Why: e2e: ramp to 35 after a quiet week")).to_be_visible()
    expect(page.get_by_text('"25" -> "35"').first).to_be_visible()


def test_agent_does_not_see_the_flags_page(live_app, page):
    login(page, live_app["url"], "agent", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    wait_logged_in(page)  # the cookie, so the next page load logs the agent straight back in
    expect(page.get_by_role("link", name="Feature flags")).to_have_count(0)
    page.goto(live_app["url"] + "/flags")
    # Wait for what the agent gets instead (their own default page) before asserting what is absent: right
    # after goto nothing has drawn yet, and a missing heading would prove nothing.
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Feature flags")).to_have_count(0)
    expect(page.get_by_role("textbox", name="Search")).to_have_count(0)


def test_ops_flips_a_kill_switch_at_once_and_a_toggle_needs_its_confirmation(live_app, page):
    from core.flags.client import Client

    _open_flags(page, live_app)
    _open_flag(page, "kill-llm-classifier")
    form = page.locator("[data-testid='stForm']").filter(has_text="Turn ON")
    form.get_by_role("textbox", name="Reason").fill("e2e: the LLM endpoint is timing out")
    form.get_by_role("button", name="Turn ON").click()
    expect(page.get_by_text("kill-llm-classifier turned on in production.")).to_be_visible()

    # A flag that is not a kill switch asks for a confirmation before it changes.
    _open_flag(page, "maintenance-banner")
    form = page.locator("[data-testid='stForm']").filter(has_text="I confirm this change")
    form.get_by_role("textbox", name="Reason").fill("e2e: planned maintenance tonight")
    form.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Tick the confirmation box first.")).to_be_visible()
    form.get_by_text("I confirm this change").click()
    form.get_by_role("button", name="Apply").click()
    expect(page.get_by_text(re.compile(r"maintenance-banner is on in development"))).to_be_visible()

    # The product's services see both changes through the SDK.
    prod = Client(environment="production", database_url=live_app["database_url"])
    dev = Client(environment="development", database_url=live_app["database_url"])
    try:
        assert prod.is_enabled("kill-llm-classifier", {"userId": "anyone"})
        assert dev.is_enabled("maintenance-banner", {"userId": "anyone"})
    finally:
        prod.close()
        dev.close()
