"""The Settings page through app.py: an admin configures the mailbox and a provider, tests the
connection, sees the last run's counts and a failure with its error; other roles cannot open it."""

from __future__ import annotations

import pytest

from tests.pages.conftest import app_as, seeded_db_url  # noqa: F401  (fixtures)

PAGE = "pages/settings.py"


def _button(at, label, key=None):
    return next(b for b in at.button if b.label == label and (key is None or b.key == key))


def _open(app_as):  # noqa: F811
    at = app_as("admin")
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_admin_saves_mailbox_settings_and_sees_a_failed_poll_with_its_error(app_as, monkeypatch):  # noqa: F811
    from core.config import get_settings
    from tests.helpers import free_port

    monkeypatch.setenv("IMAP_URL", f"imap://support:hidden-pw@127.0.0.1:{free_port()}/INBOX")
    get_settings.cache_clear()
    from core.ui import channels

    channels.imap_display.clear()
    at = _open(app_as)
    assert any("IMAP_URL: imap://support@127.0.0.1" in t.value for t in at.text)
    assert not any("hidden-pw" in t.value for t in at.text)
    at.checkbox(key="mailbox_enabled").check()
    at.number_input(key="mailbox_max_mb").set_value(5.0)
    _button(at, "Save mailbox settings").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Mailbox settings saved" in s.value for s in at.success)
    assert at.checkbox(key="mailbox_enabled").value is True
    _button(at, "Test connection", "mailbox_test").click().run()
    assert any("cannot be reached" in e.value for e in at.error)
    _button(at, "Poll now", "mailbox_poll").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("tickets: 0" in c.value and "error: cannot reach" in c.value for c in at.code)
    at.run()  # the page after the pass: the failure with its error
    assert any("The last run failed" in e.value for e in at.error)
    assert any("cannot reach" in c.value for c in at.code)
    get_settings.cache_clear()


def test_bad_provider_settings_are_refused(app_as):  # noqa: F811
    at = _open(app_as)
    at.checkbox(key="zendesk_enabled").check()
    at.text_input(key="zendesk_base_url").input("acme.zendesk.com")
    _button(at, "Save Zendesk settings").click().run()
    assert any("must start with http" in e.value for e in at.error)


@pytest.mark.parametrize("role", ["support_lead", "agent", "ops", "pm"])
def test_only_admins_open_settings(app_as, role):  # noqa: F811
    at = app_as(role)
    with pytest.raises(ValueError):
        at.switch_page(PAGE).run()


def test_sync_now_while_another_sync_runs_says_so_and_changes_nothing(app_as, monkeypatch):  # noqa: F811
    from core.channels.service import channel_lock
    from core.config import get_settings
    from tests.helpers import free_port

    monkeypatch.setenv("ZENDESK_API_TOKEN", "zd-token")
    get_settings.cache_clear()
    at = _open(app_as)
    at.checkbox(key="zendesk_enabled").check()
    at.text_input(key="zendesk_base_url").input(f"http://127.0.0.1:{free_port()}")
    at.text_input(key="zendesk_email").input("sync@acme-support.example")
    _button(at, "Save Zendesk settings").click().run()
    assert any("Zendesk settings saved" in s.value for s in at.success)
    with channel_lock("zendesk"):  # the worker's pass is running
        _button(at, "Sync now", "zendesk_sync").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("another zendesk sync is running right now" in w.value for w in at.warning)
    assert not any("Zendesk is not ready" in e.value for e in at.error)
    get_settings.cache_clear()


def test_without_imap_url_or_a_token_there_is_nothing_to_test_or_poll(app_as, monkeypatch):  # noqa: F811
    from core.config import get_settings
    from core.ui import channels

    for name in ("IMAP_URL", "ZENDESK_API_TOKEN", "FRONT_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    channels.imap_display.clear()
    channels.clear()
    at = _open(app_as)
    assert any("IMAP_URL is not set" in w.value for w in at.warning)
    for key in ("mailbox_test", "mailbox_poll", "zendesk_test", "zendesk_sync", "front_test", "front_sync"):
        assert next(b for b in at.button if b.key == key).disabled, key
