"""Feature flags: state per environment, stale markers, toggles with reasons, rollout, targeting, variants, schedules, history."""

import json
from datetime import datetime, time, timedelta, timezone

import pandas as pd
import streamlit as st

from core.auth.roles import Permission, PermissionDenied, has_permission
from core.db import session_scope
from core.flags import service
from core.flags.models import Flag, FlagType, ScheduleAction
from core.ui import flags as data
from core.ui.context import flash, page_user, show_flash
from core.ui.widgets import md_escape, when

user = page_user(Permission.VIEW_FLAGS)
may_manage = has_permission(user.role, Permission.MANAGE_FLAGS)
ENVS = list(service.ENVIRONMENTS)

st.title("Feature flags")
st.caption("Unleash-compatible flags: services read them through core.flags.Client (or its OpenFeature provider). "
           "Every change needs a reason and becomes a version you can diff and revert.")
show_flash()


def _write(action, success) -> bool:
    """Run a service call in one transaction; show the outcome (success: text, or text from the result)."""
    try:
        with session_scope() as s:
            result = action(s)
            message = success(result) if callable(success) else success
            made = (result.name, result.version) if isinstance(result, Flag) else None
    except service.StaleFlagError as exc:
        # Show the new version; the editor's own version stays until they press Reload, so nothing they
        # typed on the old one can be saved over the change they have not seen.
        data.clear()
        st.error(md_escape(str(exc)))
        return False
    except service.FlagValidationError as exc:
        st.error("Not saved:")
        for e in exc.errors:
            st.text(f"• {e}")
        return False
    except (service.FlagError, PermissionDenied) as exc:
        st.error(f"Not saved: {md_escape(str(exc))}")
        return False
    data.clear()
    if made:
        data.saved(*made)
    flash(message)
    st.rerun()
    return True


def _describe(strategy: dict) -> str:
    """A strategy in a few words: its name, rollout and how many constraints limit it."""
    params = strategy.get("parameters") or {}
    pct = params.get("rollout", params.get("percentage"))
    n = len(strategy.get("constraints") or [])
    return strategy["name"] + (f" {pct}%" if pct is not None else "") + (f", {n} constraint{'s' * (n != 1)}" if n else "")


def _switched(name: str, env: str, target: str, *, had_strategy: bool) -> str:
    if target == "on" and not had_strategy:
        return (f"{name} is on in {env}. It had no strategy there, so a 100% rollout was added (as Unleash does); "
                "set a lower rollout or user ids to narrow it.")
    return f"{name} is {target} in {env}."


def _targeting_saved(saved_flag, env: str) -> str:
    body = next(e for e in saved_flag.environments if e.environment == env)
    if not body.enabled and not body.strategies:
        return (f"{saved_flag.name}: targeting saved for {env}. No strategy was left, so the flag is now off in {env}, "
                "not on for everyone. Set a rollout or user ids before switching it on again.")
    return f"{saved_flag.name}: targeting saved for {env}."


# --- list with filters -------------------------------------------------------------------------
c1, c2, c3 = st.columns([3, 2, 1])
search = c1.text_input("Search", placeholder="name or description", key="flags_search")
type_choice = c2.selectbox("Type", ["all"] + [t.value for t in FlagType], key="flags_type")
stale_only = c3.checkbox("Stale only", key="flags_stale_only")
rows = data.flags_table(search.strip(), None if type_choice == "all" else type_choice)
if stale_only:
    rows = [r for r in rows if r["stale"]]

if rows:
    st.dataframe(pd.DataFrame([{
        "flag": r["name"], "type": r["type"],
        **{env: ("on" if r[env] else "off") + (f" · {r[f'{env}_rollout']}%" if r[f"{env}_rollout"] is not None else "")
           for env in ENVS},
        "stale": "stale" if r["stale"] else "", "last change (UTC)": r["updated_at"], "version": r["version"],
        "description": r["description"],
    } for r in rows]), hide_index=True, width="stretch", column_config={"last change (UTC)": when("last change (UTC)")})
    st.caption("Stale: no change within the type's expected lifetime (release and experiment 40 days, "
               "operational 7 days; kill switches and permissions never go stale).")
else:
    st.info("No flags match." if (search or type_choice != "all" or stale_only) else "No flags yet.")

if may_manage:
    with st.expander("New flag"):
        with st.form("flag_create"):
            name = st.text_input("Name", placeholder="new-checkout")
            kind = st.selectbox("Type", [t.value for t in FlagType])
            description = st.text_input("Description")
            reason = st.text_input("Reason", key="create_reason")
            if st.form_submit_button("Create flag"):
                _write(lambda s: service.create_flag(session=s, actor=user, name=name.strip(), flag_type=kind,
                                                     description=description, reason=reason),
                       f"Flag {name.strip()} created (off in every environment).")

