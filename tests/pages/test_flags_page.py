"""The Feature flags page through app.py: ops changes a rollout with a reason and sees it in the history,
a kill switch flips at once, a toggle needs confirmation, an agent cannot reach the page."""

from __future__ import annotations

import json

import pytest

PAGE = "pages/flags.py"


def _field(widgets, base):
    """An edit form's field by its key's base (the page adds the flag and version it was filled from)."""
    return next(w for w in widgets if w.key and w.key.split("@")[0] == base)


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
    _field(at.number_input, "rollout_pct:production").set_value(40)
    at.text_input(key="rollout_reason").input("error budget is healthy")
    _button(at, "Set rollout").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("rollout 40% in production" in s.value for s in at.success), [s.value for s in at.success]
    history = [c.value for c in at.code]
    assert any("rollout" in h and '"40"' in h for h in history), history
    assert any("error budget is healthy" in t.value for t in at.text)


def test_a_rollout_change_without_a_reason_is_refused(app_as):
    at = _open(app_as, "ops", "new-checkout")
    _field(at.number_input, "rollout_pct:production").set_value(60)
    _button(at, "Set rollout").click().run()
    assert any("reason" in e.value for e in at.error), [e.value for e in at.error]


def test_toggle_needs_confirmation_and_a_kill_switch_flips_at_once(app_as):
    from core.flags import service

    at = _open(app_as, "ops", "dark-mode")
    at.selectbox(key="toggle_env").set_value("production")
    at.radio(key="toggle_target").set_value("on")
    at.text_input(key="toggle_reason").input("launch")
    _button(at, "Apply").click().run()
    assert any("confirmation" in e.value for e in at.error)
    at.checkbox(key="toggle_confirm").check()
    _button(at, "Apply").click().run()
    assert any("dark-mode is on in production" in s.value for s in at.success), [s.value for s in at.success]
    # It had no strategy in production: switching it on wrote Unleash's default strategy down, and said so.
    assert any("100% rollout was added" in s.value for s in at.success), [s.value for s in at.success]
    assert _stored("dark-mode")["environments"]["production"]["strategies"] == [service.everyone_strategy("dark-mode")]

    at = _open(app_as, "ops", "kill-llm-classifier")
    at.text_input(key="kill_reason").input("LLM provider outage")
    _button(at, "Turn ON").click().run()
    assert any("turned on in production" in s.value for s in at.success), [s.value for s in at.success]
    # Choosing another environment renames the button to what it will do there, before anything is sent.
    at.selectbox(key="kill_env").set_value("development").run()
    assert [b.label for b in at.button if b.label.startswith("Turn ")] == ["Turn ON"]  # still off in development
    at.text_input(key="kill_reason").input("LLM provider outage, staging too")
    _button(at, "Turn ON").click().run()
    assert any("turned on in development" in s.value for s in at.success), [s.value for s in at.success]
    envs = _stored("kill-llm-classifier")["environments"]
    assert envs["production"]["enabled"] and envs["development"]["enabled"]


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
    _field(at.number_input, "rollout_pct:production").set_value(20)
    at.text_input(key="rollout_reason").input("narrow it")
    _button(at, "Set rollout").click().run()
    assert any("changed since you loaded it" in e.value for e in at.error), [e.value for e in at.error]
    at.run()
    assert any("version" in t.value and "experiment" in t.value for t in at.text)
    # Their version stays the one they loaded until they reload: a second click is refused again.
    assert any("you are editing version 1" in w.value and "pause the experiment" in w.value for w in at.warning)
    _button(at, "Set rollout").click().run()
    assert any("changed since you loaded it" in e.value for e in at.error), [e.value for e in at.error]
    _button(at, "Reload").click().run()
    assert not at.warning, [w.value for w in at.warning]
    _field(at.number_input, "rollout_pct:production").set_value(20)
    at.text_input(key="rollout_reason").input("narrow it")
    _button(at, "Set rollout").click().run()
    assert any("rollout 20%" in s.value for s in at.success), [e.value for e in at.error]


def _stored(name):
    from core.db import session_scope
    from core.flags import service

    with session_scope() as s:
        return service.snapshot(service.get_flag(session=s, name=name))


