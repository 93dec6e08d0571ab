"""Cached loaders for the feedback page, and the portal's feedback widget (stars, NPS survey, CSAT prompts)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import streamlit as st

from core.db import session_scope
from core.ui.widgets import md_escape

TTL = 60


def period(months: int, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[start of the month `months - 1` months ago, start of next month): whole calendar months, UTC."""
    now = now or datetime.now(timezone.utc)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for _ in range(months - 1):
        start = (start - timedelta(days=1)).replace(day=1)
    end = (now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=32)).replace(day=1)
    return start, end


@st.cache_data(ttl=TTL, show_spinner=False)
def kpis(start: datetime, end: datetime) -> dict:
    from core.feedback.measures import feedback_kpis

    from core.rollups.service import snapshot, snapshot_key

    with session_scope() as s:
        got = snapshot(session=s, key=snapshot_key("feedback_kpis", start, end), max_age_seconds=TTL)
        if got is not None:  # the worker's snapshot of this view, younger than this cache's TTL
            return got
        out = feedback_kpis(session=s, start=start, end=min(end, datetime.now(timezone.utc)))
    return {key: v for key, v in out.items() if not key.startswith("_")}


@st.cache_data(ttl=TTL, show_spinner="Computing measures...")
def monthly(start: datetime, end: datetime) -> dict[str, list[dict]]:
    """Every per-month series of the page, overall and by plan."""
    from core.feedback import measures as m

    from core.rollups.service import snapshot, snapshot_key

    with session_scope() as s:
        got = snapshot(session=s, key=snapshot_key("feedback_monthly", start, end), max_age_seconds=TTL)
        if got is not None:  # the worker's snapshot of this view, younger than this cache's TTL
            return got
        return {
            "nps": m.nps_by_month(session=s, start=start, end=end),
            "nps_plan": m.nps_by_month(session=s, start=start, end=end, by_plan=True),
            "csat": m.csat_by_month(session=s, start=start, end=end),
            "csat_plan": m.csat_by_month(session=s, start=start, end=end, by_plan=True),
            "churn": m.churn_by_month(session=s, start=start, end=end),
            "churn_plan": m.churn_by_month(session=s, start=start, end=end, by_plan=True),
            "implemented": m.feedback_implemented_by_month(session=s, start=start, end=end),
            "shipped": m.features_shipped_by_month(session=s, start=start, end=end),
            "bugfix": m.bug_fix_by_month(session=s, start=start, end=end),
        }


@st.cache_data(ttl=TTL, show_spinner=False)
def explorer(start: datetime, end: datetime, kinds: tuple, plans: tuple, account_ids: tuple, score_min: int,
             score_max: int, search: str, only_with_comment: bool, only_unlinked: bool) -> list[dict]:
    from core.feedback.queries import explore

    with session_scope() as s:
        return explore(session=s, start=start, end=end, kinds=list(kinds), plans=list(plans),
                       account_ids=list(account_ids), score_min=score_min, score_max=score_max, search=search,
                       only_with_comment=only_with_comment, only_unlinked=only_unlinked)


@st.cache_data(ttl=TTL, show_spinner="Grouping comments...")
def themes(start: datetime, end: datetime, kinds: tuple = (), plans: tuple = ()) -> list[dict]:
    from core.feedback.themes import comment_themes

    with session_scope() as s:
        if not kinds and not plans:  # the worker's roll-up, served while the period's comments are unchanged
            from core.rollups.service import feedback_themes

            return feedback_themes(session=s, start=start, end=end)
        return comment_themes(session=s, start=start, end=end, filters={"kind": kinds, "plan": plans})


@st.cache_data(ttl=TTL, show_spinner=False)
def roadmap() -> list[dict]:
    from core.feedback.queries import roadmap as q

    with session_scope() as s:
        return q(session=s)


