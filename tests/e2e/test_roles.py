"""Every role logs in through the browser and sees its own pages in the menu, and none of the others; typing
the address of a page it may not open shows its own landing page instead, and nothing of that page."""

import pytest
from playwright.sync_api import expect

from core.auth.roles import Role
from core.ui.nav import PAGES, pages_for
from tests.e2e.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, login, wait_idle, wait_logged_in

pytestmark = pytest.mark.e2e

LOGINS = {Role.ADMIN: ("admin", ADMIN_PASSWORD), Role.OPS: ("ops", DEMO_PASSWORD),
          Role.SUPPORT_LEAD: ("lead", DEMO_PASSWORD), Role.AGENT: ("agent", DEMO_PASSWORD),
          Role.PM: ("pm", DEMO_PASSWORD), Role.CUSTOMER: ("customer", DEMO_PASSWORD)}
HEADINGS = {"portal": "Support"}  # a page's heading is its title, except these


def _landing(role: Role) -> str:
    """The title of the page a role lands on (every page's heading is its title)."""
    allowed = pages_for(role)
    spec = next((p for p in allowed if role in p.default_for), allowed[0])
    return HEADINGS.get(spec.key, spec.title)


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_sees_exactly_its_pages_and_cannot_open_the_others_by_address(live_app, page, role):
    username, password = LOGINS[role]
    landing = _landing(role)
    main = page.locator("[data-testid='stMain']")
    login(page, live_app["url"], username, password)
    expect(page.get_by_role("heading", name=landing, exact=True)).to_be_visible()
    wait_logged_in(page)  # the cookie: every address typed below logs the user straight back in
    allowed = pages_for(role)
    nav = page.locator("[data-testid='stSidebarNav']")
    if len(allowed) > 1:
        for spec in allowed:
            expect(nav.get_by_role("link", name=spec.title, exact=True)).to_be_visible()
    for spec in PAGES:
        if spec not in allowed:
            expect(nav.get_by_role("link", name=spec.title, exact=True)).to_have_count(0)

    # By address: one forbidden page of each menu section (every page goes through the same navigation
    # list; tests/pages checks every page for every role with AppTest). Each goto is a full page load.
    forbidden = [spec for spec in PAGES if spec not in allowed]
    for spec in {s.section: s for s in reversed(forbidden)}.values():
        page.goto(f"{live_app['url']}/{spec.key}")
        # First what the role does get (its own landing page, after the cookie logs it back in): right after
        # goto nothing has drawn yet, and an absent heading would prove nothing. Then, once the app is idle,
        # the main area holds the landing page's title alone: every page opens with its title, so the page
        # asked for did not run (had it run, the landing heading would never have shown).
        expect(main.get_by_role("heading", name=landing, exact=True, level=1)).to_be_visible()
        wait_idle(page, quiet_ms=500)
        expect(main.get_by_role("heading", level=1)).to_have_text([landing])
        expect(page.get_by_role("heading", name=HEADINGS.get(spec.key, spec.title), exact=True)).to_have_count(0)
        assert page.get_by_role("textbox", name="Username").count() == 0, f"/{spec.key} logged {username} out"
