"""Staff form for tickets taken by phone or chat."""

import streamlit as st

from core.auth.roles import Permission
from core.db import session_scope
from core.tickets import service
from core.tickets.enums import Channel
from core.tickets.intake import DESCRIPTION_MAX, SUBJECT_MAX, IntakeError
from core.ui import tickets as data
from core.ui.context import flash, form_done, form_key, page_user, show_flash
from core.ui.widgets import md_escape

user = page_user(Permission.CREATE_TICKET_STAFF)
st.title("New ticket")
st.caption("For requests taken by phone or chat. The ticket is categorised, prioritised and routed like any other.")
show_flash()

# The caller's company: type part of its name, then pick it (a list of thousands of accounts is no picker).
find = st.text_input("Find the account", placeholder="a few letters of the company's name or key",
                     max_chars=100, key="new_ticket_find_account")
accounts = data.find_accounts(find)
labels = {a["key"]: f"{a['name']} ({a['plan']})" for a in accounts}
if not accounts:
    st.warning(f"No active account matches {md_escape(find)!s}.")
# Nothing is picked for the person: a ticket filed under the wrong company is worse than a refused form.
account = st.selectbox("Account", list(labels), format_func=labels.__getitem__, index=None,
                       key=form_key("new_ticket_account"), placeholder="Choose the caller's company",
                       help="The first 50 matches, by name; type more of the name to narrow them. Leave it empty "
                            "for a requester e-mail we already know: the ticket goes to that contact's company.")
with st.form(form_key("new_ticket")):
    email = st.text_input("Requester e-mail")
    subject = st.text_input("Subject", max_chars=SUBJECT_MAX)
    description = st.text_area("Description", max_chars=DESCRIPTION_MAX, height=200)
    repro = st.radio("Does it happen every time?", ["Not sure", "Yes", "No"], horizontal=True)
    page_url = st.text_input("Page URL (optional)")
    submitted = st.form_submit_button("Create ticket")

if submitted:
    payload = {"account": account, "requester_email": email, "subject": subject, "description": description,
               "reproducible": {"Yes": True, "No": False}.get(repro), "page_url": page_url or None}
    try:
        with session_scope() as s:
            t = service.create_ticket(session=s, actor=user, data=payload, channel=Channel.STAFF)
            ref, cat, prio, conf = t.reference, t.category, t.priority, t.category_confidence
        data.clear()
        form_done("new_ticket")
        form_done("new_ticket_account")
        flash(f"Created {ref}: {cat} ({conf:.0%} confidence), {prio} priority.")
        st.rerun()
    except IntakeError as exc:
        for message in exc.errors.values():
            st.error(md_escape(message))
    except service.PermissionDenied as exc:
        st.error(md_escape(str(exc)))
