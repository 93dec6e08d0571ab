"""Feedback & NPS: the product manager's view of NPS, CSAT, churn, comment themes, the roadmap and follow-ups."""

from datetime import datetime, time, timedelta, timezone

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from core.auth.roles import Permission, has_permission
from core.db import session_scope
from core.feedback import service
from core.feedback.measures import MIN_NPS_RESPONSES
from core.feedback.models import FeedbackKind, RoadmapStatus
from core.feedback.service import FeedbackError
from core.ui import feedback as data
from core.ui.context import flash, page_user, show_flash
from core.ui.widgets import md_escape

user = page_user(Permission.VIEW_FEEDBACK)
can_manage = has_permission(user.role, Permission.MANAGE_ROADMAP)
PLANS = ["free", "starter", "pro", "enterprise"]
STATUS_LABELS = {"planned": "Planned", "in_progress": "In progress", "shipped": "Shipped"}
PLAN_COLOURS = {"free": "#a0aec0", "starter": "#dd6b20", "pro": "#3182ce", "enterprise": "#2f855a"}

st.title("Feedback & NPS")
show_flash()
months = st.segmented_control("Period", options=[3, 6, 12], default=6, format_func=lambda m: f"Last {m} months",
                              key="fb_months") or 6
start, end = data.period(months)


def pct(v):
    return "–" if v is None else f"{v * 100:.1f}%"


def num(v, digits=1, suffix=""):
    return "–" if v is None else f"{v:.{digits}f}{suffix}"


def chart(df: pd.DataFrame, y, title: str, color=None, kind: str = "line", percent: bool = False, key: str = ""):
    if df.empty or (isinstance(y, str) and df[y].isna().all()):
        st.caption(f"{title}: no data in this period.")
        return
    fn = px.bar if kind == "bar" else px.line
    args = dict(x="month", y=y, color=color, title=title, height=280)
    if color == "plan":
        args.update(color_discrete_map=PLAN_COLOURS, category_orders={"plan": PLANS})
    if kind == "line":
        args["markers"] = True
    elif color is not None:
        args["barmode"] = "group"  # rates per plan side by side: stacked, they would read as a sum
    fig = fn(df, **args)
    fig.update_layout(margin=dict(l=0, r=0, t=40, b=0), legend_title_text="")
    mark_running_month(fig, df)
    if "too_few" in df and y == "nps":
        mark_too_few(fig, df)
    if percent:
        fig.update_yaxes(tickformat=".0%")
    elif kind == "bar":
        fig.update_yaxes(tickformat=",d", dtick=1)
    st.plotly_chart(fig, width="stretch", key=f"fb_chart_{key or title}")


