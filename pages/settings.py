"""Admin: the support mailbox and helpdesk providers: settings, connection test, last sync, failures."""

import pandas as pd
import streamlit as st

from core.auth.roles import Permission, PermissionDenied
from core.channels import service
from core.db import session_scope
from core.ui import channels as data
from core.ui import tickets as ticket_data
from core.ui.context import flash, page_user, show_flash
from core.ui.widgets import md_escape

user = page_user(Permission.MANAGE_SETTINGS)
st.title("Settings")
st.caption("Channels: where tickets arrive and which helpdesk Aftercare stays in step with. Secrets (IMAP_URL with "
           "its password, ZENDESK_API_TOKEN, FRONT_API_TOKEN) come from the environment only; everything else is "
           "stored here. The worker polls the mailbox every IMAP_POLL_SECONDS and syncs providers every 5 minutes.")
show_flash()

state = data.overview()


def _last_run(key: str) -> None:
    info = state[key]
    last, failure = info["last"], info["last_failure"]
    if last is None:
        st.info("No run yet.")
    else:
        counts = {k: v for k, v in last["counts"].items() if k not in ("reasons", "stopped")}
        st.text(f"Last run: {last['started_at']:%Y-%m-%d %H:%M:%S} UTC, {last['status']}")
        st.dataframe(pd.DataFrame([counts]), hide_index=True)
        reasons = last["counts"].get("reasons") or {}
        if reasons:
            st.dataframe(pd.DataFrame([{"skipped because": r, "messages": n} for r, n in reasons.items()]),
                         hide_index=True)
        if last["counts"].get("stopped"):
            st.warning("The last run stopped early; the next one resumes where it stopped.")
            st.text(last["counts"]["stopped"])
        if last["counts"].get("held"):
            st.warning(f"{last['counts']['held']} ticket(s) could not be imported yet (see the reasons above); "
                       "every run tries them again.")
    if failure is not None and (last is None or last["status"] == "failed"):
        st.error(f"The last run failed ({failure['started_at']:%Y-%m-%d %H:%M} UTC); it is retried with backoff.")
        st.code(failure["error"] or "", language=None)


def _save(key: str, enabled: bool, config: dict) -> None:
    try:
        with session_scope() as s:
            service.save_config(session=s, actor=user, key=key, enabled=enabled, config=config)
        data.clear()
        flash(f"{key.title()} settings saved.")
        st.rerun()
    except (service.ChannelConfigError, PermissionDenied) as exc:
        st.error(md_escape(str(exc)))


def _run(key: str, func):
    with session_scope() as s:
        service.authorize_run(session=s, actor=user, key=key)
    result = func()
    data.clear()
    return result


tab_mail, tab_zd, tab_front, tab_history = st.tabs(["Mailbox", "Zendesk", "Front", "Sync history"], key="settings_tab", on_change="rerun")

