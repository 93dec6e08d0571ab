"""Admin: console users, their roles and teams."""

import pandas as pd
import streamlit as st

from core.auth import service
from core.auth.roles import Permission, PermissionDenied, Role
from core.db import session_scope
from core.ui import tickets as data
from core.ui.context import flash, form_done, form_key, page_user, show_flash
from core.ui.widgets import md_escape

user = page_user(Permission.MANAGE_USERS)
st.title("Users")
show_flash()

with session_scope() as s:
    rows = [{"username": u.username, "name": u.name, "email": u.email, "role": u.role,
             "team": u.team.name if u.team else "", "active": u.active, "away": u.away}
            for u in service.list_users(session=s)]
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

c1, c2 = st.columns(2)
with c1, st.form(form_key("add_user")):  # a refused user keeps what was typed
    st.subheader("Add a user")
    username = st.text_input("Username")
    name = st.text_input("Name")
    email = st.text_input("E-mail")
    role = st.selectbox("Role", [r.value for r in Role if r != Role.CUSTOMER])
    teams = data.teams()
    team = st.selectbox("Team", [None, *[t["key"] for t in teams]], format_func=lambda k: "none" if k is None else k)
    password = st.text_input("Initial password", type="password")
    if st.form_submit_button("Add user"):
        try:
            with session_scope() as s:
                service.create_user(session=s, actor=user, username=username, name=name, email=email, role=role,
                                    password=password, team_key=team)
            data.agents.clear()
            form_done("add_user")
            flash(f"User {username} added.")
            st.rerun()
        except (service.UserError, PermissionDenied) as exc:
            st.error(md_escape(str(exc)))

with c2, st.form("toggle_user"):
    st.subheader("Enable or disable")
    who = st.selectbox("User", [r["username"] for r in rows if r["username"] != user.username])
    active = st.radio("Login", ["enabled", "disabled"], horizontal=True)
    if st.form_submit_button("Apply"):
        try:
            with session_scope() as s:
                service.set_active(session=s, actor=user, username=who, active=active == "enabled")
            flash(f"{who} {active}.")
            st.rerun()
        except (service.UserError, PermissionDenied) as exc:
            st.error(md_escape(str(exc)))