def mark_running_month(fig, df: pd.DataFrame) -> None:
    """The month still under way is partial (the headline figures leave it out): say so on the chart."""
    running = pd.Timestamp(end - timedelta(days=1)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if "month" not in df or df.empty or pd.to_datetime(df["month"], utc=True).max() < running:
        return
    x = running.strftime("%Y-%m-%d")
    fig.add_vline(x=x, line_dash="dot", line_color="grey")
    fig.add_annotation(x=x, y=1, yref="paper", text="month so far", showarrow=False, xanchor="left",
                       font=dict(size=10, color="grey"))


def mark_too_few(fig, df: pd.DataFrame) -> None:
    """Ring the NPS points that rest on fewer than 30 answers, so nobody reads them as a trend."""
    few = df[df["too_few"].astype(bool) & df["nps"].notna()]
    if few.empty:
        return
    label = f"too few to trust (n<{MIN_NPS_RESPONSES})"
    who = few["plan"] + ": " if "plan" in few else ""
    fig.add_trace(go.Scatter(x=few["month"], y=few["nps"], mode="markers", name=label,
                             marker=dict(symbol="circle-open", size=14, color="#4a5568", line=dict(width=2)),
                             text=who + "n=" + few["responses"].astype(str),
                             hovertemplate="%{text}: " + label + "<extra></extra>"))


k = data.kpis(start, end)
series = data.monthly(start, end)
c1, c2, c3, c4, c5, c6 = st.columns(6)
c1.metric("NPS", num(k["nps"], 0), help="% promoters (9-10) minus % detractors (0-6); target over 50.")
c1.caption(f"{k['nps_responses']} responses" + (f" · too few to trust (n<{MIN_NPS_RESPONSES})" if k["nps_too_few"] else ""))
c2.metric("CSAT (4-5 share)", pct(k["csat_share"]), help="Share of CSAT ratings of 4 or 5; the overview's "
          "\"CSAT average\" is their mean on the 1-5 scale.")
c2.caption(f"average {num(k['csat_average'], 2)} / 5 (target over 4.5)")
c3.metric("Rating", num(k["rating_average"], 2, " / 5"), help="Average portal star rating.")
# The same monthly churn as the overview: the average of the period's complete months (the running month left out).
c4.metric("Monthly churn", pct(k["logo_churn"]), help="Accounts cancelled in a month / active at its start (accounts "
          "that started during the month excluded), averaged over the period's complete months; target under 5%.")
c4.caption(f"revenue churn {pct(k['revenue_churn'])} a month · " + ", ".join(k.get("churn_months") or []))
c5.metric("Feedback implemented", pct(k["feedback_implemented_share"]),
          help="Share of the period's feedback linked to a shipped roadmap item; target over 20%.")
c6.metric("Bug fix median", num(k["bug_fix_median_hours"], 1, " h"),
          help="The overview's bug fix time: from a bug report to its deployed fix where a fix is linked, else to "
               "solved (core.feedback.measures.bug_fix_time); target under 48 h.")
c6.caption(f"p90 {num(k['bug_fix_p90_hours'], 1, ' h')}")

tab_trends, tab_explorer, tab_themes, tab_roadmap, tab_followups = st.tabs(
    ["Trends", "Explorer", "Themes", "Roadmap", "Follow-ups"], key="feedback_tab", on_change="rerun")

with tab_trends:
    left, right = st.columns(2)
    with left:
        chart(pd.DataFrame(series["nps"]), "nps", "NPS by month")
        st.caption(f"Ringed points rest on fewer than {MIN_NPS_RESPONSES} answers: too few to trust.")
        chart(pd.DataFrame(series["csat"]), "csat_share", "CSAT (share of 4-5) by month", percent=True)
        churn = pd.DataFrame(series["churn"])
        if not churn.empty:
            churn = churn.rename(columns={"logo_churn": "logo", "revenue_churn": "revenue"})
        chart(churn, ["logo", "revenue"] if not churn.empty else "logo", "Monthly churn", percent=True)
        chart(pd.DataFrame(series["bugfix"]), ["median_hours", "p90_hours"],
              "Bug fix time (hours, report to deployed fix, else to solved)", key="bugfix")
    with right:
        chart(pd.DataFrame(series["nps_plan"]), "nps", "NPS by month and plan", color="plan")
        chart(pd.DataFrame(series["csat_plan"]), "csat_share", "CSAT by month and plan", color="plan", percent=True)
        chart(pd.DataFrame(series["churn_plan"]), "logo_churn", "Logo churn by month and plan", color="plan",
              kind="bar", percent=True)
        chart(pd.DataFrame(series["implemented"]), "share", "Feedback implemented by month", percent=True)
    with st.expander("Numbers by month"):
        month = st.column_config.DatetimeColumn("month", format="YYYY-MM")
        st.dataframe(pd.DataFrame(series["churn"]), hide_index=True, width="stretch", column_config={
            "month": month, "active_at_start": "active at start",
            "logo_churn": st.column_config.NumberColumn("logo churn", format="percent"),
            "mrr_at_start": st.column_config.NumberColumn("MRR at start", format="%.2f"),
            "mrr_cancelled": st.column_config.NumberColumn("MRR cancelled", format="%.2f"),
            "revenue_churn": st.column_config.NumberColumn("revenue churn", format="percent")})
        st.dataframe(pd.DataFrame(series["nps"]), hide_index=True, width="stretch", column_config={
            "month": month, "nps": "NPS", "too_few": st.column_config.CheckboxColumn("too few to trust")})

with tab_explorer:
    accounts = data.accounts()
    names = {a["id"]: f"{a['name']} ({a['plan']})" for a in accounts}
    f1, f2, f3 = st.columns(3)
    kinds = f1.multiselect("Kind", [k.value for k in FeedbackKind], key="fb_kinds")
    plans = f2.multiselect("Plan", PLANS, key="fb_plans")
    account_ids = f3.multiselect("Account", list(names), format_func=lambda i: names.get(i, str(i)), key="fb_accounts")
    f4, f5, f6 = st.columns([2, 2, 1])
    search = f4.text_input("Search comments, pages, accounts, contacts", key="fb_search")
    score = f5.slider("Score", 0, 10, (0, 10), key="fb_score", help="Ratings and CSAT are 1-5, NPS 0-10.")
    only_comment = f6.checkbox("With comment", key="fb_only_comment")
    only_unlinked = f6.checkbox("Not linked yet", key="fb_only_unlinked")
    rows = data.explorer(start, end, tuple(kinds), tuple(plans), tuple(account_ids), score[0], score[1], search,
                         only_comment, only_unlinked)
    st.caption(f"{len(rows)} feedback items" + (" (the newest 1,000)" if len(rows) >= 1000 else ""))
    table = pd.DataFrame(rows)
    selected_ids: list[int] = []
    if table.empty:
        st.info("No feedback matches these filters.")
    else:
        view = table[["id", "created_at", "kind", "score", "comment", "account", "plan", "contact", "page", "roadmap"]]
        event = st.dataframe(view, hide_index=True, width="stretch", on_select="rerun", selection_mode="multi-row",
                             key="fb_explorer_table",
                             column_config={"created_at": st.column_config.DatetimeColumn("given", format="YYYY-MM-DD HH:mm"),
                                            "comment": st.column_config.TextColumn("comment", width="large")})
        selected_ids = [int(view.iloc[i]["id"]) for i in (event.selection.rows if event else [])]
    if can_manage and not table.empty:
        items = data.roadmap()
        st.subheader("Link to a roadmap item")
        if not items:
            st.info("Add a roadmap item in the Roadmap tab first.")
        else:
            labels = {int(r["id"]): f"#{r['id']} {r['score']} · {(r['comment'] or '(no comment)')[:60]}" for r in rows}
            # Rows selected in the table pre-fill the form; the form keeps its own choice otherwise.
            if st.session_state.get("fb_last_selection") != selected_ids:
                st.session_state["fb_last_selection"] = selected_ids
                st.session_state["fb_link_items"] = [i for i in selected_ids if i in labels]
            st.session_state["fb_link_items"] = [i for i in st.session_state.get("fb_link_items", []) if i in labels]
            with st.form("fb_link_form"):
                chosen = st.multiselect("Feedback items (select rows above, or pick here)", list(labels),
                                        format_func=lambda i: labels[i], key="fb_link_items")
                target = st.selectbox("Roadmap item", [int(r["id"]) for r in items], index=None,
                                      placeholder="Choose a roadmap item", format_func=lambda i: next(f"{r['title']} ({STATUS_LABELS[r['status']]})"
                                                                 for r in items if r["id"] == i),
                                      key="fb_link_target")
                if st.form_submit_button("Link"):
                    if not chosen:
                        st.error("Pick at least one feedback item.")
                    elif target is None:
                        st.error("Choose the roadmap item to link them to.")
                    else:
                        try:
                            with session_scope() as s:
                                for fid in chosen:
                                    service.link_feedback(session=s, actor=user, roadmap_item_id=target,
                                                          feedback_item_id=fid)
                            data.clear()
                            flash(f"Linked {len(chosen)} feedback item(s) to the roadmap item.")
                            st.rerun()
                        except FeedbackError as exc:
                            st.error(md_escape(str(exc)))

with tab_themes:
    t1, t2 = st.columns(2)
    theme_kinds = t1.multiselect("Kind", [k.value for k in FeedbackKind], key="fb_theme_kinds")
    theme_plans = t2.multiselect("Plan", PLANS, key="fb_theme_plans")
    themes = data.themes(start, end, tuple(theme_kinds), tuple(theme_plans))
    if not themes:
        st.info("Not enough comments in this period to find themes.")
    else:
        st.caption("Comments grouped by similarity (TF-IDF and NMF, English and Spanish), named by their top terms.")
        summary = pd.DataFrame([{"theme": t["name"], "comments": t["count"], "negative": t["negative_share"],
                                 "trend": t["trend"]} for t in themes])
        st.dataframe(summary, hide_index=True, width="stretch",
                     column_config={"negative": st.column_config.NumberColumn("negative share", format="percent")})
        trend = pd.DataFrame([{"month": m, "theme": t["name"], "comments": n}
                              for t in themes for m, n in t["by_month"].items()])
        fig = px.line(trend, x="month", y="comments", color="theme", markers=True, height=320)
        fig.update_layout(margin=dict(l=0, r=0, t=10, b=0), legend_title_text="")
        st.plotly_chart(fig, width="stretch")
        pick = st.selectbox("Examples of theme", range(len(themes)), format_func=lambda i: themes[i]["name"],
                            key="fb_theme_pick")
        for example in themes[pick]["examples"]:
            st.text(example)

with tab_roadmap:
    items = data.roadmap()
    if items:
        table = pd.DataFrame(items)[["id", "title", "status", "shipped_at", "feedback_items", "tickets"]]
        table["status"] = table["status"].map(lambda v: STATUS_LABELS.get(v, v))
        st.dataframe(table, hide_index=True, width="stretch",
                     column_config={"shipped_at": st.column_config.DatetimeColumn("shipped", format="YYYY-MM-DD"),
                                    "feedback_items": "feedback"})
    else:
        st.info("No roadmap items yet.")
    s1, s2 = st.columns(2)
    with s1:
        chart(pd.DataFrame(series["shipped"]), "shipped", "Features shipped per month", kind="bar")
    with s2:
        chart(pd.DataFrame(series["implemented"]), "share", "Feedback implemented by month", percent=True,
              key="roadmap_implemented")
    if items:
        look = st.selectbox("Show what is linked to", [int(r["id"]) for r in items],
                            format_func=lambda i: next(r["title"] for r in items if r["id"] == i), key="fb_links_of")
        links = data.roadmap_links(look)
        if links:
            total = links[0]["total_links"]
            if total > len(links):
                st.caption(f"The newest {len(links):,} of {total:,} linked items.")
            st.dataframe(pd.DataFrame(links).drop(columns=["total_links", "link_id"]), hide_index=True,
                         width="stretch", column_config={
                             "linked_at": st.column_config.DatetimeColumn("linked", format="YYYY-MM-DD HH:mm"),
                             "feedback_item_id": "feedback #", "ticket_id": st.column_config.NumberColumn("ticket", format="AC-%d"),
                             "ticket_subject": "ticket subject", "ticket_category": "category"})
        else:
            st.caption("Nothing linked yet.")
        from core.ui.loop import render_roadmap_told

        st.markdown("**Who was told** (when it moved to in progress and when it shipped)")
        render_roadmap_told(look)
    if can_manage:
        a, b, c = st.columns(3)
        with a, st.form("fb_roadmap_new", clear_on_submit=True):
            st.markdown("**New roadmap item**")
            title = st.text_input("Title", max_chars=200)
            description = st.text_area("Description")
            status = st.selectbox("Status", [s.value for s in RoadmapStatus], format_func=STATUS_LABELS.get)
            shipped_on = st.date_input("Shipped on (when shipped)", value=None)
            if st.form_submit_button("Add"):
                try:
                    shipped_at = (datetime.combine(shipped_on, time(12), tzinfo=timezone.utc) if shipped_on else None)
                    with session_scope() as s:
                        service.create_roadmap_item(session=s, actor=user, title=title, description=description,
                                                    status=status, shipped_at=shipped_at)
                    data.clear()
                    flash("Roadmap item added.")
                    st.rerun()
                except FeedbackError as exc:
                    st.error(md_escape(str(exc)))
        if items:
            with b, st.form("fb_roadmap_status"):
                st.markdown("**Change status**")
                rid = st.selectbox("Item", [int(r["id"]) for r in items],
                                   format_func=lambda i: next(r["title"] for r in items if r["id"] == i))
                new_status = st.selectbox("New status", [s.value for s in RoadmapStatus], format_func=STATUS_LABELS.get)
                shipped_on = st.date_input("Shipped on (today when empty)", value=None)
                if st.form_submit_button("Save"):
                    try:
                        shipped_at = (datetime.combine(shipped_on, time(12), tzinfo=timezone.utc) if shipped_on else None)
                        with session_scope() as s:
                            service.set_roadmap_status(session=s, actor=user, roadmap_item_id=rid, status=new_status,
                                                       shipped_at=shipped_at)
                        data.clear()
                        flash("Status saved.")
                        st.rerun()
                    except FeedbackError as exc:
                        st.error(md_escape(str(exc)))
            tickets = data.feature_tickets()
            with c, st.form("fb_roadmap_ticket"):
                st.markdown("**Link a feature ticket**")
                if tickets:
                    tid = st.selectbox("Ticket", [t["id"] for t in tickets],
                                       format_func=lambda i: next(f"AC-{t['id']} {t['subject'][:60]}"
                                                                  for t in tickets if t["id"] == i))
                else:
                    tid = st.number_input("Ticket number (AC-…)", min_value=1, step=1)
                rid2 = st.selectbox("Roadmap item", [int(r["id"]) for r in items],
                                    format_func=lambda i: next(r["title"] for r in items if r["id"] == i), key="fb_rid2")
                if st.form_submit_button("Link ticket"):
                    try:
                        with session_scope() as s:
                            service.link_ticket(session=s, actor=user, roadmap_item_id=rid2, ticket_id=int(tid))
                        data.clear()
                        flash(f"AC-{int(tid)} linked.")
                        st.rerun()
                    except FeedbackError as exc:
                        st.error(md_escape(str(exc)))

with tab_followups:
    st.caption("An NPS of 6 or less from a paying account opens a follow-up for the account's owner.")
    summary = data.followup_summary(start, end)
    m1, m2, m3 = st.columns(3)
    m1.metric("Opened in the period", summary["opened"])
    m2.metric("Still open", summary["open"])
    m3.metric("Median time to done", num(summary["median_hours_to_done"], 1, " h"))
    which = st.segmented_control("Show", ["open", "done", "all"], default="open", key="fb_followup_status") or "open"
    fus = data.followups(None if which == "all" else which)
    if not fus:
        st.info("No follow-ups here.")
    else:
        st.dataframe(pd.DataFrame(fus)[["id", "status", "opened_at", "account", "plan", "owner", "score", "comment",
                                        "hours", "done_at", "note"]],
                     hide_index=True, width="stretch",
                     column_config={"hours": st.column_config.NumberColumn("hours (open or taken)", format="%.1f"),
                                    "opened_at": st.column_config.DatetimeColumn("opened", format="YYYY-MM-DD HH:mm"),
                                    "done_at": st.column_config.DatetimeColumn("done", format="YYYY-MM-DD HH:mm")})
        open_ones = [f for f in fus if f["status"] == "open"]
        if open_ones:
            with st.form("fb_followup_done"):
                fid = st.selectbox("Follow-up", [f["id"] for f in open_ones],
                                   format_func=lambda i: next(f"#{f['id']} {f['account']} (NPS {f['score']})"
                                                              for f in open_ones if f["id"] == i))
                note = st.text_area("What was done")
                if st.form_submit_button("Mark done"):
                    try:
                        with session_scope() as s:
                            service.complete_followup(session=s, actor=user, followup_id=fid, note=note)
                        data.clear()
                        flash("Follow-up done.")
                        st.rerun()
                    except FeedbackError as exc:
                        st.error(md_escape(str(exc)))
