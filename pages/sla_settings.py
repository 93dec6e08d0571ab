"""Admin: SLA policies per priority (optionally per plan) and business-hours calendars."""

import zoneinfo

import pandas as pd
import streamlit as st

from core.auth.roles import Permission, PermissionDenied
from core.db import session_scope
from core.sla import service
from core.sla.calendar import DAYS, CalendarError, holidays_from_text, intervals_from_text, intervals_to_text
from core.ui import sla as data
from core.ui.context import flash, page_user, show_flash

user = page_user(Permission.MANAGE_SLA)
st.title("SLA policies")
st.caption("Targets are in minutes of the policy's calendar (business hours) or of the clock (24x7). "
           "Clock rules: docs/sla.md. A change applies to open tickets as the sweep recomputes them (5,000 tickets a minute).")
show_flash()

cfg = data.settings()
calendars = {c["id"]: c for c in cfg["calendars"]}

st.subheader("Policies")
st.dataframe(pd.DataFrame(cfg["policies"]).drop(columns=["id", "calendar_id"]), hide_index=True, width="stretch")

with st.form("policy"):
    st.markdown("**Add or edit a policy** (the plan 'any' policy of a priority applies when no plan-specific one exists)")
    c1, c2 = st.columns(2)
    priority = c1.selectbox("Priority", ["high", "medium", "low"])
    plan = c2.selectbox("Account plan", list(service.PLANS))
    c3, c4, c5 = st.columns(3)
    fr = c3.number_input("First response target (minutes)", min_value=1, max_value=525_600, value=120, step=15)
    res = c4.number_input("Resolution target (minutes)", min_value=1, max_value=525_600, value=1440, step=60)
    warn = c5.number_input("Warn before (minutes)", min_value=0, max_value=525_600, value=30, step=5)
    bh = st.checkbox("Business hours (otherwise 24x7)", value=True)
    cal_id = st.selectbox("Calendar", list(calendars), format_func=lambda i: calendars[i]["name"]) if calendars else None
    if st.form_submit_button("Save policy"):
        try:
            with session_scope() as s:
                service.save_policy(session=s, actor=user, priority=priority, plan=plan, first_response_minutes=int(fr),
                                    resolution_minutes=int(res), warn_before_minutes=int(warn), business_hours=bh,
                                    calendar_id=cal_id if bh else None)
            data.clear()
            flash(f"Policy {priority}/{plan} saved.")
            st.rerun()
        except (service.SlaConfigError, PermissionDenied) as exc:
            data.error(str(exc))

removable = [p for p in cfg["policies"] if p["plan"] != "any"]
if removable:
    with st.form("remove_policy"):
        pid = st.selectbox("Remove a plan-specific policy", [p["id"] for p in removable],
                           format_func=lambda i: next(f"{p['priority']} / {p['plan']}" for p in removable if p["id"] == i))
        if st.form_submit_button("Remove"):
            try:
                with session_scope() as s:
                    service.delete_policy(session=s, actor=user, policy_id=pid)
                data.clear()
                flash("Policy removed.")
                st.rerun()
            except (service.SlaConfigError, PermissionDenied) as exc:
                data.error(str(exc))

st.subheader("Calendars")
# Names and holidays are typed by people: shown in a dataframe (plain text), never as markdown.
st.dataframe(pd.DataFrame([{"name": c["name"], "time zone": c["timezone"],
                            **{d: intervals_to_text(c["hours"].get(d)) or "closed" for d in DAYS},
                            "holidays": ", ".join(c["holidays"])} for c in cfg["calendars"]]),
             hide_index=True, width="stretch")

choice = st.selectbox("Edit calendar", [None, *calendars],
                      format_func=lambda i: "New calendar" if i is None else calendars[i]["name"])
current = calendars.get(choice) or {"name": "", "timezone": "Europe/Madrid", "hours": {}, "holidays": []}
zones = sorted(zoneinfo.available_timezones())
with st.form(f"calendar_{choice}"):
    name = st.text_input("Name", value=current["name"])
    tz = st.selectbox("Time zone", zones, index=zones.index(current["timezone"]) if current["timezone"] in zones else 0)
    st.caption("Open intervals per day, e.g. 09:00-14:00, 15:00-18:00 (a lunch break); leave blank for closed.")
    cols = st.columns(7)
    texts = {d: cols[i].text_input(d.title(), value=intervals_to_text(current["hours"].get(d)), key=f"h_{choice}_{d}")
             for i, d in enumerate(DAYS)}
    hol = st.text_area("Holidays (one date per line, YYYY-MM-DD)", value="\n".join(current["holidays"]))
    if st.form_submit_button("Save calendar"):
        try:
            hours = {d: intervals_from_text(d, t) for d, t in texts.items()}
            with session_scope() as s:
                service.save_calendar(session=s, actor=user, name=name, calendar_id=choice,
                                      calendar={"timezone": tz, "hours": {d: v for d, v in hours.items() if v},
                                                "holidays": holidays_from_text(hol)})
            data.clear()
            flash("Calendar saved.")
            st.rerun()
        except (CalendarError, service.SlaConfigError, PermissionDenied) as exc:
            data.error(str(exc))