def _as_admin(change):
    """Run change(session, admin) in its own transaction: someone else's save, outside the page."""
    from sqlalchemy import select

    from core.auth.models import User
    from core.db import session_scope

    from core.ui import flags as data

    with session_scope() as s:
        result = change(s, s.scalar(select(User).where(User.username == "admin")))
    data.clear()  # what a save through the page does too, so the page lists a flag made here at once
    return result


def test_two_editors_on_the_page_the_second_definition_save_is_refused_not_saved_over_the_first(app_as):
    first = _open(app_as, "admin", "new-checkout-upsell")
    second = _open(app_as, "ops", "new-checkout-upsell")
    snap = _stored("new-checkout-upsell")  # what both of them loaded
    loaded = snap["version"]

    _field(first.text_area, "definition_text").input(json.dumps({**snap, "description": "first editor's words"}))
    first.text_input(key="definition_reason").input("clearer description")
    _button(first, "Save definition").click().run()
    assert any("definition saved" in s.value for s in first.success), [e.value for e in first.error]

    # The second editor started from the same version and saves after the first (the cache was cleared by it).
    _field(second.text_area, "definition_text").input(json.dumps({**snap, "description": "second editor's words"}))
    second.text_input(key="definition_reason").input("my own wording")
    _button(second, "Save definition").click().run()
    assert any("changed since you loaded it" in e.value and f"it is now version {loaded + 1}" in e.value
               and "admin" in e.value for e in second.error), [e.value for e in second.error]
    assert _stored("new-checkout-upsell")["description"] == "first editor's words"
    assert any(f"version {loaded + 1}" in t.value for t in second.text), [t.value for t in second.text]

    # Reload shows the first editor's change in the form; a save from there goes through.
    _button(second, "Reload").click().run()
    text = _field(second.text_area, "definition_text").value
    assert "first editor's words" in text
    _field(second.text_area, "definition_text").input(text.replace("first editor's words", "both editors' words"))
    second.text_input(key="definition_reason").input("merged wording")
    _button(second, "Save definition").click().run()
    assert any("definition saved" in s.value for s in second.success), [e.value for e in second.error]
    assert _stored("new-checkout-upsell")["description"] == "both editors' words"


def test_two_editors_on_the_page_the_second_targeting_save_is_refused(app_as):
    first = _open(app_as, "admin", "maintenance-banner")
    second = _open(app_as, "ops", "maintenance-banner")
    _field(first.text_input, "target_ids:production").input("alice")
    first.text_input(key="target_reason").input("alice checks the banner")
    _button(first, "Save targeting").click().run()
    assert any("targeting saved for production" in s.value for s in first.success), [e.value for e in first.error]

    _field(second.text_input, "target_ids:production").input("bob")
    second.text_input(key="target_reason").input("bob checks the banner")
    _button(second, "Save targeting").click().run()
    assert any("changed since you loaded it" in e.value for e in second.error), [e.value for e in second.error]
    ids = [s["parameters"]["userIds"] for s in _stored("maintenance-banner")["environments"]["production"]["strategies"]
           if s["name"] == "userWithId"]
    assert ids == ["alice"]


def test_clearing_the_user_ids_keeps_the_other_strategies_and_their_segments(app_as):
    before = _stored("bulk-export-api")["environments"]["production"]
    assert [s["name"] for s in before["strategies"]] == ["userWithId", "default"] and before["enabled"]
    at = _open(app_as, "ops", "bulk-export-api")
    _field(at.text_input, "target_ids:production").input("")
    at.text_input(key="target_reason").input("the pilot accounts moved to the enterprise plan")
    _button(at, "Save targeting").click().run()
    assert any("targeting saved for production" in s.value for s in at.success), [e.value for e in at.error]
    after = _stored("bulk-export-api")["environments"]["production"]
    assert after == {"enabled": True, "strategies": before["strategies"][1:]}


def test_clearing_the_only_user_id_strategy_switches_the_flag_off_never_on_for_everyone(app_as):
    from core.db import session_scope
    from core.flags import service
    from core.flags.evaluator import Engine

    _as_admin(lambda s, admin: service.create_flag(
        session=s, actor=admin, name="vip-preview", reason="preview for one customer", definition={"environments": {
            "production": {"enabled": True, "strategies": [
                {"name": "userWithId", "parameters": {"userIds": "ceo-of-acme"}, "constraints": []}]}}}))
    at = _open(app_as, "ops", "vip-preview")
    _field(at.text_input, "target_ids:production").input("  ")
    at.text_input(key="target_reason").input("preview over")
    _button(at, "Save targeting").click().run()
    assert any("now off in production" in s.value for s in at.success), [e.value for e in at.error]
    assert _stored("vip-preview")["environments"]["production"] == {"enabled": False, "strategies": []}
    with session_scope() as s:
        engine = Engine(service.client_state(session=s, environment="production"))
    assert not any(engine.is_enabled("vip-preview", {"userId": u}) for u in ("ceo-of-acme", "someone", "1"))


