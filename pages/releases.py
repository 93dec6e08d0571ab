"""Releases: deployments with status, duration and why a failed one failed, the schema state, the running
versions, what changed, the changelog."""

import pandas as pd
import streamlit as st

from core.auth.roles import Permission
from core.releases.heartbeat import FORGET, FRESH, ago
from core.releases.queries import release_windows
from core.ui import releases as data
from core.ui.context import page_user

page_user(Permission.VIEW_RELEASES)
st.title("Releases")
st.caption("Deploys run from a shell with `python -m core release`: tests, migration checks, a pre-deploy backup, "
           "the upgrade, smoke checks, and a rollback when a step fails. `python -m core release rollback` "
           "returns to the previous deployment.")
if st.button("Refresh", icon=":material/refresh:"):
    data.clear()

# --- now: code version and migration state ----------------------------------------------------
state = data.state()
rows = data.deployments()
last_ok = next((d for d in rows or [] if d["status"] == "succeeded"), None)
c1, c2, c3 = st.columns(3)
c1.metric("Running code", state["code_version"])
c2.metric("Last successful release", last_ok["version"] if last_ok else "none yet")
c3.metric("Schema revision", state["current"] or "none", help=f"head of the migrations: {state['head']}")
if state["pending"]:
    st.warning(f"{len(state['pending'])} migration(s) pending: {', '.join(state['pending'])}. "
               "Run `python -m core release` (or `python -m core db upgrade`).", icon=":material/warning:")
else:
    st.success("The schema is at the head revision: no migrations pending.", icon=":material/check_circle:")

# --- running versions: the heartbeats of app replicas and workers (a rolling restart's progress) --------
st.subheader("Running versions")
running = data.running_versions()
if running is None:
    st.info("No heartbeats table at this schema revision: running versions are shown from revision 0013 on.")
elif not running:
    st.info(f"No app replica or worker has reported in the last {FORGET.seconds // 60} minutes.")
else:
    fresh = [p for p in running if p["fresh"]]
    versions = sorted({p["version"] for p in fresh})
    if len(versions) > 1:
        counts = ", ".join(f"{sum(p['version'] == v for p in fresh)} on {v}" for v in versions)
        st.warning(f"{len(versions)} versions run side by side ({counts}): a rolling restart is in progress, "
                   "and a contracting migration waits until one version is left.", icon=":material/sync:")
    st.dataframe(pd.DataFrame([{
        "kind": p["kind"], "host": p["host"], "pid": p["pid"], "version": p["version"], "commit": p["commit"],
        "last seen": ago(p["seconds_ago"]) + ("" if p["fresh"] else " (stale)"), "started": p["started_at"],
    } for p in running]), hide_index=True, width="stretch")
    st.caption(f"Every app replica and worker records itself about once a minute; a process that stops cleanly "
               f"leaves the list, one not seen for {FRESH.seconds // 60} minutes no longer counts as running "
               f"(stale), and after {FORGET.seconds // 60} minutes it is dropped.")

tab_dep, tab_changes, tab_log = st.tabs(["Deployments", "What changed", "Changelog"], key="releases_tab", on_change="rerun")

# --- deployments -----------------------------------------------------------------------------
with tab_dep:
    if rows is None:
        st.info("No deployments table at this schema revision: releases are recorded from revision 0009 on.")
    elif not rows:
        st.info("No release has been recorded yet.")
    else:
        latest = rows[0]
        if latest["status"] in ("failed", "rolled_back"):
            rb = latest["rollback"] or {}
            st.error(f"Release #{latest['id']} ({latest['version']}) {latest['status'].replace('_', ' ')} "
                     f"at step '{latest['failed_step'] or '?'}'.", icon=":material/error:")
            st.text(f"Why: {latest['error'] or 'unknown'}")
            if rb:
                st.text(f"Rollback ({rb.get('method', 'none')}, {'ok' if rb.get('ok') else 'FAILED'}): "
                        f"{rb.get('message', '')}")
        elif latest["status"] == "running":
            st.info(f"Release #{latest['id']} ({latest['version']}) is running, started by {latest['actor']}.")
        table = pd.DataFrame([{
            "#": d["id"], "version": d["version"], "status": d["status"].replace("_", " "),
            "started": d["started_at"], "duration (s)": None if d["duration_seconds"] is None
            else round(d["duration_seconds"], 1), "by": d["actor"],
            "schema": f"{d['revision_before'] or 'base'} → {d['revision_after'] or '?'}",
            "failed step": d["failed_step"] or "", "why": d["error"] or "",
            "rollback": ((d["rollback"] or {}).get("method") or "") if d["status"] != "succeeded" else "",
        } for d in rows])
        st.dataframe(table, hide_index=True, width="stretch")
        pick = st.selectbox("Steps of release", [d["id"] for d in rows],
                            format_func=lambda i: next(f"#{d['id']} {d['version']} ({d['status']})"
                                                       for d in rows if d["id"] == i))
        chosen = next(d for d in rows if d["id"] == pick)
        # A skipped step did not fail, but it did not pass either: say which it was.
        steps = pd.DataFrame([{"step": s.get("step"),
                               "result": "skipped" if str(s.get("message", "")).startswith("skipped")
                               else "ok" if s.get("ok") else "FAILED",
                               "seconds": s.get("seconds"), "message": s.get("message", "")} for s in chosen["steps"]])
        if steps.empty:
            st.caption("No steps recorded.")
        else:
            st.dataframe(steps, hide_index=True, width="stretch")
        if chosen["rollback"]:
            st.caption("Rollback")
            st.json(chosen["rollback"])

# --- what changed in each release's window -----------------------------------------------------
with tab_changes:
    windows = release_windows(rows or [])
    if not windows:
        st.info("No successful release yet: nothing to attribute changes to.")
    for dep, start, end in windows[:10]:
        since = f"since {start:%Y-%m-%d %H:%M}" if start else "up to the first release"
        with st.expander(f"#{dep['id']} {dep['version']} — {end:%Y-%m-%d %H:%M} ({since})", expanded=dep is windows[0][0]):
            changes = data.window_changes(start, end)
            st.markdown("**Roadmap changes** (items added or moved between statuses, when it was done)")
            if changes["roadmap"] is None:
                st.caption("The roadmap table does not exist at this schema revision; section skipped.")
            elif not changes["roadmap"]:
                st.caption("None in this window.")
            else:
                st.dataframe(pd.DataFrame(changes["roadmap"]), hide_index=True, width="stretch")
            st.markdown("**Feature flag changes**")
            if changes["flags"] is None:
                st.caption("The flag tables do not exist at this schema revision; section skipped.")
            elif not changes["flags"]:
                st.caption("None in this window.")
            else:
                st.dataframe(pd.DataFrame(changes["flags"]), hide_index=True, width="stretch")

# --- changelog ----------------------------------------------------------------------------------
with tab_log:
    text, error = data.changelog()
    if error:
        st.warning(f"The changelog could not be generated here: {error}")
    else:
        st.caption("Generated from Conventional Commits; `python -m core changelog` writes it to CHANGELOG.md.")
        st.markdown(text)