with tab_mail:
    cfg = state["mailbox"]["config"]
    shown = data.imap_display()
    if shown:
        st.text(f"IMAP_URL: {shown}")
    else:
        st.warning("IMAP_URL is not set: the mailbox is off until it is (imap://user:password@host:143/INBOX).")
    accounts = [a["key"] for a in ticket_data.accounts()]
    with st.form("mailbox_settings"):
        enabled = st.checkbox("Poll this mailbox", value=cfg["enabled"], key="mailbox_enabled")
        folder = st.text_input("Folder (blank: the one in IMAP_URL)", value=cfg["folder"], key="mailbox_folder")
        options = ["", *accounts]
        current = cfg["catch_all_account"] if cfg["catch_all_account"] in options else ""
        catch_all = st.selectbox("Catch-all account for unknown senders", options, index=options.index(current),
                                 format_func=lambda k: k or f"{service.INTAKE_ACCOUNT_NAME} (created on first use)",
                                 key="mailbox_catch_all")
        st.caption("A sender is a known contact, or shares a company e-mail domain with one (a new contact is "
                   "added there); anyone else becomes a new contact of the catch-all account, so nothing is "
                   "dropped and a lead can move them later. Zendesk and Front requesters are filed the same way.")
        size = st.number_input("Largest attachment kept (MB)", min_value=0.1, max_value=100.0,
                               value=float(cfg["max_attachment_mb"]), step=1.0, key="mailbox_max_mb")
        if st.form_submit_button("Save mailbox settings"):
            _save("mailbox", enabled, {"folder": folder, "catch_all_account": catch_all,
                                       "max_attachment_mb": size, "keyword": cfg["keyword"]})
    c1, c2 = st.columns(2)
    off = "Set IMAP_URL first: there is no mailbox to reach." if not shown else None
    if c1.button("Test connection", key="mailbox_test", disabled=bool(off), help=off):
        from core.channels.mailbox import MailboxError, test_connection

        try:
            with session_scope() as s:
                st.success(test_connection(session=s))
        except MailboxError as exc:
            st.error("The mailbox cannot be reached.")
            st.code(str(exc), language=None)
    if c2.button("Poll now", key="mailbox_poll", disabled=bool(off), help=off):
        from core.channels.mailbox import poll

        try:
            st.code("\n".join(_run("mailbox", poll).lines()), language=None)
        except service.ChannelBusy as exc:
            st.warning(md_escape(str(exc)))
    _last_run("mailbox")
    rows = data.messages()
    if rows:
        st.subheader("Recent messages")
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _provider_tab(key: str, fields: list[tuple[str, str]], token_env: str) -> None:
    cfg = state[key]["config"]
    if state[key]["secret_set"]:
        st.text(f"{token_env} is set.")
    else:
        st.warning(f"{token_env} is not set: {key.title()} sync is off until it is.")
    with st.form(f"{key}_settings"):
        enabled = st.checkbox(f"Sync with {key.title()}", value=cfg["enabled"], key=f"{key}_enabled")
        values = {name: st.text_input(label, value=str(cfg.get(name) or ""), key=f"{key}_{name}")
                  for name, label in fields}
        if st.form_submit_button(f"Save {key.title()} settings"):
            _save(key, enabled, values)
    c1, c2 = st.columns(2)
    from core.tickets.providers import ProviderBusy, ProviderError, check, run_sync

    off = None if state[key]["secret_set"] else f"Set {token_env} first: without it there is nothing to reach."
    if c1.button("Test connection", key=f"{key}_test", disabled=bool(off), help=off):
        try:
            st.success(check(key))
        except ProviderError as exc:
            st.error(f"{key.title()} cannot be reached.")
            st.code(str(exc), language=None)
    if c2.button("Sync now", key=f"{key}_sync", disabled=bool(off), help=off):
        try:
            st.code("\n".join(_run(key, lambda: run_sync(key)).lines()), language=None)
        except ProviderBusy as exc:
            st.warning(md_escape(str(exc)))
        except ProviderError as exc:
            st.error(f"{key.title()} is not ready.")
            st.code(str(exc), language=None)
    _last_run(key)


with tab_zd:
    _provider_tab("zendesk", [("base_url", "Base URL (https://<subdomain>.zendesk.com)"),
                              ("email", "Agent e-mail the API token belongs to"),
                              ("category_field_id", "Custom field id for the category (optional)"),
                              ("tag_prefix", "Tag prefix for the category tag")], "ZENDESK_API_TOKEN")

with tab_front:
    _provider_tab("front", [("base_url", "API base URL"), ("category_field", "Custom field for the category"),
                            ("priority_field", "Custom field for the priority")], "FRONT_API_TOKEN")

with tab_history:
    rows = data.runs()
    if not rows:
        st.info("No sync runs yet.")
    else:
        table = [{"channel": r["provider"], "started": r["started_at"], "finished": r["finished_at"],
                  "status": r["status"], **{k: v for k, v in r["counts"].items() if k != "reasons"},
                  "error": r["error"] or ""} for r in rows]
        st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
