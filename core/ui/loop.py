"""Cached loaders for macros, ticket outcomes and roadmap notices (pages/macros.py, queue and portal additions)."""

from __future__ import annotations

import streamlit as st

from core.db import session_scope
from core.ui.widgets import md_escape

TTL = 30


@st.cache_data(ttl=TTL, show_spinner=False)
def macro_list(language: str | None = None) -> list[dict]:
    """Every macro (of one language when given) as plain dicts, most used first."""
    from core.loop.macros import list_macros

    with session_scope() as s:
        return [{"id": m.id, "title": m.title, "language": m.language, "status": m.status, "body": m.body,
                 "doc_links": list(m.doc_links or []), "usage_count": m.usage_count, "last_used_at": m.last_used_at,
                 "updated_at": m.updated_at} for m in list_macros(session=s, language=language)]


@st.cache_data(ttl=TTL, show_spinner=False)
def most_used(days: int | None = 30, limit: int = 10) -> list[dict]:
    from core.loop.macros import most_used as _most_used

    with session_scope() as s:
        return _most_used(session=s, days=days, limit=limit)


@st.cache_data(ttl=TTL, show_spinner=False)
def ticket_macro_uses(ticket_id: int) -> list[dict]:
    from core.loop.macros import ticket_macro_uses as _uses

    with session_scope() as s:
        return _uses(session=s, ticket_id=ticket_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def ticket_outcomes(ticket_id: int) -> dict:
    from core.loop.outcomes import ticket_outcomes as _outcomes

    with session_scope() as s:
        return _outcomes(session=s, ticket_id=ticket_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def ticket_fixes(ticket_id: int) -> list[dict]:
    from core.loop.fixes import fixes_for_ticket

    with session_scope() as s:
        return fixes_for_ticket(session=s, ticket_id=ticket_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def portal_notes(contact_id: int) -> list[dict]:
    from core.loop.roadmap import notes_for_contact

    with session_scope() as s:
        return notes_for_contact(session=s, contact_id=contact_id)


@st.cache_data(ttl=5, show_spinner=False)  # short: the feedback page's status form cannot clear this cache
def told_for_item(roadmap_item_id: int) -> list[dict]:
    from core.loop.roadmap import told_for_item as _told

    with session_scope() as s:
        return _told(session=s, roadmap_item_id=roadmap_item_id)


def clear() -> None:
    """Forget cached reads after a write."""
    for fn in (macro_list, most_used, ticket_macro_uses, ticket_outcomes, ticket_fixes, portal_notes, told_for_item):
        fn.clear()


def render_ticket_outcomes(ticket_id: int) -> None:
    """Portal: what happened to this request (articles, roadmap, fix release), as text."""
    out = ticket_outcomes(ticket_id)
    if not any(out.values()):
        return
    st.markdown("**What happened**")
    for a in out["articles"]:
        st.text(f"Answered with the article: {a['title']} ({a['url']})")
    for r in out["roadmap"]:
        state = {"planned": "planned on the roadmap", "in_progress": "in progress on the roadmap",
                 "shipped": "shipped"}.get(r["status"], r["status"])
        st.text(f"{r['title']}: {state}" + (f" ({r['shipped_at']:%Y-%m-%d})" if r["shipped_at"] else ""))
    for f in out["fixes"]:
        st.text(f"Fixed in release {f['version']} ({f['deployed_at']:%Y-%m-%d})")


def render_portal_notes(contact_id: int | None) -> None:
    """Portal: roadmap items this customer asked for that moved, newest first."""
    if not contact_id:
        return
    notes = portal_notes(contact_id)
    if notes:
        with st.expander(f"Updates on what you asked for ({len(notes)})"):
            for n in notes:
                label = "shipped" if n["change"] == "shipped" else "in progress"
                st.text(f"{n['at']:%Y-%m-%d} · {n['title']}: {label}")


def render_roadmap_told(roadmap_item_id: int) -> None:
    """Feedback page: who was told about a roadmap item, and when."""
    rows = told_for_item(roadmap_item_id)
    if not rows:
        st.caption("Nobody has been told about this item yet.")
        return
    st.dataframe([{"change": r["change"], "told": r["at"], "name": r["name"], "email": r["email"],
                   "ticket": f"AC-{r['ticket_id']}" if r["ticket_id"] else "",
                   "feedback": r["feedback_item_id"] or ""} for r in rows], hide_index=True, width="stretch")


def render_ticket_macros(user, t: dict) -> None:
    """Queue ticket view: apply a macro (preview first), the macros used on this ticket, and a bug's fix link."""
    from core.auth.roles import PermissionDenied
    from core.loop import fixes as fix_service
    from core.loop import macros as macro_service
    from core.tickets import service as tickets
    from core.tickets.intake import IntakeError
    from core.ui.context import flash
    from core.ui import tickets as ticket_data

    def _write(action, success: str) -> None:
        try:
            from core.db import session_scope as scope

            with scope() as s:
                action(s)
            clear()
            ticket_data.clear()
            flash(success)
            st.rerun()
        except IntakeError as exc:
            for msg in exc.errors.values():
                st.error(md_escape(msg))
        except (macro_service.MacroError, fix_service.FixError, tickets.TicketError, tickets.TicketNotFound,
                PermissionDenied) as exc:
            st.error(md_escape(str(exc)))

    rows = macro_list(None)
    top = [r for r in most_used(30, 3) if r["uses"]]
    if top:
        st.text("Most used macros (30 days): " + ", ".join(f"{r['title']} ({r['uses']})" for r in top))
    if rows and t["status"] != "closed":
        with st.form(f"apply_macro_{t['id']}"):
            st.markdown("**Apply a macro**")
            preferred = [r for r in rows if r["language"] == t.get("language", "en")] + \
                        [r for r in rows if r["language"] != t.get("language", "en")]
            # Nothing is picked for the agent: one click sends the reply (and may solve the ticket).
            pick = st.selectbox("Macro", [r["id"] for r in preferred], index=None, placeholder="Choose a macro",
                                format_func=lambda i: next(f"{r['title']} ({r['language']}, used {r['usage_count']}x)"
                                                           + (f" -> {r['status']}" if r["status"] else "")
                                                           for r in rows if r["id"] == i))
            c1, c2 = st.columns(2)
            preview, send = c1.form_submit_button("Preview"), c2.form_submit_button("Send as public reply")
            if (preview or send) and pick is None:
                st.error("Choose a macro first.")
            elif preview:
                with session_scope() as s:
                    st.text(macro_service.preview(session=s, actor=user, ticket_id=t["id"], macro_id=pick))
            elif send:
                _write(lambda s: macro_service.apply_macro(session=s, actor=user, ticket_id=t["id"], macro_id=pick),
                       "Macro reply sent.")
    uses = ticket_macro_uses(t["id"])
    if uses:
        st.text("Macros used here: " + "; ".join(f"{u['title']} by {u['agent'] or 'someone'} "
                                                    f"{u['at']:%Y-%m-%d %H:%M}" for u in uses))
    if t["category"] == "bug":
        linked = ticket_fixes(t["id"])
        with st.form(f"link_fix_{t['id']}"):
            st.markdown("**Fix**")
            for f in linked:
                what = f["commit_sha"][:12] if f["commit_sha"] else f["release_item"]
                st.text(f"{what}: " + (f"live in {f['version']}" if f["version"] else "not released yet"))
            commit = st.text_input("Commit hash", max_chars=40)
            item = st.text_input("or release item (the version that ships it, e.g. v1.4.0)", max_chars=200)
            if st.form_submit_button("Link fix"):
                _write(lambda s: fix_service.link_fix(session=s, actor=user, ticket_id=t["id"], commit=commit or None,
                                                      release_item=item or None), "Fix linked.")