def test_segments_change_only_on_the_strategy_they_were_picked_for(app_as):
    from core.flags import service

    def make(s, admin):
        segs = {g.name: g.id for g in service.list_segments(session=s)}
        service.create_flag(session=s, actor=admin, name="two-strategies", reason="staged launch", definition={
            "environments": {"production": {"enabled": True, "strategies": [
                {"name": "flexibleRollout", "parameters": {"rollout": "30", "stickiness": "default", "groupId": "two-strategies"},
                 "constraints": [], "segments": [segs["eu-tenants"]]},
                {"name": "default", "parameters": {},
                 "constraints": [{"contextName": "plan", "operator": "IN", "values": ["pro"]}]}]}}})
        return segs

    segs = _as_admin(make)
    at = _open(app_as, "ops", "two-strategies")
    _field(at.multiselect, "target_segments:production:1").set_value(["enterprise-accounts"])
    at.text_input(key="target_reason").input("pro plan only for enterprise accounts")
    _button(at, "Save targeting").click().run()
    assert any("targeting saved for production" in s.value for s in at.success), [e.value for e in at.error]
    rollout, default = _stored("two-strategies")["environments"]["production"]["strategies"]
    assert rollout["segments"] == [segs["eu-tenants"]]
    assert default["segments"] == [segs["enterprise-accounts"]]
    assert default["constraints"] == [{"contextName": "plan", "operator": "IN", "values": ["pro"]}]


def test_switching_flags_refills_the_definition_box_with_the_selected_flag(app_as):
    at = _open(app_as, "ops", "ai-reply-suggestions")
    assert json.loads(_field(at.text_area, "definition_text").value)["name"] == "ai-reply-suggestions"
    at.selectbox(key="flags_selected").set_value("dark-mode").run()
    assert json.loads(_field(at.text_area, "definition_text").value)["name"] == "dark-mode"



def test_a_flag_stored_on_with_no_strategy_before_the_fix_is_shown_as_on_for_everyone(app_as):
    from sqlalchemy import select, update

    from core.db import session_scope
    from core.flags.models import Flag, FlagEnvironment
    from core.ui import flags as data

    with session_scope() as s:  # what the old targeting form could store
        flag_id = s.scalar(select(Flag.id).where(Flag.name == "new-checkout-upsell"))
        s.execute(update(FlagEnvironment).where(FlagEnvironment.flag_id == flag_id, FlagEnvironment.environment == "development")
                  .values(enabled=True, strategies=[]))
    data.clear()
    at = _open(app_as, "ops", "new-checkout-upsell")
    assert any("On for everyone: no strategy" in e.value for e in at.error), [e.value for e in at.error]


def test_a_segment_change_shows_in_the_history_of_the_flags_that_use_it(app_as):
    at = _open(app_as, "ops", "bulk-export-api")
    at.text_input(key="segment_name").input("enterprise-accounts")
    at.text_input(key="segment_description").input("Enterprise and business plans")
    at.text_area(key="segment_constraints").input(
        '[{"contextName": "plan", "operator": "IN", "values": ["enterprise", "business"]}]')
    at.text_input(key="segment_reason").input("business plan gets enterprise features")
    _button(at, "Save segment").click().run()
    assert any("Segment enterprise-accounts saved" in s.value for s in at.success), [e.value for e in at.error]
    assert any(t.value.startswith("Why: segment 'enterprise-accounts' changed (constraints[0].values: ")
               and t.value.endswith("business plan gets enterprise features") for t in at.text), [t.value for t in at.text]
    # The flag moved on under the editor too: they are told, and Reload takes them to the new version.
    assert any("changed since you loaded it" in w.value for w in at.warning), [w.value for w in at.warning]
    _button(at, "Reload").click().run()
    assert not at.warning, [w.value for w in at.warning]
