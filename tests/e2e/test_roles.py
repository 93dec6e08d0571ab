"""Every role logs in through the browser and sees its own pages in the menu, and none of the others."""

import pytest
from playwright.sync_api import expect

from core.auth.roles import Role
from core.ui.nav import PAGES, pages_for
from tests.e2e.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, login, wait_logged_in

pytestmark = pytest.mark.e2e

LOGINS = {Role.ADMIN: ("admin", ADMIN_PASSWORD), Role.OPS: ("ops", DEMO_PASSWORD),
          Role.SUPPORT_LEAD: ("lead", DEMO_PASSWORD), Role.AGENT: ("agent", DEMO_PASSWORD),
          Role.PM: ("pm", DEMO_PASSWORD), Role.CUSTOMER: ("customer", DEMO_PASSWORD)}
FIRST_HEADING = {Role.CUSTOMER: "Support"}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_sees_exactly_its_pages(live_app, page, role):
    username, password = LOGINS[role]
    login(page, live_app["url"], username, password)
    expect(page.get_by_role("heading", name=FIRST_HEADING.get(role, "Overview"), exact=True)).to_be_visible()
    wait_logged_in(page)
    allowed = pages_for(role)
    nav = page.locator("[data-testid='stSidebarNav']")
    if len(allowed) > 1:
        for spec in allowed:
            expect(nav.get_by_role("link", name=spec.title, exact=True)).to_be_visible()
    for spec in PAGES:
        if spec not in allowed:
            expect(nav.get_by_role("link", name=spec.title, exact=True)).to_have_count(0)
