"""The Feature flags page through app.py: ops changes a rollout with a reason and sees it in the history,
a kill switch flips at once, a toggle needs confirmation, an agent cannot reach the page."""

from __future__ import annotations

import pytest

PAGE = "pages/flags.py"


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def _open(app_as, role, flag):
    at = app_as(role)
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="flags_selected").set_value(flag).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_ops_changes_a_rollout_with_a_reason_and_sees_it_in_the_history(app_as):
    at = _open(app_as, "ops", "new-checkout")
    at.selectbox(key="rollout_env").set_value("production")
    at.number_input(key="rollout_pct").set_value(40)
    at.text_input(key="rollout_reason").input("error budget is healthy")
    _button(at, "Set rollout").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("rollout 40% in production" in s.value for s in at.success), [s.value for s in at.success]
    history = [c.value for c in at.code]
    assert any("rollout" in h and '"40"' in h for h in history), history
    assert any("error budget is healthy" in t.value for t in at.text)


def test_a_rollout_change_without_a_reason_is_refused(app_as):
    at = _open(app_as, "ops", "new-checkout")
    at.number_input(key="rollout_pct").set_value(60)
    _button(at, "Set rollout").click().run()
    assert any("reason" in e.value for e in at.error), [e.value for e in at.error]


def test_toggle_needs_confirmation_and_a_kill_switch_flips_at_once(app_as):
    at = _open(app_as, "ops", "dark-mode")
    at.selectbox(key="toggle_env").set_value("production")
    at.radio(key="toggle_target").set_value("on")
    at.text_input(key="toggle_reason").input("launch")
    _button(at, "Apply").click().run()
    assert any("confirmation" in e.value for e in at.error)
    at.checkbox(key="toggle_confirm").check()
    _button(at, "Apply").click().run()
    assert any("dark-mode is on in production" in s.value for s in at.success), [s.value for s in at.success]

    at = _open(app_as, "ops", "kill-llm-classifier")
    at.text_input(key="kill_reason").input("LLM provider outage")
    _button(at, "Turn ON").click().run()
    assert any("turned on in production" in s.value for s in at.success), [s.value for s in at.success]


def test_agent_does_not_see_the_flags_page(app_as):
    at = app_as("agent")
    with pytest.raises(ValueError):
        at.switch_page(PAGE).run()


def test_a_second_editor_is_told_the_flag_changed_and_then_sees_the_new_version(app_as):
    from sqlalchemy import select

    from core.auth.models import User
    from core.db import session_scope
    from core.flags import service

    at = _open(app_as, "ops", "ai-reply-suggestions")
    with session_scope() as s:       # someone else saves meanwhile
        admin = s.scalar(select(User).where(User.username == "admin"))
        service.toggle(session=s, actor=admin, name="ai-reply-suggestions", environment="development",
                       enabled=False, reason="pause the experiment")
    at.number_input(key="rollout_pct").set_value(20)
    at.text_input(key="rollout_reason").input("narrow it")
    _button(at, "Set rollout").click().run()
    assert any("changed since you loaded it" in e.value for e in at.error), [e.value for e in at.error]
    at.run()
    assert any("version" in t.value and "experiment" in t.value for t in at.text)
    _button(at, "Set rollout").click().run()
    assert any("rollout 20%" in s.value for s in at.success), [e.value for e in at.error]
