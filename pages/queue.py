"""The ticket queue: filters, search, the ticket view and the forms that move work between people."""

import pandas as pd
import streamlit as st

from core.auth.roles import Permission, has_permission
from core.db import session_scope
from core.tickets import service
from core.tickets.enums import OPEN_STATUSES, Category, Priority, TicketStatus
from core.tickets.intake import IntakeError
from core.tickets.queue import SORTS, UNASSIGNED
from core.ui import tickets as data
from core.ui.context import flash, form_done, form_key, page_user, show_flash
from core.ui.widgets import md_escape, rows_key
from core.ui.loop import render_ticket_macros

user = page_user(Permission.VIEW_QUEUE)
st.title("Ticket queue")
show_flash()

teams = data.teams()
agents = data.agents()
team_names = {t["id"]: t["name"] for t in teams}
agent_names = {a["id"]: a["name"] for a in agents}
agent_team = {a["id"]: a["team_id"] for a in agents}
agent_labels = {a["id"]: f"{a['name']} ({team_names.get(a['team_id'], 'no team')})" + (" · away" if a["away"] else "")
                for a in agents}

try:
    from core.sla.service import SLA_STATES
except ImportError:
    SLA_STATES = []

with st.container(border=True):
    c1, c2, c3, c4 = st.columns(4)
    statuses = c1.multiselect("Status", [s.value for s in TicketStatus], default=[s.value for s in OPEN_STATUSES])
    priorities = c2.multiselect("Priority", [p.value for p in Priority])
    categories = c3.multiselect("Category", [c.value for c in Category])
    team_ids = c4.multiselect("Team", list(team_names), format_func=lambda i: team_names[i])
    c5, c6, c7, c8 = st.columns(4)
    assignee = c5.selectbox("Assignee", [None, UNASSIGNED, *agent_names],
                            format_func=lambda i: "anyone" if i is None else "unassigned" if i == UNASSIGNED else agent_names[i])
    triage = c6.selectbox("Needs triage", [None, True, False], format_func=lambda v: {None: "any", True: "needs triage", False: "categorised"}[v])
    sla_states = c7.multiselect("SLA state", SLA_STATES, disabled=not SLA_STATES,
                                help=None if SLA_STATES else "SLA states appear once the SLA engine is installed")
    sort = c8.selectbox("Sort", list(SORTS))
    text = st.text_input("Search subject and description, or a ticket number (AC-123)", max_chars=200)

filters = dict(statuses=statuses, priorities=priorities, categories=categories, team_ids=team_ids,
               assignee_id=assignee, needs_triage=triage, sla_states=sla_states, text=text)
page_size = 50
# New filters or sort start again at page 1; a page past the end (tickets solved meanwhile) is clamped.
signature = repr((sorted(filters.items(), key=lambda kv: kv[0]), sort))
if st.session_state.get("queue_filters_signature") != signature:
    st.session_state["queue_filters_signature"] = signature
    st.session_state["queue_page_no"] = 1
