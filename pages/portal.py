"""The customer portal: file a ticket, follow your account's tickets, reply and close."""

import streamlit as st

from core.auth.roles import Permission
from core.db import session_scope
from core.tickets import service
from core.tickets.enums import CUSTOMER_STATUS_LABELS, OPEN_STATUSES, Channel
from core.tickets.intake import DESCRIPTION_MAX, SUBJECT_MAX, IntakeError
from core.ui import tickets as data
from core.ui.context import flash, form_done, form_key, page_user, show_flash
from core.ui.loop import render_portal_notes, render_ticket_outcomes
from core.ui.widgets import md_escape, rows_key

user = page_user(Permission.USE_PORTAL)
st.title("Support")
st.caption(f"Signed in as {md_escape(user.name)}")
show_flash()

try:
    from core.ui.feedback import render_portal_feedback
except ImportError:
    render_portal_feedback = None

# The CSAT mail links to /portal?csat=<ticket>: open the Feedback tab, where that ticket's rating comes first.
tab_new, tab_mine, *tab_fb = st.tabs(["New request", "My requests"] + (["Feedback"] if render_portal_feedback else []),
                                     default="Feedback" if render_portal_feedback and st.query_params.get("csat") else None,
                                     key="portal_tab", on_change="rerun")  # a rerun (after a send) keeps the tab

with tab_new:
    with st.form(form_key("portal_new_ticket")):
        subject = st.text_input("Subject", max_chars=SUBJECT_MAX)
        description = st.text_area("What happened?", max_chars=DESCRIPTION_MAX, height=200)
        repro = st.radio("Does it happen every time?", ["Not sure", "Yes", "No"], horizontal=True)
        page_url = st.text_input("Page where it happened (URL, optional)")
        sent = st.form_submit_button("Send request")
    if sent:
        ua = st.context.headers.get("User-Agent") if st.context.headers else None
        payload = {"subject": subject, "description": description, "reproducible": {"Yes": True, "No": False}.get(repro),
                   "page_url": page_url or None, "user_agent": (ua or "")[:500] or None}
        try:
            with session_scope() as s:
                t = service.create_ticket(session=s, actor=user, data=payload, channel=Channel.PORTAL)
                ref = t.reference
            form_done("portal_new_ticket")
            flash(f"Thanks! Your request {ref} was received; we sent you a confirmation e-mail.")
            st.rerun()
        except IntakeError as exc:
            for message in exc.errors.values():
                st.error(md_escape(message))

with tab_mine:
    render_portal_notes(user.contact_id)
    with session_scope() as s:
        mine = [{"id": t.id, "ref": t.reference, "subject": t.subject,
                 "status": CUSTOMER_STATUS_LABELS.get(t.status, t.status), "open": t.status in OPEN_STATUSES,
                 "created": t.created_at,
                 "updated": t.updated_at, "yours": t.requester_id == user.contact_id}
                for t in service.customer_tickets(session=s, actor=user)]
    if not mine:
        st.info("Your account has no requests yet.")
    else:
        only_open = st.toggle("Only requests still open", value=False, key="portal_only_open")
        shown = [m for m in mine if m["open"] or not only_open]
        # Every request of the account at a glance; pick a row (or the box below) to read and answer it.
        table = st.dataframe(
            [{"request": m["ref"], "subject": m["subject"], "status": m["status"],
              "opened": m["created"], "last update": m["updated"], "by you": "yes" if m["yours"] else ""}
             for m in shown],
            hide_index=True, width="stretch", height=min(38 + 35 * len(shown), 300), on_select="rerun",
            selection_mode="single-row", key=rows_key("portal_requests_table", [m["id"] for m in shown]),
            column_config={"opened": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                           "last update": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
        rows = table.selection.rows if table and table.selection else []
        ids = [m["id"] for m in mine]
        picked = shown[rows[0]]["id"] if rows and rows[0] < len(shown) else None
        choice = st.selectbox("Request", ids, index=ids.index(picked) if picked in ids else 0,
                              format_func=lambda i: next(f"{m['ref']} · {m['status']} · {m['subject']}" for m in mine if m["id"] == i))
        t = data.ticket_detail(choice, public_only=True, customer=user)
        if t is None:
            st.error("Request not found.")
        else:
            st.subheader(f"{t['reference']}: {md_escape(t['subject'])}")
            st.caption(f"Status: {CUSTOMER_STATUS_LABELS.get(t['status'], t['status'])} · opened {t['created_at']:%Y-%m-%d %H:%M} UTC")
            data.render_timeline(t["events"])
            data.render_attachments(user, t["id"])
            render_ticket_outcomes(t["id"])
            if t["status"] != "closed":
                with st.form(form_key("portal_reply")):
                    body = st.text_area("Add a reply", max_chars=DESCRIPTION_MAX)
                    if st.form_submit_button("Send reply"):
                        try:
                            with session_scope() as s:
                                service.customer_reply(session=s, actor=user, ticket_id=t["id"], body=body)
                            form_done("portal_reply")
                            flash("Reply sent.")
                            st.rerun()
                        except (IntakeError, service.TicketError, service.TicketNotFound) as exc:
                            st.error(md_escape(str(exc)))
                if t["status"] != "solved":
                    closing = st.popover("Close this request (it's solved)")
                    closing.write("We will mark it solved and ask how we did. If the problem comes back before "
                                  "it is closed for good, a reply here opens it again.")
                if t["status"] != "solved" and closing.button("Yes, close it", key=f"portal_close_{t['id']}"):
                    try:
                        with session_scope() as s:
                            service.customer_close(session=s, actor=user, ticket_id=t["id"])
                        flash(f"{t['reference']} is marked solved. Thank you!")
                        st.rerun()
                    except (service.TicketError, service.TicketNotFound) as exc:
                        st.error(md_escape(str(exc)))

if tab_fb:
    with tab_fb[0]:
        render_portal_feedback(user)
