"""The flag store: versions with who/when/why, diffs, revert, validation, concurrency, permissions,
scheduled changes, segments, and export/import in Unleash's client API format."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from core.audit.models import AuditLog
from core.auth.roles import PermissionDenied
from core.flags import service
from core.flags.evaluator import Engine
from core.flags.models import Flag, FlagVersion


@pytest.fixture
def ops(make_user):
    return make_user("ops", username="olivia")


def _new(session, ops, name="checkout-v2", **kw):
    flag = service.create_flag(session=session, actor=ops, name=name, reason="new checkout", **kw)
    session.commit()
    return flag


def test_every_change_is_a_version_with_who_why_and_a_diff(session, ops):
    _new(session, ops)
    service.toggle(session=session, actor=ops, name="checkout-v2", environment="production", enabled=True, reason="launch")
    service.set_rollout(session=session, actor=ops, name="checkout-v2", environment="production", percentage=25, reason="ramp up")
    session.commit()
    hist = service.history(session=session, name="checkout-v2")
    assert [h["version"] for h in hist] == [3, 2, 1]
    assert hist[0]["actor"] == "olivia" and hist[0]["reason"] == "ramp up"
    assert any("rollout" in c and "25" in c for c in hist[0]["changes"])
    assert hist[1]["changes"] == ["environments.production.enabled: false -> true"]
    actions = set(session.scalars(select(AuditLog.action).where(AuditLog.entity == "flag")))
    assert {"flag.create", "flag.enable", "flag.rollout"} <= actions


def test_revert_to_any_version_makes_a_new_version(session, ops):
    _new(session, ops)
    service.toggle(session=session, actor=ops, name="checkout-v2", environment="production", enabled=True, reason="on")
    service.set_rollout(session=session, actor=ops, name="checkout-v2", environment="production", percentage=10, reason="10%")
    flag = service.revert(session=session, actor=ops, name="checkout-v2", to_version=1, reason="bad idea")
    session.commit()
    assert flag.version == 4
    snap = service.snapshot(flag)
    assert snap["environments"]["production"] == {"enabled": False, "strategies": [{"name": "default", "parameters": {}, "constraints": []}]}
    assert service.history(session=session, name="checkout-v2")[0]["reason"] == "revert to version 1: bad idea"


def test_second_editor_is_told_the_flag_changed_and_sees_the_new_version(session, ops, make_user):
    _new(session, ops)
    other = make_user("admin", username="adam")
    loaded = service.snapshot(service.get_flag(session=session, name="checkout-v2"))
    service.toggle(session=session, actor=other, name="checkout-v2", environment="production", enabled=True,
                   reason="first", expected_version=loaded["version"])
    session.commit()
    mine = dict(loaded, description="my edit")
    with pytest.raises(service.StaleFlagError) as err:
        service.save_flag(session=session, actor=ops, name="checkout-v2", definition=mine,
                          expected_version=loaded["version"], reason="second")
    assert err.value.current_version == 2
    assert err.value.current["environments"]["production"]["enabled"] is True
    assert "changed since you loaded it" in str(err.value)


BAD_STRATEGIES = [
    ({"name": "fancyStrategy", "parameters": {}}, "unknown strategy 'fancyStrategy'"),
    ({"name": "flexibleRollout", "parameters": {"rollout": "101"}}, "from 0 to 100"),
    ({"name": "flexibleRollout", "parameters": {"rollout": "-1"}}, "from 0 to 100"),
    ({"name": "default", "constraints": [{"contextName": "x", "operator": "LIKE", "values": ["a"]}]}, "unknown operator 'LIKE'"),
    ({"name": "default", "constraints": [{"contextName": "userId", "operator": "REGEX", "value": "(broken"}]}, "does not compile"),
    ({"name": "default", "constraints": [{"contextName": "n", "operator": "NUM_GT", "value": "ten"}]}, "is not a number"),
    ({"name": "default", "segments": [12345]}, "segment 12345 does not exist"),
]


def test_bad_definitions_are_refused_with_a_clear_message_and_nothing_stored(session, ops):
    _new(session, ops)
    for strategy, message in BAD_STRATEGIES:
        defn = service.snapshot(service.get_flag(session=session, name="checkout-v2"))
        defn["environments"]["production"]["strategies"] = [strategy]
        with pytest.raises(service.FlagValidationError) as err:
            service.save_flag(session=session, actor=ops, name="checkout-v2", definition=defn, expected_version=1, reason="x")
        session.rollback()
        assert message in str(err.value)
        assert session.scalar(select(Flag.version).where(Flag.name == "checkout-v2")) == 1
        assert session.scalar(select(FlagVersion.id).where(FlagVersion.version == 2)) is None


def test_variant_weights_must_add_up(session, ops):
    _new(session, ops)
    defn = service.snapshot(service.get_flag(session=session, name="checkout-v2"))
    defn["variants"] = [{"name": "a", "weight": 30}, {"name": "b", "weight": 30}]
    with pytest.raises(service.FlagValidationError, match="add up to 60"):
        service.save_flag(session=session, actor=ops, name="checkout-v2", definition=defn, expected_version=1, reason="x")


def test_dependency_cycles_are_refused(session, ops):
    _new(session, ops, name="a")
    _new(session, ops, name="b", definition={"dependencies": [{"feature": "a"}]})
    defn = service.snapshot(service.get_flag(session=session, name="a"))
    defn["dependencies"] = [{"feature": "b"}]
    with pytest.raises(service.FlagValidationError, match="cycle: a -> b -> a"):
        service.save_flag(session=session, actor=ops, name="a", definition=defn, expected_version=1, reason="x")
    defn["dependencies"] = [{"feature": "a"}]
    with pytest.raises(service.FlagValidationError, match="cycle"):
        service.save_flag(session=session, actor=ops, name="a", definition=defn, expected_version=1, reason="x")


def test_a_user_without_the_permission_cannot_toggle(session, ops, make_user):
    _new(session, ops)
    agent = make_user("agent", username="andy")
    with pytest.raises(PermissionDenied):
        service.toggle(session=session, actor=agent, name="checkout-v2", environment="production", enabled=True, reason="x")
    with pytest.raises(PermissionDenied):
        service.set_rollout(session=session, actor=agent, name="checkout-v2", environment="production", percentage=5, reason="x")
    session.rollback()
    assert service.get_flag(session=session, name="checkout-v2").version == 1


def test_a_reason_is_required(session, ops):
    _new(session, ops)
    with pytest.raises(service.FlagError, match="reason"):
        service.toggle(session=session, actor=ops, name="checkout-v2", environment="production", enabled=True, reason="  ")


def test_scheduled_changes_run_when_due(session, ops):
    _new(session, ops)
    now = datetime.now(timezone.utc)
    service.schedule_change(session=session, actor=ops, name="checkout-v2", environment="production", action="enable",
                            run_at=now + timedelta(hours=1), reason="launch at ten")
    service.schedule_change(session=session, actor=ops, name="checkout-v2", environment="production", action="set_rollout",
                            rollout=50, run_at=now + timedelta(hours=2), reason="half")
    session.commit()
    assert service.run_due_schedules(session=session, now=now + timedelta(minutes=30)) == []
    done = service.run_due_schedules(session=session, now=now + timedelta(hours=1, minutes=1))
    session.commit()
    assert [d.status for d in done] == ["done"]
    flag = service.get_flag(session=session, name="checkout-v2")
    assert service.snapshot(flag)["environments"]["production"]["enabled"] is True
    service.run_due_schedules(session=session, now=now + timedelta(hours=3))
    session.commit()
    assert service.rollout_of(service.snapshot(flag)["environments"]["production"]["strategies"]) == 50
    assert service.history(session=session, name="checkout-v2")[0]["actor"] == "scheduler (for olivia)"
    with pytest.raises(service.FlagError, match="future"):
        service.schedule_change(session=session, actor=ops, name="checkout-v2", environment="production", action="disable",
                                run_at=now - timedelta(minutes=1), reason="x")


def test_stale_marker_by_type():
    now = datetime.now(timezone.utc)
    assert service.is_stale("release", now - timedelta(days=41), now)
    assert not service.is_stale("experiment", now - timedelta(days=39), now)
    assert service.is_stale("operational", now - timedelta(days=8), now)
    assert not service.is_stale("kill-switch", now - timedelta(days=4000), now)
    assert not service.is_stale("permission", now - timedelta(days=4000), now)


def test_export_import_round_trip_in_unleash_format(session, ops, make_user):
    seg = service.save_segment(session=session, actor=ops, name="beta-testers", reason="beta",
                               constraints=[{"contextName": "tenant", "operator": "IN", "values": ["acme"]}])
    _new(session, ops, name="parent")
    _new(session, ops, name="child", flag_type="experiment", definition={
        "dependencies": [{"feature": "parent"}],
        "variants": [{"name": "blue", "weight": 50, "stickiness": "default"}, {"name": "red", "weight": 50, "stickiness": "default"}],
        "environments": {"production": {"enabled": True, "strategies": [
            {"name": "flexibleRollout", "parameters": {"rollout": "100", "stickiness": "userId", "groupId": "child"},
             "constraints": [], "segments": [seg.id]}]}}})
    service.toggle(session=session, actor=ops, name="parent", environment="production", enabled=True, reason="on")
    session.commit()
    state = service.client_state(session=session, environment="production")
    json.dumps(state)
    engine = Engine(state)
    assert engine.is_enabled("child", {"userId": "1", "properties": {"tenant": "acme"}})
    assert not engine.is_enabled("child", {"userId": "1", "properties": {"tenant": "other"}})

    from core.cli import main

    # Import into a fresh name space: rename, then compare the evaluations.
    state2 = json.loads(json.dumps(state))
    for f in state2["features"]:
        f["name"] = "copy-" + f["name"]
        for d in f.get("dependencies", []):
            d["feature"] = "copy-" + d["feature"]
    summary = service.import_state(session=session, actor=ops, state=state2, environment="production", reason="copy")
    session.commit()
    assert "2 created" in summary
    engine2 = Engine(service.client_state(session=session, environment="production"))
    for uid in range(50):
        ctx = {"userId": str(uid), "properties": {"tenant": "acme" if uid % 2 else "x"}}
        assert engine2.is_enabled("copy-child", ctx) == engine.is_enabled("child", ctx)
        # variants hash with the flag name, so only whether a variant is served must match
        assert engine2.get_variant("copy-child", ctx)["enabled"] == engine.get_variant("child", ctx)["enabled"]
    again = service.import_state(session=session, actor=ops, state=state2, environment="production", reason="copy")
    assert "2 unchanged" in again


def test_cli_export_and_import(db_url, session, ops, tmp_path, capsys):
    from core.cli import main

    _new(session, ops, name="dark-mode")
    service.toggle(session=session, actor=ops, name="dark-mode", environment="development", enabled=True, reason="try")
    session.commit()
    out = tmp_path / "flags.json"
    assert main(["flags", "export", "--environment", "development", "-o", str(out)]) == 0
    state = json.loads(out.read_text())
    assert state["features"][0]["name"] == "dark-mode" and state["features"][0]["enabled"] is True
    state["features"][0]["name"] = "dark-mode-2"
    out.write_text(json.dumps(state))
    assert main(["flags", "import", str(out), "--environment", "development", "--actor", "olivia"]) == 0
    assert "1 created" in capsys.readouterr().out
    session.expire_all()
    assert service.get_flag(session=session, name="dark-mode-2").type == "release"


def test_the_worker_job_is_registered_and_runs_due_changes(db_url, session, ops):
    from core import worker

    _new(session, ops)
    sched = service.schedule_change(session=session, actor=ops, name="checkout-v2", environment="development",
                                    action="enable", run_at=datetime.now(timezone.utc) + timedelta(seconds=1), reason="soon")
    session.commit()
    sched.run_at = datetime.now(timezone.utc) - timedelta(seconds=1)   # its time has come
    session.commit()
    assert "core.flags.jobs" in worker.JOB_MODULES
    jobs = worker.load_jobs()
    assert "#" in jobs["flags_scheduled_changes"].func()
    session.expire_all()
    assert service.snapshot(service.get_flag(session=session, name="checkout-v2"))["environments"]["development"]["enabled"]


def test_a_save_checks_the_version_in_the_database_not_the_one_this_session_read_earlier(session, ops, db_url):
    from sqlalchemy.orm import Session

    from core.db import get_engine

    _new(session, ops)
    mine = service.get_flag(session=session, name="checkout-v2")   # read, and kept in this session's memory
    session.commit()
    assert mine.version == 1
    with Session(get_engine(db_url)) as other:                     # another editor saves meanwhile
        service.toggle(session=other, actor=ops, name="checkout-v2", environment="production", enabled=True,
                       reason="theirs", expected_version=1)
        other.commit()
    for change in (
        lambda: service.toggle(session=session, actor=ops, name="checkout-v2", environment="development",
                               enabled=True, reason="mine", expected_version=1),
        lambda: service.set_rollout(session=session, actor=ops, name="checkout-v2", environment="production",
                                    percentage=5, reason="mine", expected_version=1),
        lambda: service.set_targeting(session=session, actor=ops, name="checkout-v2", environment="production",
                                      user_ids="u1", reason="mine", expected_version=1),
        lambda: service.revert(session=session, actor=ops, name="checkout-v2", to_version=1, reason="mine",
                               expected_version=1),
    ):
        with pytest.raises(service.StaleFlagError) as err:
            change()
        session.rollback()
        assert "you edited version 1, and it is now version 2 (saved by olivia: theirs)" in str(err.value)
    assert service.get_flag(session=session, name="checkout-v2").version == 2


def test_an_enabled_environment_without_a_strategy_is_refused_and_switching_one_on_adds_a_full_rollout(session, ops):
    _new(session, ops)
    defn = service.snapshot(service.get_flag(session=session, name="checkout-v2"))
    defn["environments"]["production"] = {"enabled": True, "strategies": []}
    with pytest.raises(service.FlagValidationError, match="production: an enabled flag with no strategy is on for everyone"):
        service.save_flag(session=session, actor=ops, name="checkout-v2", definition=defn, expected_version=1, reason="x")
    session.rollback()
    defn["environments"]["production"]["enabled"] = False        # off with no strategy: allowed
    service.save_flag(session=session, actor=ops, name="checkout-v2", definition=defn, expected_version=1, reason="x")
    # Switching it on adds Unleash's default strategy, so "everyone" is written down, not implied.
    flag = service.toggle(session=session, actor=ops, name="checkout-v2", environment="production", enabled=True, reason="on")
    assert service.snapshot(flag)["environments"]["production"]["strategies"] == [service.everyone_strategy("checkout-v2")]


def test_targeting_never_turns_cleared_user_ids_into_on_for_everyone(session, ops):
    seg = service.save_segment(session=session, actor=ops, name="beta", reason="beta",
                               constraints=[{"contextName": "tenant", "operator": "IN", "values": ["acme"]}])
    _new(session, ops, definition={"environments": {"production": {"enabled": True, "strategies": [
        {"name": "userWithId", "parameters": {"userIds": "ceo"}, "constraints": []}]}}})
    engine = lambda: Engine(service.client_state(session=session, environment="production"))  # noqa: E731
    assert engine().is_enabled("checkout-v2", {"userId": "ceo"}) and not engine().is_enabled("checkout-v2", {"userId": "x"})

    flag = service.set_targeting(session=session, actor=ops, name="checkout-v2", environment="production",
                                 user_ids=" , ", reason="preview over")
    assert service.snapshot(flag)["environments"]["production"] == {"enabled": False, "strategies": []}
    assert not any(engine().is_enabled("checkout-v2", {"userId": u}) for u in ("ceo", "x", "1"))
    assert "flag.targeting" in set(session.scalars(select(AuditLog.action).where(AuditLog.entity_id == "checkout-v2")))

    # With another strategy left, the flag stays on through it; segments change only where asked.
    service.set_rollout(session=session, actor=ops, name="checkout-v2", environment="production", percentage=20, reason="ramp")
    service.toggle(session=session, actor=ops, name="checkout-v2", environment="production", enabled=True, reason="on")
    flag = service.set_targeting(session=session, actor=ops, name="checkout-v2", environment="production",
                                 user_ids=["ceo", "cfo", "ceo"], reason="execs first")
    strategies = service.snapshot(flag)["environments"]["production"]["strategies"]
    assert [s["name"] for s in strategies] == ["userWithId", "flexibleRollout"]
    assert strategies[0]["parameters"]["userIds"] == "ceo, cfo"
    flag = service.set_targeting(session=session, actor=ops, name="checkout-v2", environment="production",
                                 user_ids="ceo, cfo", segments={1: [seg.id]}, reason="beta tenants only")
    strategies = service.snapshot(flag)["environments"]["production"]["strategies"]
    assert "segments" not in strategies[0] and strategies[1]["segments"] == [seg.id]
    flag = service.set_targeting(session=session, actor=ops, name="checkout-v2", environment="production",
                                 user_ids="", reason="execs are in the beta anyway")
    body = service.snapshot(flag)["environments"]["production"]
    assert body["enabled"] and [s["name"] for s in body["strategies"]] == ["flexibleRollout"]
    assert body["strategies"][0]["segments"] == [seg.id]
    with pytest.raises(service.FlagError, match="has no strategy 5"):
        service.set_targeting(session=session, actor=ops, name="checkout-v2", environment="production",
                              user_ids="", segments={5: [seg.id]}, reason="x")


def test_a_segment_change_is_a_new_version_of_every_flag_that_uses_it(session, ops):
    seg = service.save_segment(session=session, actor=ops, name="enterprise", reason="plans",
                               constraints=[{"contextName": "plan", "operator": "IN", "values": ["enterprise"]}])
    _new(session, ops, name="uses-it", definition={"environments": {"development": {"enabled": True, "strategies": [
        {"name": "default", "parameters": {}, "constraints": [], "segments": [seg.id]}]}}})
    _new(session, ops, name="does-not")
    editing = service.get_flag(session=session, name="uses-it").version
    service.save_segment(session=session, actor=ops, name="enterprise", reason="pro customers asked for it too",
                         constraints=[{"contextName": "plan", "operator": "IN", "values": ["enterprise", "pro"]}])
    session.commit()
    latest = service.history(session=session, name="uses-it")[0]
    assert latest["version"] == editing + 1 and latest["actor"] == "olivia"
    assert latest["reason"].startswith("segment 'enterprise' changed (constraints[0].values: ")
    assert latest["reason"].endswith('["enterprise", "pro"]): pro customers asked for it too')
    assert service.get_flag(session=session, name="does-not").version == 1
    assert "flag.segment" in set(session.scalars(select(AuditLog.action).where(AuditLog.entity_id == "uses-it")))
    # Someone editing the flag from before the segment change is told it moved, and why.
    defn = service.snapshot(service.get_flag(session=session, name="uses-it"))
    with pytest.raises(service.StaleFlagError, match="segment 'enterprise' changed"):
        service.save_flag(session=session, actor=ops, name="uses-it", definition=dict(defn, description="x"),
                          expected_version=editing, reason="x")
    session.rollback()
    # Saving the same constraints again (a description, an import) changes no flag.
    service.save_segment(session=session, actor=ops, name="enterprise", description="paying plans", reason="wording",
                         constraints=[{"contextName": "plan", "operator": "IN", "values": ["enterprise", "pro"]}])
    assert service.get_flag(session=session, name="uses-it").version == editing + 1
    with pytest.raises(service.FlagError, match="used by uses-it"):
        service.delete_segment(session=session, actor=ops, name="enterprise", reason="x")


def test_an_imported_feature_that_is_on_without_strategies_keeps_its_meaning_explicitly(session, ops):
    state = {"version": 2, "features": [{"name": "legacy", "enabled": True, "strategies": [], "type": "release"}]}
    service.import_state(session=session, actor=ops, state=state, environment="production", reason="from old Unleash")
    body = service.snapshot(service.get_flag(session=session, name="legacy"))["environments"]["production"]
    assert body == {"enabled": True, "strategies": [service.everyone_strategy("legacy")]}
    assert Engine(state).is_enabled("legacy", {"userId": "7"})
    assert Engine(service.client_state(session=session, environment="production")).is_enabled("legacy", {"userId": "7"})


def test_another_flags_definition_is_refused_and_nothing_changes(session, ops):
    _new(session, ops, name="dark-mode")
    other = _new(session, ops, name="ai-reply-suggestions")
    definition = service.snapshot(other) | {"description": "suggested replies"}
    with pytest.raises(service.FlagError, match="'ai-reply-suggestions''s, not 'dark-mode''s"):
        service.save_flag(session=session, actor=ops, name="dark-mode", definition=definition, expected_version=1,
                          reason="tidy up")
    session.rollback()
    assert service.get_flag(session=session, name="dark-mode").version == 1


def test_search_matches_the_text_literally(session, ops):
    _new(session, ops, name="new-checkout", description="100% of the new checkout")
    _new(session, ops, name="dark_mode", description="dark theme")
    assert [f["name"] for f in service.list_flags(session=session, search="_")] == ["dark_mode"]
    assert [f["name"] for f in service.list_flags(session=session, search="100%")] == ["new-checkout"]
    assert [f["name"] for f in service.list_flags(session=session, search="CHECKOUT")] == ["new-checkout"]
