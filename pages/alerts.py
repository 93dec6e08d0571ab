"""Alerts: what fires now, the history as intervals with triage, the rules, silences (ops) and notifications sent."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from core.auth.roles import Permission, PermissionDenied, has_permission
from core.db import session_scope
from core.monitoring import service, triage
from core.monitoring.alertmanager import SilenceError
from core.monitoring.errors import MonitoringUnavailable, QueryError
from core.ui import monitoring as data
from core.ui.context import flash, form_done, form_key, page_user, show_flash
from core.ui.widgets import md_escape, when

user = page_user(Permission.VIEW_MONITORING)
may_silence = has_permission(user.role, Permission.MANAGE_SILENCES)
may_triage = has_permission(user.role, Permission.TRIAGE_ALERTS)

st.title("Alerts")
show_flash()

tab_names = ["Firing now", "History & triage", "Rules", "Notifications"] + (["Silences"] if may_silence else [])
tabs = dict(zip(tab_names, st.tabs(tab_names, key="alerts_tab", on_change="rerun")))


def _guard(fn, *args):
    """Run a loader; on a backend outage show the banner and return None."""
    try:
        return fn(*args)
    except MonitoringUnavailable as exc:
        data.unavailable_banner(exc)
    except QueryError as exc:
        st.error(md_escape(str(exc)))
    return None


with tabs["Firing now"]:
    alerts = _guard(data.firing_now)
    if alerts is not None:
        if not alerts:
            st.success("Nothing is firing.")
        else:
            counts = pd.Series([a["state"] for a in alerts]).value_counts()
            c = st.columns(3)
            c[0].metric("Active", int(counts.get("active", 0)))
            c[1].metric("Silenced", int(counts.get("silenced", 0)))
            c[2].metric("Inhibited", int(counts.get("inhibited", 0)))
            st.dataframe(pd.DataFrame([{
                "alert": a["alertname"], "severity": a["severity"], "service": a["service"], "state": a["state"],
                "since": a["starts_at"], "summary": a["summary"], "runbook": a["runbook"],
                "silenced by": ", ".join(a["silenced_by"]), "inhibited by": ", ".join(a["inhibited_by"]),
                "receivers": ", ".join(a["receivers"])} for a in alerts]), hide_index=True, width="stretch")
            # What to do, next to what is firing: each firing alert's runbook section from docs/runbooks.
            from core.monitoring.runbooks import section

            for ref, name in dict.fromkeys((a["runbook"], a["alertname"]) for a in alerts if a["runbook"]):
                steps = section(ref)
                with st.expander(f"Runbook: {name}", expanded=len(alerts) == 1):
                    if steps:
                        st.markdown(steps)  # the repository's own runbook text
                    st.caption(f"{md_escape(ref)} (in the repository)")

with tabs["History & triage"]:
    start, end = data.range_picker("alerts", default="Last 7 days")
    acc = data.accuracy(start, end)
    o = acc["overall"]
    c = st.columns(3)
    c[0].metric("Alert accuracy", "n/a" if o["accuracy"] is None else f"{o['accuracy']:.0%}",
                help="actionable / triaged intervals that started in this range; target over 95%")
    c[1].metric("Triaged", o["triaged"])
    c[2].metric("Actionable", o["actionable"])
    found = _guard(data.intervals, start, end)
    if found is not None:
        if not found:
            st.info("No alert fired in this range.")
        else:
            table = pd.DataFrame([{k: v for k, v in i.items() if not k.startswith("_")} for i in found])
            table.insert(0, "#", range(1, len(table) + 1))
            st.dataframe(table, hide_index=True, width="stretch",
                         column_config={"starts_at": None,   # shown as "start" (which may read "started before")
                                        "ends_at": st.column_config.DatetimeColumn("ended (empty: still firing)",
                                                                                   format="YYYY-MM-DD HH:mm"),
                                        "duration_min": st.column_config.NumberColumn("duration (min)")})
            if may_triage:
                with st.form(form_key("triage")):
                    st.markdown("**Triage an interval**")
                    # keyed by identity, not position: the list may change between render and submit
                    by_key = {f"{i['alertname']}|{i['labels']}|{i['starts_at'].isoformat()}": (n, i)
                              for n, i in enumerate(found)}
                    keys = list(by_key)
                    # The first one still waiting for a verdict; one already triaged says so (saving replaces it).
                    first_open = next((n for n, k in enumerate(keys) if not by_key[k][1]["verdict"]), 0)
                    pick = st.selectbox("Interval", keys, index=first_open,
                                        format_func=lambda k: f"#{by_key[k][0] + 1} {by_key[k][1]['alertname']} "
                                                              f"{by_key[k][1]['start']}"
                                                              + (f" (triaged: {by_key[k][1]['verdict']}; saving "
                                                                 "replaces it)" if by_key[k][1]["verdict"] else ""))
                    verdict = st.radio("Verdict", ["actionable", "noise"], horizontal=True)
                    note = st.text_area("Note", max_chars=2000)
                    if st.form_submit_button("Save verdict"):
                        iv = by_key[pick][1]
                        try:
                            with session_scope() as s:
                                triage.triage_interval(session=s, actor=user, alertname=iv["alertname"],
                                                       labels=iv["_labels"], starts_at=iv["starts_at"],
                                                       ends_at=iv["ends_at"], verdict=verdict, note=note)
                        except (triage.TriageError, PermissionDenied) as exc:
                            st.error(md_escape(str(exc)))
                        else:
                            data.clear()
                            form_done("triage")
                            flash(f"Saved: {iv['alertname']} marked {verdict}.")
                            st.rerun()
    if acc["by_alert"]:
        st.markdown("**Accuracy per alert**")
        st.dataframe(pd.DataFrame(acc["by_alert"]), hide_index=True, width="stretch",
                     column_config={"accuracy": st.column_config.NumberColumn(format="percent")})

with tabs["Rules"]:
    rules = _guard(data.rules)
    if rules is not None:
        if not rules:
            st.info("Prometheus has no alert rules loaded (check --config.file=deploy/prometheus.yml).")
        else:
            st.dataframe(pd.DataFrame(rules), hide_index=True, width="stretch")

with tabs["Notifications"]:
    st.caption("Each delivery attempt of the console's own notifications (PagerDuty, Slack, mail).")
    log = data.attempts()
    if log.empty:
        st.info("No notification has been sent yet.")
    else:
        st.dataframe(log, hide_index=True, width="stretch")

if may_silence:
    with tabs["Silences"]:
        current = _guard(data.silences)
        if current is not None:
            if current:
                st.dataframe(pd.DataFrame(current), hide_index=True, width="stretch", column_config={
                    "starts_at": when("starts (UTC)"), "ends_at": when("ends (UTC)"), "created_by": "created by"})
            else:
                st.info("No silences.")
            with st.form(form_key("new_silence")):  # a refused one keeps its text; a created one clears it
                st.markdown("**New silence**")
                matchers = st.text_area("Matchers (one per line or comma-separated)",
                                        placeholder='alertname=SlowResponseTime\nservice=~"api|web"')
                hours = st.number_input("Duration (hours)", min_value=0.25, max_value=720.0, value=2.0, step=0.25)
                comment = st.text_input("Comment (why)", max_chars=1000)
                if st.form_submit_button("Create silence"):
                    try:
                        with session_scope() as s:
                            sid = service.create_silence(session=s, actor=user, matchers=matchers,
                                                         duration=timedelta(hours=hours), comment=comment)
                    except (SilenceError, QueryError, PermissionDenied) as exc:
                        st.error(md_escape(str(exc)))
                    except MonitoringUnavailable as exc:
                        data.unavailable_banner(exc)
                    else:
                        data.clear()
                        form_done("new_silence")
                        flash(f"Silence {sid} created.")
                        st.rerun()
            active = [x for x in current if x["state"] != "expired"]
            if active:
                with st.form(form_key("expire_silence")):
                    st.markdown("**Expire a silence**")
                    sid = st.selectbox("Silence", [x["id"] for x in active],
                                       format_func=lambda i: next(f"{x['matchers']} (until {x['ends_at']:%Y-%m-%d %H:%M} "
                                                                  f"UTC, by {x['created_by'] or 'unknown'}: "
                                                                  f"{x['comment'][:60]})"
                                                                  for x in active if x["id"] == i))
                    sure = st.checkbox("Its alerts notify again from now on")
                    pressed = st.form_submit_button("Expire now")
                    if pressed and not sure:
                        st.error("Tick the box to confirm: the silenced alerts will notify again. Nothing was expired.")
                    elif pressed:
                        try:
                            with session_scope() as s:
                                service.expire_silence(session=s, actor=user, silence_id=sid)
                        except (SilenceError, QueryError, PermissionDenied) as exc:
                            st.error(md_escape(str(exc)))
                        except MonitoringUnavailable as exc:
                            data.unavailable_banner(exc)
                        else:
                            data.clear()
                            form_done("expire_silence")
                            flash("Silence expired.")
                            st.rerun()
