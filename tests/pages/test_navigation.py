"""Role-based navigation: pages_for(role) as a unit, and every page each role may open, through app.py."""

import pytest

from core.auth.roles import Role
from core.ui.nav import PAGES, pages_for

EXPECTED_HIDDEN = {
    Role.AGENT: {"flags", "backups", "monitoring", "alerts", "users", "feedback", "portal", "releases"},
    Role.CUSTOMER: {"overview", "queue", "flags", "backups", "users", "feedback"},
    Role.PM: {"queue", "flags", "backups", "users", "portal"},
    Role.OPS: {"queue", "users", "portal", "feedback"},
    Role.SUPPORT_LEAD: {"flags", "backups", "users", "portal"},
    Role.ADMIN: {"portal"},
}


@pytest.mark.parametrize("role", list(Role))
def test_pages_for_role_never_includes_forbidden_pages(role):
    keys = {p.key for p in pages_for(role)}
    assert keys, f"{role} must see at least one page"
    assert not keys & EXPECTED_HIDDEN[role]


def test_pages_for_gives_each_staff_role_the_overview_and_customers_only_the_portal():
    for role in (Role.ADMIN, Role.OPS, Role.SUPPORT_LEAD, Role.AGENT, Role.PM):
        assert "overview" in {p.key for p in pages_for(role)}
    assert [p.key for p in pages_for(Role.CUSTOMER)] == ["portal"]
    assert {"queue", "new_ticket"} <= {p.key for p in pages_for(Role.AGENT)}
    assert "users" in {p.key for p in pages_for(Role.ADMIN)}


def test_unknown_role_sees_nothing():
    assert pages_for("superuser") == []


def _role_page_pairs():
    for role in Role:
        for spec in pages_for(role):
            yield pytest.param(role.value, spec.path, id=f"{role.value}-{spec.key}")


@pytest.mark.parametrize("role,path", list(_role_page_pairs()))
def test_every_page_renders_for_every_role_that_may_open_it(app_as, role, path):
    at = app_as(role)
    at.switch_page(path).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, f"{path} shows no title for {role}"


@pytest.mark.parametrize("role,key", [("agent", "flags"), ("agent", "backups"), ("customer", "queue"),
                                      ("pm", "users"), ("support_lead", "backups")])
def test_a_page_outside_the_roles_list_cannot_be_reached(app_as, role, key):
    spec = next(p for p in PAGES if p.key == key)
    at = app_as(role)
    with pytest.raises(ValueError):
        at.switch_page(spec.path).run()