names = [r["name"] for r in rows]
if not names:
    st.stop()
selected = st.selectbox("Flag", names, key="flags_selected")
flag = data.flag_detail(selected)
if flag is None:
    st.warning("That flag no longer exists.")
    st.stop()
# Every form saves against the version this person loaded, whatever the shared cache shows now.
loaded_version = data.editing_version(selected, flag["version"])


def fkey(base: str) -> str:
    """A form field's key for this flag and version: another flag, or a newer version, is a new field, so the
    browser cannot send back what the field held for the flag shown before (and save it onto this one)."""
    return data.field_key(base, selected, loaded_version)


st.subheader(selected)
head, reload_col = st.columns([6, 1])
head.text(f"{flag['type']} · version {flag['version']} · {flag['description'] or 'no description'}")
reload_col.button("Reload", key="flags_reload", on_click=data.reload, args=(selected,),
                  help="Read the flag afresh and edit its newest version (unsaved edits are dropped).")
if may_manage and flag["version"] > loaded_version:
    last = data.flag_history(selected)[0]
    by = f" (saved by {md_escape(last['actor'])}: {md_escape(last['reason'])})" if last["version"] == flag["version"] else ""
    st.warning(f"{selected} changed since you loaded it: you are editing version {loaded_version}, and it is now "
               f"version {flag['version']}{by}. Your saves are refused until you press Reload, which shows the new "
               "version and drops your unsaved edits.")
cols = st.columns(len(ENVS))
for col, env in zip(cols, ENVS):
    e = flag["environments"][env]
    pct = service.rollout_of(e["strategies"])
    col.metric(env, "on" if e["enabled"] else "off", help="strategies: " + ", ".join(s["name"] for s in e["strategies"]))
    if pct is not None:
        col.caption(f"gradual rollout {pct}%")
    if e["enabled"] and not e["strategies"]:  # saved before the store refused this; clients serve it to everyone
        col.error("On for everyone: no strategy. Set a rollout or user ids, or switch it off.")

tab_names = ["Switch", "Rollout & targeting", "Variants", "Scheduled changes", "History", "Definition", "Segments"]
tabs = dict(zip(tab_names, st.tabs(tab_names, key="flags_tab", on_change="rerun")))

with tabs["Switch"]:
    if not may_manage:
        st.info("Your role may view flags but not change them.")
    elif flag["type"] == FlagType.KILL_SWITCH:
        st.warning("Kill switch: flips at once, no confirmation step. Say why.")
        # The environment is chosen outside the form, so the button always names what it will do there.
        env = st.selectbox("Environment", ENVS, index=ENVS.index("production"), key="kill_env")
        with st.form("kill_switch"):
            reason = st.text_input("Reason", key="kill_reason")
            now_on = flag["environments"][env]["enabled"]
            if st.form_submit_button("Turn OFF" if now_on else "Turn ON", type="primary"):
                _write(lambda s: service.toggle(session=s, actor=user, name=selected, environment=env, enabled=not now_on,
                                                reason=reason),
                       f"{selected} turned {'off' if now_on else 'on'} in {env}.")
    else:
        with st.form("toggle"):
            env = st.selectbox("Environment", ENVS, key="toggle_env")
            target = st.radio("Set to", ["on", "off"], horizontal=True, key="toggle_target")
            reason = st.text_input("Reason", key="toggle_reason")
            confirm = st.checkbox("I confirm this change", key="toggle_confirm")
            if st.form_submit_button("Apply"):
                if not confirm:
                    st.error("Tick the confirmation box first.")
                else:
                    _write(lambda s: service.toggle(session=s, actor=user, name=selected, environment=env,
                                                    enabled=target == "on", reason=reason, expected_version=loaded_version),
                           _switched(selected, env, target, had_strategy=bool(flag["environments"][env]["strategies"])))