page_no = st.session_state.get("queue_page_no", 1)
result = data.queue_page(filters, sort, page_no, page_size)
pages = max(1, -(-result["total"] // page_size))
if page_no > pages:
    page_no = st.session_state["queue_page_no"] = pages
    result = data.queue_page(filters, sort, page_no, page_size)
total = f"{result['total']:,}" + ("+" if result["total_capped"] else "")

m1, m2, m3 = st.columns(3)
m1.metric("Tickets matching", total)
acc = data.accuracy()
m2.metric("Categoriser accuracy (90 d)", "no data" if acc["accuracy"] is None else f"{acc['accuracy']:.1%}",
          help=f"{acc['corrected']} of {acc['categorised']} automatic categories were corrected by a person")
m3.metric("Page", f"{page_no} of {pages}")

rows = result["rows"]
if not rows:
    st.info("No tickets match these filters.")
    st.stop()
df = pd.DataFrame(rows)
df["ticket"] = "AC-" + df["id"].astype(str)
df["assignee"] = df["assignee"].fillna("—")
columns = ["ticket", "subject", "status", "priority", "category", "category_confidence", "team", "assignee",
           "account", "created_at", "needs_triage"]
if SLA_STATES:
    from core.ui.sla import queue_columns

    sla = queue_columns(tuple(int(i) for i in df["id"]))
    for col in ("SLA", "first response", "resolution"):
        df[col] = [sla.get(int(i), {}).get(col) or "" for i in df["id"]]
    columns[4:4] = ["SLA", "first response", "resolution"]
view = df[columns]
sel = st.dataframe(view, hide_index=True, width="stretch", on_select="rerun", selection_mode="multi-row",
                   key=rows_key("queue_table", df["id"]), column_config={
                       # a bounded subject keeps team, assignee and created on screen at laptop widths
                       "subject": st.column_config.TextColumn("subject", width="medium"),
                       "needs_triage": st.column_config.CheckboxColumn("needs triage"),
                       "category_confidence": st.column_config.ProgressColumn("confidence", min_value=0, max_value=1, format="%.2f"),
                       "created_at": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD HH:mm")})
p1, p2, _ = st.columns([1, 1, 6])
if p1.button("Previous", disabled=page_no <= 1):
    st.session_state["queue_page_no"] = page_no - 1
    st.rerun()
if p2.button("Next", disabled=page_no >= pages):
    st.session_state["queue_page_no"] = page_no + 1
    st.rerun()

selected = [int(df.iloc[i]["id"]) for i in sel.selection.rows] if sel and sel.selection else []

if len(selected) > 1 and has_permission(user.role, Permission.BULK_REASSIGN):
    with st.form("bulk_reassign"):
        st.subheader(f"Reassign {len(selected)} tickets")
        # As for one ticket: the team follows the agent unless a team is chosen (then the agent must be in it).
        bagent = st.selectbox("Agent", [None, *agent_names], format_func=lambda i: "nobody (team queue)" if i is None else agent_labels[i])
        bteam = st.selectbox("Team", [None, *team_names],
                             format_func=lambda i: "the agent's team (each ticket's own for nobody)" if i is None
                             else team_names[i])
        if st.form_submit_button("Reassign selected"):
            try:
                with session_scope() as s:
                    n = service.bulk_reassign(session=s, actor=user, ticket_ids=selected, team_id=bteam, assignee_id=bagent)
                data.clear()
                flash(f"Reassigned {n} tickets.")
                st.rerun()
            except (service.StaleTicket, service.TicketError, service.PermissionDenied) as exc:
                st.error(md_escape(str(exc)))

ticket_id = selected[0] if len(selected) == 1 else None
if ticket_id is None and len(rows) == 1 and not selected:
    ticket_id = int(rows[0]["id"])  # a search that finds one ticket (e.g. "AC-123") opens it
if ticket_id is None:
    st.caption("Select a ticket to open it (or search its number); select several to reassign them together.")
    st.stop()

t = data.ticket_detail(ticket_id)
if t is None:
    st.error("That ticket no longer exists.")
    st.stop()

# Optimistic concurrency: a form acts on the version the person saw when it was rendered (the previous
# run), not on whatever this run just loaded; a change in between is reported instead of overwritten.
SEEN_KEY = f"queue_seen_version_{t['id']}"
seen_version = st.session_state.get(SEEN_KEY, t["version"])

st.divider()
st.subheader(f"{t['reference']}: {md_escape(t['subject'])}")
st.caption(f"{t['status']} · {t['priority']} priority · {t['category']} ({t['source']}, confidence {t['confidence']:.2f})"
           f" · {team_names.get(t['team_id'], 'no team')} / {t['assignee'] or 'unassigned'} · {md_escape(t['account'])}"
           f" · {md_escape(t['requester'])}")
left, right = st.columns([3, 2])
with left:
    st.markdown("**Description**")
    st.text(t["description"])
    data.render_attachments(user, t["id"])
    if t["page_url"]:
        st.caption("Page:")
        st.code(t["page_url"], language=None)
    if t["category"] == "feature":
        from core.ui.feedback import render_ticket_roadmap

        render_ticket_roadmap(user, t["id"])
    st.markdown("**Timeline**")
    data.render_timeline(t["events"])
    if t["mail"]:
        st.markdown("**Mail to the requester**")
        st.dataframe(pd.DataFrame(t["mail"]).fillna(""), hide_index=True, width="stretch")


def _apply(action, success: str, form: str | None = None) -> None:
    """Run a change; on success start `form` afresh (so a second click cannot send it twice) and say so."""
    try:
        with session_scope() as s:
            action(s)
        data.clear()
        if form:
            form_done(form)
        flash(success)
        st.rerun()
    except service.StaleTicket as exc:
        st.warning(md_escape(str(exc)))
        cur = exc.current
        st.info(f"Current state: {cur['status']}, {cur['priority']}, team {team_names.get(cur['team_id'], '-')}, "
                f"assignee {agent_names.get(cur['assignee_id'], 'unassigned')} (version {cur['version']}). "
                "Nothing was changed.")
    except IntakeError as exc:
        for msg in exc.errors.values():
            st.error(md_escape(msg))
    except (service.TicketError, service.PermissionDenied, ValueError) as exc:
        st.error(md_escape(str(exc)))


with right:
    with st.form("reassign"):
        st.markdown("**Reassign**")
        team_ids_all = list(team_names)
        new_team = st.selectbox("Team", team_ids_all, format_func=lambda i: team_names[i],
                                index=team_ids_all.index(t["team_id"]) if t["team_id"] in team_ids_all else 0)
        agent_opts = [None, *agent_names]
        new_agent = st.selectbox("Agent", agent_opts, format_func=lambda i: "nobody (team queue)" if i is None else agent_labels[i],
                                 index=agent_opts.index(t["assignee_id"]) if t["assignee_id"] in agent_opts else 0,
                                 help="Picking an agent of another team with the team left as it was moves the "
                                      "ticket to the agent's team.")
        reason = st.text_input("Reason (optional)", max_chars=500)
        if st.form_submit_button("Reassign"):
            if new_agent is not None and new_team == t["team_id"] and agent_team.get(new_agent) is not None:
                new_team = agent_team[new_agent]  # the team follows the agent unless another team was chosen
            _apply(lambda s: service.reassign(session=s, actor=user, ticket_id=t["id"], version=seen_version,
                                              team_id=new_team, assignee_id=new_agent, reason=reason or None),
                   f"{t['reference']} reassigned.")

    reply_form = f"reply_{t['id']}"
    with st.form(form_key(reply_form)):
        st.markdown("**Reply or note**")
        body = st.text_area("Message", max_chars=20000)
        kind = st.radio("Kind", ["Public reply (mailed to the requester)", "Internal note"], horizontal=False)
        after = st.selectbox("Then set status", [None, *[s.value for s in TicketStatus if s != TicketStatus.NEW]],
                             format_func=lambda v: "leave as is" if v is None else v)
        if st.form_submit_button("Send"):
            if kind.startswith("Public"):
                _apply(lambda s: service.public_reply(session=s, actor=user, ticket_id=t["id"], body=body, status=after),
                       "Reply sent.", form=reply_form)
            else:
                def _note(s):
                    service.add_note(session=s, actor=user, ticket_id=t["id"], body=body)
                    if after is not None and after != t["status"]:
                        service.change_status(session=s, actor=user, ticket_id=t["id"], version=seen_version,
                                              status=after)
                _apply(_note, "Note added." if after is None else f"Note added; {t['reference']} is now {after}.",
                       form=reply_form)

    render_ticket_macros(user, t)  # apply a macro, macros used here, a bug's fix link

    # The account list is only built on demand (thousands of accounts), and is open at once on tickets from
    # unknown senders, which are waiting for exactly this.
    if (has_permission(user.role, Permission.BULK_REASSIGN) and t["requester"] != "-"
            and st.toggle("Move the requester to another account", value=t["account_key"] == "unassigned-senders",
                          key=f"move_requester_open_{t['id']}")):
        with st.container(border=True):
            with st.form("move_requester"):
                st.caption("Mail from an unknown sender is filed under *Unassigned senders*. Moving the requester "
                           "moves all their tickets to the account.")
                accounts = data.accounts()
                keys = [a["key"] for a in accounts if a["key"] != t["account_key"]]
                names = {a["key"]: f"{a['name']} ({a['plan']})" for a in accounts}
                to_key = st.selectbox("Move to account", keys, index=None, format_func=lambda k: names[k],
                                      placeholder="Choose an account")
                move_why = st.text_input("Reason (required)", max_chars=500, key="move_requester_reason")
                if st.form_submit_button("Move requester"):
                    if to_key is None:
                        st.error("Choose the account to move the requester to.")
                    else:
                        _apply(lambda s: service.move_requester(session=s, actor=user, ticket_id=t["id"],
                                                                account_key=to_key, reason=move_why),
                               f"{md_escape(t['requester'])} and their tickets moved to {md_escape(names[to_key])}.")

    with st.form("status"):
        st.markdown("**Status**")
        new_status = st.selectbox("Status", [s.value for s in TicketStatus], index=[s.value for s in TicketStatus].index(t["status"]))
        if st.form_submit_button("Change status"):
            _apply(lambda s: service.change_status(session=s, actor=user, ticket_id=t["id"], version=seen_version,
                                                   status=new_status), f"{t['reference']} is now {new_status}.")

    if t["needs_triage"]:
        with st.form("triage"):
            st.markdown(f"**Needs triage**: the categoriser was only {t['confidence']:.0%} sure of "
                        f"*{t['category']}*. Confirm it, or correct it below.")
            if st.form_submit_button(f"Confirm {t['category']}"):
                _apply(lambda s: service.confirm_category(session=s, actor=user, ticket_id=t["id"],
                                                          version=seen_version),
                       f"{t['reference']}: category {t['category']} confirmed.")

    with st.form("category"):
        st.markdown("**Category and priority**")
        cats = [c.value for c in Category]
        new_cat = st.selectbox("Category", cats, index=cats.index(t["category"]))
        prios = [p.value for p in Priority]
        new_prio = st.selectbox("Priority", prios, index=prios.index(t["priority"]))
        why = st.text_input("Reason (required)", max_chars=500)
        if st.form_submit_button("Save"):
            def _change(s):
                version = seen_version
                if new_cat != t["category"]:
                    version = service.change_category(session=s, actor=user, ticket_id=t["id"], version=version,
                                                      category=new_cat, reason=why).version
                if new_prio != t["priority"]:
                    service.change_priority(session=s, actor=user, ticket_id=t["id"], version=version,
                                            priority=new_prio, reason=why)
                if new_cat == t["category"] and new_prio == t["priority"]:
                    raise service.TicketError("nothing to change")
            _apply(_change, "Saved.")

st.session_state[SEEN_KEY] = t["version"]  # what this run showed is what the next submit acts on
