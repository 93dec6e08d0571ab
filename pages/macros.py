"""Macros: saved replies with placeholders, a status change and documentation links; the most used ones."""

import pandas as pd
import streamlit as st

from core.auth.roles import Permission, PermissionDenied
from core.db import session_scope
from core.loop import macros as service
from core.ui import loop as data
from core.ui.context import flash, page_user, show_flash
from core.ui.widgets import md_escape

user = page_user(Permission.MANAGE_MACROS)
st.title("Macros")
st.caption("Placeholders: " + ", ".join("{" + p + "}" for p in service.PLACEHOLDERS)
           + ". Anything else in braces is sent as written.")
show_flash()

STATUSES = [None, *[s.value for s in service.MACRO_STATUSES]]
LANGS = ["en", "es"]

tab_list, tab_new, tab_top = st.tabs(["Macros", "New macro", "Most used"], key="macros_tab", on_change="rerun")


def _save(action, success: str) -> None:
    try:
        with session_scope() as s:
            action(s)
        data.clear()
        flash(success)
        st.rerun()
    except (service.MacroError, PermissionDenied) as exc:
        st.error(md_escape(str(exc)))


def _links_text(links: list[dict]) -> str:
    return "\n".join(f"{link['title']} | {link['url']}" for link in links)


with tab_list:
    lang = st.selectbox("Language", [None, *LANGS], format_func=lambda v: "all" if v is None else v)
    rows = data.macro_list(lang)
    if not rows:
        st.info("No macros yet: add one in the New macro tab.")
    else:
        st.dataframe(pd.DataFrame([{"title": r["title"], "language": r["language"], "sets status": r["status"] or "",
                                    "links": len(r["doc_links"]), "uses": r["usage_count"],
                                    "last used": r["last_used_at"]} for r in rows]),
                     hide_index=True, width="stretch")
        pick = st.selectbox("Edit a macro", [r["id"] for r in rows],
                            format_func=lambda i: next(f"{r['title']} ({r['language']})" for r in rows if r["id"] == i))
        m = next(r for r in rows if r["id"] == pick)
        with st.form(f"edit_macro_{pick}"):
            title = st.text_input("Title", m["title"], max_chars=200)
            body = st.text_area("Body", m["body"], max_chars=20000, height=200)
            c1, c2 = st.columns(2)
            language = c1.selectbox("Language", LANGS, index=LANGS.index(m["language"]))
            status = c2.selectbox("Then set status", STATUSES, index=STATUSES.index(m["status"]),
                                  format_func=lambda v: "leave as is" if v is None else v)
            links = st.text_area("Documentation links (one per line: Title | https://...)", _links_text(m["doc_links"]))
            sure = st.checkbox("Delete this macro for everyone (its use history is kept)", key=f"macro_delete_sure_{pick}")
            save, delete = st.columns(2)
            saved, deleted = save.form_submit_button("Save"), delete.form_submit_button("Delete")
            if saved:
                _save(lambda s: service.edit_macro(session=s, actor=user, macro_id=pick, title=title, body=body,
                                                   language=language, status=status,
                                                   doc_links=service.parse_links(links)), "Macro saved.")
            elif deleted and not sure:
                st.error("Tick the box above the buttons to confirm the deletion. Nothing was deleted.")
            elif deleted:
                _save(lambda s: service.delete_macro(session=s, actor=user, macro_id=pick), "Macro deleted.")

with tab_new:
    with st.form("new_macro", clear_on_submit=False):
        title = st.text_input("Title", max_chars=200)
        body = st.text_area("Body", "Hello {requester_name},\n\n\n\nBest regards,\n{agent_name}", max_chars=20000,
                            height=200)
        c1, c2 = st.columns(2)
        language = c1.selectbox("Language", LANGS)
        status = c2.selectbox("Then set status", STATUSES, format_func=lambda v: "leave as is" if v is None else v)
        links = st.text_area("Documentation links (one per line: Title | https://...)")
        if st.form_submit_button("Add macro"):
            _save(lambda s: service.create_macro(session=s, actor=user, title=title, body=body, language=language,
                                                 status=status, doc_links=service.parse_links(links)),
                  "Macro added.")

with tab_top:
    days = st.selectbox("Period", [7, 30, 90, None], index=1, format_func=lambda d: "all time" if d is None else f"last {d} days")
    top = data.most_used(days, 20)
    if not top or not any(r["uses"] for r in top):
        st.info("No macro was used in this period.")
    else:
        df = pd.DataFrame(top)[["title", "language", "uses", "usage_count", "last_used_at"]]
        df.columns = ["title", "language", "uses in period", "uses ever", "last used"]
        st.bar_chart(df.set_index("title")["uses in period"])
        st.dataframe(df, hide_index=True, width="stretch")