with tabs["Rollout & targeting"]:
    if may_manage:
        # Outside the form, so choosing an environment shows that environment's percentage.
        env = st.selectbox("Rollout in", ENVS, index=ENVS.index("production"), key="rollout_env")
        current = service.rollout_of(flag["environments"][env]["strategies"])
        with st.form("rollout"):
            pct = st.number_input("Rollout percentage", min_value=0, max_value=100, step=1,
                                  value=100 if current is None else current, key=fkey(f"rollout_pct:{env}"),
                                  help="Now: " + ("no gradual rollout" if current is None else f"{current}%") + f" in {env}.")
            reason = st.text_input("Reason", key="rollout_reason")
            if st.form_submit_button("Set rollout"):
                _write(lambda s: service.set_rollout(session=s, actor=user, name=selected, environment=env,
                                                     percentage=int(pct), reason=reason, expected_version=loaded_version),
                       f"{selected}: rollout {int(pct)}% in {env}.")
        segs = data.segments()
        seg_ids = {g["name"]: g["id"] for g in segs}
        seg_names = {g["id"]: g["name"] for g in segs}
        # Outside the form, so choosing an environment redraws the form with that environment's strategies.
        target_env = st.selectbox("Targeting in", ENVS, index=ENVS.index("production"), key="target_env")
        strategies = flag["environments"][target_env]["strategies"]
        with st.form("targeting"):
            st.write("Target users by id (always on for them), and limit each other strategy to segments. "
                     "Clearing the ids removes the user-id strategy; if it was the only one, the flag is switched off "
                     "in this environment (as Unleash does), never left on for everyone.")
            ids_now = next(((s.get("parameters") or {}).get("userIds", "") for s in strategies if s["name"] == "userWithId"), "")
            ids = st.text_input("User ids (comma-separated)", value=ids_now, key=fkey(f"target_ids:{target_env}"))
            picked: dict[int, list[int]] = {}
            for i, strat in enumerate(strategies):
                if strat["name"] == "userWithId":
                    continue
                now = [seg_names[x] for x in strat.get("segments") or [] if x in seg_names]
                chosen = st.multiselect(f"Segments of strategy {i + 1}: {_describe(strat)}", list(seg_ids), default=now,
                                        key=fkey(f"target_segments:{target_env}:{i}"))
                if set(chosen) != set(now):  # only the strategies whose segments were changed are touched
                    picked[i] = [seg_ids[n] for n in chosen]
            reason = st.text_input("Reason", key="target_reason")
            if st.form_submit_button("Save targeting"):
                _write(lambda s: service.set_targeting(session=s, actor=user, name=selected, environment=target_env,
                                                       user_ids=ids, segments=picked, reason=reason,
                                                       expected_version=loaded_version),
                       lambda f: _targeting_saved(f, target_env))
    for env in ENVS:
        st.caption(f"{env} strategies")
        st.code(json.dumps(flag["environments"][env]["strategies"], indent=2, ensure_ascii=False), language="json")

with tabs["Variants"]:
    st.caption("Weights add up to 100. Stickiness: default (userId, then sessionId), or a context field.")
    variants = flag["variants"] or []
    frame = pd.DataFrame([{"name": v.get("name", ""), "weight": v.get("weight", 0),
                           "payload type": (v.get("payload") or {}).get("type", ""),
                           "payload value": (v.get("payload") or {}).get("value", ""),
                           "stickiness": v.get("stickiness", "default")} for v in variants]
                         or [], columns=["name", "weight", "payload type", "payload value", "stickiness"])
    if may_manage:
        with st.form("variants"):
            edited = st.data_editor(frame, num_rows="dynamic", width="stretch", key=fkey("variants_editor"), column_config={
                "weight": st.column_config.NumberColumn(min_value=0, max_value=1000, step=1),
                "payload type": st.column_config.SelectboxColumn(options=["", "string", "json", "csv", "number"]),
            })
            reason = st.text_input("Reason", key="variants_reason")
            if st.form_submit_button("Save variants"):
                new = []
                for _, r in edited.fillna("").iterrows():
                    if not str(r["name"]).strip():
                        continue
                    v = {"name": str(r["name"]).strip(), "weight": int(r["weight"] or 0),
                         "stickiness": str(r["stickiness"] or "default")}
                    if r["payload type"]:
                        v["payload"] = {"type": str(r["payload type"]), "value": str(r["payload value"])}
                    new.append(v)
                defn = json.loads(json.dumps(flag))
                defn["variants"] = new
                _write(lambda s: service.save_flag(session=s, actor=user, name=selected, definition=defn,
                                                   expected_version=loaded_version, reason=reason, action="flag.variants"),
                       f"{selected}: {len(new)} variant(s) saved.")
    else:
        st.dataframe(frame, hide_index=True, width="stretch")