@st.cache_data(ttl=TTL, show_spinner=False)
def roadmap_links(roadmap_item_id: int) -> list[dict]:
    from core.feedback.queries import roadmap_links as q

    with session_scope() as s:
        return q(session=s, roadmap_item_id=roadmap_item_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def ticket_roadmap(ticket_id: int) -> list[dict]:
    from core.feedback.queries import ticket_roadmap as q

    with session_scope() as s:
        return q(session=s, ticket_id=ticket_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def feature_tickets() -> list[dict]:
    from core.feedback.queries import feature_tickets as q

    with session_scope() as s:
        return q(session=s)


@st.cache_data(ttl=TTL, show_spinner=False)
def followups(status: str | None = None, owner_user_id: int | None = None) -> list[dict]:
    from core.feedback.queries import followups as q

    with session_scope() as s:
        return q(session=s, status=status, owner_user_id=owner_user_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def followup_summary(start: datetime, end: datetime) -> dict:
    from core.feedback.measures import followup_stats

    with session_scope() as s:
        return followup_stats(session=s, start=start, end=end)


@st.cache_data(ttl=300, show_spinner=False)
def accounts() -> list[dict]:
    from core.feedback.queries import accounts as q

    with session_scope() as s:
        return q(session=s)


def clear() -> None:
    """Forget every cached read of this page (after a write)."""
    for loader in (kpis, monthly, explorer, themes, roadmap, roadmap_links, ticket_roadmap, feature_tickets, followups,
                   followup_summary):
        loader.clear()


# --- the ticket widget ------------------------------------------------------------------------------

def render_ticket_roadmap(user, ticket_id: int) -> None:
    """On a ticket's page: the roadmap items it is linked to and, for roadmap managers, a form to link it."""
    from core.auth.roles import Permission, has_permission
    from core.feedback import service
    from core.feedback.service import FeedbackError
    from core.ui.context import flash

    linked = ticket_roadmap(ticket_id)
    labels = {"planned": "planned", "in_progress": "in progress", "shipped": "shipped"}
    if linked:
        for r in linked:
            st.text(f"Roadmap: {r['title']} ({labels.get(r['status'], r['status'])})")
    elif not has_permission(user.role, Permission.MANAGE_ROADMAP):
        st.caption("Not linked to a roadmap item.")
    if not has_permission(user.role, Permission.MANAGE_ROADMAP):
        return
    items = [r for r in roadmap() if r["id"] not in {x["id"] for x in linked}]
    if not items:
        return
    with st.form(f"ticket_roadmap_{ticket_id}"):
        rid = st.selectbox("Link this ticket to a roadmap item", [int(r["id"]) for r in items], index=None,
                           placeholder="Choose a roadmap item",
                           format_func=lambda i: next(r["title"] for r in items if r["id"] == i))
        if st.form_submit_button("Link to roadmap"):
            if rid is None:
                st.error("Choose the roadmap item first.")
                return
            try:
                with session_scope() as s:
                    service.link_ticket(session=s, actor=user, roadmap_item_id=rid, ticket_id=ticket_id)
                clear()
                flash(f"AC-{ticket_id} linked to the roadmap.")
                st.rerun()
            except FeedbackError as exc:
                st.error(md_escape(str(exc)))


def render_my_followups(user) -> None:
    """For an account owner (on the overview or queue): their open detractor follow-ups, each markable done."""
    from core.feedback import service
    from core.feedback.service import FeedbackError
    from core.ui.context import flash

    mine = followups("open", user.id)
    if not mine:
        return
    st.subheader(f"Detractor follow-ups for you ({len(mine)})")
    for f in mine:
        with st.form(f"my_followup_{f['id']}"):
            st.text(f"#{f['id']} {f['account']} ({f['plan']}) gave NPS {f['score']}, "
                    f"{f['hours']:.0f} h ago: {f['comment'] or '(no comment)'}")
            note = st.text_input("What was done", key=f"my_followup_note_{f['id']}")
            if st.form_submit_button("Mark done"):
                try:
                    with session_scope() as s:
                        service.complete_followup(session=s, actor=user, followup_id=f["id"], note=note)
                    clear()
                    flash(f"Follow-up #{f['id']} done.")
                    st.rerun()
                except FeedbackError as exc:
                    st.error(md_escape(str(exc)))


# --- the portal widget --------------------------------------------------------------------------------

CSAT_PROMPTS_SHOWN = 5
STARS = {1: "★☆☆☆☆", 2: "★★☆☆☆", 3: "★★★☆☆", 4: "★★★★☆", 5: "★★★★★"}


def _current_page() -> str:
    """The view the feedback is given on: the `from` query parameter when a product page linked here
    (/portal?from=/agents/builder), else the portal's own address with its query (e.g. /portal?csat=12)."""
    from urllib.parse import urlparse

    from core.feedback.service import MAX_PAGE

    given = (st.query_params.get("from") or "").strip()
    if given:
        return given[:MAX_PAGE]
    try:
        url = st.context.url or ""
    except Exception:  # older runtimes or bare mode
        url = ""
    parts = urlparse(url) if url else None
    page = (parts.path if parts else "") or "/portal"
    return page + (f"?{parts.query}" if parts and parts.query else "")


def render_portal_feedback(user, *, page: str | None = None) -> None:
    """The portal's feedback box: star rating with a comment, the NPS survey when due, CSAT prompts for solved tickets."""
    from core.feedback import service
    from core.feedback.service import FeedbackError
    from core.ui.context import flash

    if not getattr(user, "contact_id", None):
        st.info("Feedback is available to customer contacts.")
        return
    page = page or _current_page()

    with session_scope() as s:
        offer = service.nps_offer(session=s, contact_id=user.contact_id)
        nps_due = offer is not None
        prompts = service.csat_prompts(session=s, contact_id=user.contact_id)
        waiting = service.csat_waiting(session=s, contact_id=user.contact_id)

    wanted = (st.query_params.get("csat") or "").strip()
    wanted = wanted if wanted.isdigit() else None      # a ticket number, or nothing (never echoed otherwise)
    if wanted:  # came from the CSAT mail: that rating first
        _csat_prompts(user, prompts, wanted, waiting)
    if nps_due:
        _nps_survey(user)
    if not wanted:
        _csat_prompts(user, prompts, None, waiting)

    st.subheader("How are we doing?")
    with st.form("portal_rating", clear_on_submit=True):
        stars = st.radio("Your rating", options=list(STARS), format_func=lambda n: STARS[n], horizontal=True,
                         index=None, key="portal_rating_stars")
        comment = st.text_area("Tell us more (optional)", max_chars=service.MAX_COMMENT)
        if st.form_submit_button("Send feedback"):
            if stars is None:
                st.error("Choose from 1 to 5 stars.")
            else:
                try:
                    with session_scope() as s:
                        service.submit_rating(session=s, actor=user, score=stars, comment=comment, page=page)
                    clear()
                    flash("Thank you! Your feedback reaches our product team.")
                    st.rerun()
                except FeedbackError as exc:
                    st.error(md_escape(str(exc)))


def _nps_survey(user) -> None:
    """The NPS survey (0-10 and why), answered or put off for 90 days."""
    from core.feedback import service
    from core.feedback.service import FeedbackError
    from core.ui.context import flash

    st.subheader("One quick question")
    with st.form("nps_survey"):
        score = st.radio("How likely are you to recommend us to a friend or colleague? (0 = not at all, "
                         "10 = extremely)", options=list(range(11)), horizontal=True, index=None,
                         key="nps_score")
        why = st.text_area("Why?", max_chars=service.MAX_COMMENT, height=68)
        c1, c2 = st.columns(2)
        sent = c1.form_submit_button("Send answer", type="primary")
        later = c2.form_submit_button("Not now")
    if sent and score is None:
        st.error("Choose a number from 0 to 10.")
    elif sent or later:
        try:
            with session_scope() as s:
                if sent:
                    service.submit_nps(session=s, actor=user, score=score, comment=why)
                else:
                    service.dismiss_nps(session=s, actor=user)
            clear()
            flash("Thank you for your answer!" if sent else "We won't ask again for a while.")
            st.rerun()
        except FeedbackError as exc:
            st.error(md_escape(str(exc)))


def _csat_prompts(user, prompts: list[dict], wanted: str | None, waiting: int) -> None:
    """One form per solved request to rate (the one the mail linked to first), changeable for 7 days."""
    from core.feedback import service
    from core.feedback.service import FeedbackError
    from core.ui.context import flash

    if wanted and not any(str(p["ticket_id"]) == wanted for p in prompts):
        st.info(f"AC-{int(wanted)} has nothing to rate here: it is not one of your solved requests, or its rating "
                "can no longer be changed (7 days have passed).")
    if prompts:
        st.subheader("Rate your solved requests")
        prompts.sort(key=lambda p: str(p["ticket_id"]) != wanted)
        for p in prompts[:CSAT_PROMPTS_SHOWN]:
            with st.form(f"csat_{p['ticket_id']}"):
                st.text(f"{p['reference']}: {p['subject']}")
                if p["score"] is not None:
                    until = p["changeable_until"].strftime("%Y-%m-%d %H:%M UTC")
                    st.caption(f"You rated this {STARS[p['score']]}; you can change it until {until}.")
                score = st.radio("How satisfied are you with the help you got?", options=list(STARS),
                                 format_func=lambda n: STARS[n], horizontal=True,
                                 index=None if p["score"] is None else p["score"] - 1,
                                 key=f"csat_score_{p['ticket_id']}")
                comment = st.text_area("Anything to add? (optional)", value=p["comment"], max_chars=service.MAX_COMMENT,
                                       height=68, key=f"csat_comment_{p['ticket_id']}")
                if st.form_submit_button("Send rating" if p["score"] is None else "Change rating"):
                    if score is None:
                        st.error("Choose from 1 to 5 stars.")
                    else:
                        try:
                            with session_scope() as s:
                                service.submit_csat(session=s, actor=user, ticket_id=p["ticket_id"], score=score,
                                                    comment=comment)
                            clear()
                            flash(f"Thank you! Your rating of {p['reference']} was saved.")
                            st.rerun()
                        except FeedbackError as exc:
                            st.error(md_escape(str(exc)))
        more = waiting - sum(p["score"] is None for p in prompts[:CSAT_PROMPTS_SHOWN])
        if more > 0:
            st.caption(f"{more} more solved request{'s are' if more != 1 else ' is'} waiting for your rating; "
                       "rate these first to see them.")