with tabs["Scheduled changes"]:
    sched = data.flag_schedules(selected)
    if sched:
        st.dataframe(pd.DataFrame(sched), hide_index=True, width="stretch")
    else:
        st.caption("No scheduled changes.")
    if may_manage:
        with st.form("schedule"):
            env = st.selectbox("Environment", ENVS, index=ENVS.index("production"), key="sched_env")
            action = st.selectbox("Action", [a.value for a in ScheduleAction], key="sched_action")
            pct = st.number_input("Rollout (for set_rollout)", min_value=0, max_value=100, value=50, key="sched_pct")
            tomorrow = datetime.now(timezone.utc) + timedelta(days=1)
            day = st.date_input("Date (UTC)", value=tomorrow.date(), key="sched_day")
            at = st.time_input("Time (UTC)", value=time(9, 0), key="sched_time")
            reason = st.text_input("Reason", key="sched_reason")
            if st.form_submit_button("Schedule"):
                run_at = datetime.combine(day, at, tzinfo=timezone.utc)
                _write(lambda s: service.schedule_change(session=s, actor=user, name=selected, environment=env, action=action,
                                                         run_at=run_at, reason=reason,
                                                         rollout=int(pct) if action == ScheduleAction.SET_ROLLOUT else None),
                       f"{selected}: {action} scheduled for {run_at:%Y-%m-%d %H:%M} UTC.")
        pending = [x for x in sched if x["status"] == "pending"]
        if pending:
            with st.form("schedule_cancel"):
                sid = st.selectbox("Cancel scheduled change", [x["id"] for x in pending],
                                   format_func=lambda i: next(f"#{x['id']} {x['action']} {x['environment']} at {x['run_at']:%Y-%m-%d %H:%M}"
                                                              for x in pending if x["id"] == i), key="sched_cancel_id")
                reason = st.text_input("Reason", key="sched_cancel_reason")
                if st.form_submit_button("Cancel it"):
                    _write(lambda s: service.cancel_schedule(session=s, actor=user, schedule_id=sid, reason=reason),
                           f"Scheduled change #{sid} cancelled.")

with tabs["History"]:
    hist = data.flag_history(selected)
    for h in hist:
        with st.expander(f"v{h['version']} · {h['at']:%Y-%m-%d %H:%M} UTC · {h['actor']}", expanded=h is hist[0]):
            st.text(f"Why: {h['reason']}")
            st.code("\n".join(h["changes"]) or "(the flag's own definition did not change)", language="diff")
    if may_manage and len(hist) > 1:
        with st.form("revert"):
            to = st.selectbox("Revert to version", [h["version"] for h in hist[1:]], key="revert_to")
            reason = st.text_input("Reason", key="revert_reason")
            if st.form_submit_button("Revert"):
                _write(lambda s: service.revert(session=s, actor=user, name=selected, to_version=int(to), reason=reason,
                                                expected_version=loaded_version),
                       f"{selected} reverted to version {to} (as a new version).")

with tabs["Definition"]:
    st.code(json.dumps(flag, indent=2, ensure_ascii=False), language="json")
    if may_manage:
        with st.form("definition"):
            st.caption("Edit the whole definition (strategies with constraints, variants, dependencies) as JSON.")
            text = st.text_area("Definition", value=json.dumps(flag, indent=2, ensure_ascii=False), height=300,
                                key=fkey("definition_text"))
            reason = st.text_input("Reason", key="definition_reason")
            if st.form_submit_button("Save definition"):
                try:
                    defn = json.loads(text)
                except ValueError as exc:
                    st.error(f"Not JSON: {exc}")
                else:
                    _write(lambda s: service.save_flag(session=s, actor=user, name=selected, definition=defn,
                                                       expected_version=loaded_version, reason=reason),
                           f"{selected}: definition saved.")

with tabs["Segments"]:
    segs = data.segments()
    if segs:
        st.dataframe(pd.DataFrame([{"id": g["id"], "segment": g["name"], "description": g["description"],
                                    "constraints": json.dumps(g["constraints"], ensure_ascii=False),
                                    "used by": ", ".join(g["used_by"])} for g in segs]),
                     hide_index=True, width="stretch")
        st.caption("Changing a segment's constraints makes a new version of every flag that uses it, "
                   "so each flag's history shows the change.")
    if may_manage:
        with st.form("segment"):
            name = st.text_input("Segment name", key="segment_name")
            description = st.text_input("Description", key="segment_description")
            constraints = st.text_area("Constraints (JSON list)", key="segment_constraints",
                                       value='[{"contextName": "plan", "operator": "IN", "values": ["enterprise"]}]')
            reason = st.text_input("Reason", key="segment_reason")
            if st.form_submit_button("Save segment"):
                try:
                    parsed = json.loads(constraints)
                except ValueError as exc:
                    st.error(f"Not JSON: {exc}")
                else:
                    _write(lambda s: service.save_segment(session=s, actor=user, name=name.strip(), constraints=parsed,
                                                          description=description, reason=reason),
                           f"Segment {name.strip()} saved.")
