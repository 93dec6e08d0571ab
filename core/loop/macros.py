"""Macros: saved replies with placeholders, a status change and documentation links, applied from the ticket view."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import urlparse

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.accounts.models import Account, Contact
from core.audit.service import record
from core.auth.models import User
from core.auth.roles import Permission, require
from core.loop.models import Macro, MacroLanguage, MacroUse
from core.tickets import service as tickets
from core.tickets.enums import TicketStatus

PLACEHOLDERS = ("requester_name", "ticket_number", "agent_name", "account_name")
# Only these exact names are replaced, in one pass: a value that itself looks like "{agent_name}" stays literal,
# and nothing like "{0.__class__}" or "{x:>999}" is ever evaluated (no str.format on stored text).
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
MACRO_STATUSES = (TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ON_HOLD, TicketStatus.SOLVED)
MAX_LINKS = 10


class MacroError(ValueError):
    """A macro could not be stored or applied; the message says why."""


def render(template: str, values: dict[str, str]) -> str:
    """Replace the known {placeholders} in template with plain-text values; everything else stays as written."""
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), "")), template)


def _clean(*, title: str, body: str, language: str, status: str | None, doc_links) -> dict:
    errors = []
    title, body = (title or "").strip(), (body or "").strip()
    if not 1 <= len(title) <= 200:
        errors.append("title: 1 to 200 characters")
    if not 1 <= len(body) <= 20000:
        errors.append("body: 1 to 20000 characters")
    try:
        language = MacroLanguage(language or "en")
    except ValueError:
        errors.append(f"language: {language!r} is not one of en, es")
    if status in ("", None):
        status = None
    elif status not in [s.value for s in MACRO_STATUSES]:
        errors.append(f"status: {status!r} is not one of {', '.join(s.value for s in MACRO_STATUSES)} (or none)")
    links = []
    for i, link in enumerate(doc_links or [], 1):
        t = str((link or {}).get("title") or "").strip()
        u = str((link or {}).get("url") or "").strip()
        p = urlparse(u)
        if not t or len(t) > 200:
            errors.append(f"documentation link {i}: a title of 1 to 200 characters is required")
        if p.scheme not in ("http", "https") or not p.netloc or len(u) > 2000 or any(c.isspace() for c in u):
            errors.append(f"documentation link {i}: {u!r} is not an http(s) address")
        links.append({"title": t, "url": u})
    if len(links) > MAX_LINKS:
        errors.append(f"documentation links: at most {MAX_LINKS}")
    if errors:
        raise MacroError("; ".join(errors))
    return {"title": title, "body": body, "language": str(language), "status": status, "doc_links": links}


def parse_links(text: str) -> list[dict]:
    """Documentation links from lines "Title | https://..." (the page's text box); blank lines are skipped."""
    links = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        title, sep, url = line.rpartition("|")
        if not sep:
            raise MacroError(f"documentation link {line.strip()!r}: write it as 'Title | https://...'")
        links.append({"title": title.strip(), "url": url.strip()})
    return links


def create_macro(*, session: Session, actor: User, title: str, body: str, language: str = "en",
                 status: str | None = None, doc_links: list[dict] | None = None) -> Macro:
    """Add a macro (admins and support leads)."""
    require(actor, Permission.MANAGE_MACROS)
    fields = _clean(title=title, body=body, language=language, status=status, doc_links=doc_links)
    _check_unique(session, fields, None)
    macro = Macro(**fields, created_by=actor.id)
    session.add(macro)
    session.flush()
    record(session=session, actor=actor, action="macro.create", entity="macro", entity_id=macro.id,
           details={"title": macro.title, "language": macro.language})
    return macro


def edit_macro(*, session: Session, actor: User, macro_id: int, title: str, body: str, language: str = "en",
               status: str | None = None, doc_links: list[dict] | None = None) -> Macro:
    """Change a macro's title, body, language, status change or links."""
    require(actor, Permission.MANAGE_MACROS)
    macro = _get(session, macro_id)
    fields = _clean(title=title, body=body, language=language, status=status, doc_links=doc_links)
    _check_unique(session, fields, macro.id)
    before = {k: getattr(macro, k) for k in fields}
    for k, v in fields.items():
        setattr(macro, k, v)
    macro.updated_at = datetime.now(timezone.utc)
    session.flush()
    record(session=session, actor=actor, action="macro.edit", entity="macro", entity_id=macro.id,
           details={"changed": sorted(k for k in fields if before[k] != fields[k])})
    return macro


def delete_macro(*, session: Session, actor: User, macro_id: int) -> None:
    """Remove a macro (replies already sent keep their text)."""
    require(actor, Permission.MANAGE_MACROS)
    macro = _get(session, macro_id)
    title = macro.title
    session.delete(macro)
    session.flush()
    record(session=session, actor=actor, action="macro.delete", entity="macro", entity_id=macro_id,
           details={"title": title})


def _get(session: Session, macro_id: int) -> Macro:
    macro = session.get(Macro, macro_id)
    if macro is None:
        raise MacroError(f"no macro {macro_id}")
    return macro


def _check_unique(session: Session, fields: dict, macro_id: int | None) -> None:
    q = select(Macro.id).where(Macro.title == fields["title"], Macro.language == fields["language"])
    if macro_id is not None:
        q = q.where(Macro.id != macro_id)
    if session.scalar(q) is not None:
        raise MacroError(f"a {fields['language']} macro titled {fields['title']!r} exists already")


def list_macros(*, session: Session, language: str | None = None) -> list[Macro]:
    """Every macro (of one language when given), most used first."""
    q = select(Macro).order_by(Macro.usage_count.desc(), Macro.title)
    if language:
        q = q.where(Macro.language == language)
    return list(session.scalars(q))


def placeholder_values(*, session: Session, actor: User, ticket) -> dict[str, str]:
    """The plain-text values of the placeholders for this ticket and agent."""
    contact = session.get(Contact, ticket.requester_id) if ticket.requester_id else None
    account = session.get(Account, ticket.account_id)
    return {"requester_name": contact.name if contact else "there", "ticket_number": ticket.reference,
            "agent_name": actor.name, "account_name": account.name if account else ""}


def preview(*, session: Session, actor: User, ticket_id: int, macro_id: int) -> str:
    """The reply text the macro would send on this ticket (nothing is stored)."""
    require(actor, Permission.WORK_TICKETS)
    macro = _get(session, macro_id)
    ticket = tickets.get_ticket(session=session, ticket_id=ticket_id)
    return _reply_text(macro, placeholder_values(session=session, actor=actor, ticket=ticket))


def _reply_text(macro: Macro, values: dict) -> str:
    text = render(macro.body, values)
    if macro.doc_links:
        heading = "Documentación" if macro.language == MacroLanguage.ES else "Documentation"
        text += f"\n\n{heading}:\n" + "\n".join(f"- {link['title']}: {link['url']}" for link in macro.doc_links)
    return text


def apply_macro(*, session: Session, actor: User, ticket_id: int, macro_id: int):
    """Send the macro as a public reply on the ticket (placeholders filled), apply its status change, count the use."""
    require(actor, Permission.WORK_TICKETS)
    macro = _get(session, macro_id)
    ticket = tickets.get_ticket(session=session, ticket_id=ticket_id)
    body = _reply_text(macro, placeholder_values(session=session, actor=actor, ticket=ticket))
    ev = tickets.public_reply(session=session, actor=actor, ticket_id=ticket_id, body=body,
                              status=TicketStatus(macro.status) if macro.status else None,
                              data={"macro_id": macro.id, "macro_title": macro.title,
                                    "doc_links": list(macro.doc_links or [])})
    now = datetime.now(timezone.utc)
    session.add(MacroUse(macro_id=macro.id, ticket_id=ticket_id, event_id=ev.id, user_id=actor.id, at=now))
    session.execute(update(Macro).where(Macro.id == macro.id)
                    .values(usage_count=Macro.usage_count + 1, last_used_at=now))
    session.flush()
    record(session=session, actor=actor, action="macro.apply", entity="ticket", entity_id=ticket_id,
           details={"macro_id": macro.id, "title": macro.title, "status": macro.status})
    return ev


def most_used(*, session: Session, days: int | None = 30, limit: int = 10) -> list[dict]:
    """Macros by uses (in the last `days` days, or ever when None), with their all-time count."""
    since = None if days is None else func.now() - func.make_interval(0, 0, 0, days)
    uses = func.count(MacroUse.id)
    join_on = MacroUse.macro_id == Macro.id
    if since is not None:
        join_on = join_on & (MacroUse.at >= since)
    rows = session.execute(
        select(Macro.id, Macro.title, Macro.language, Macro.usage_count, Macro.last_used_at, uses.label("uses"))
        .outerjoin(MacroUse, join_on).group_by(Macro.id).order_by(uses.desc(), Macro.usage_count.desc(), Macro.title)
        .limit(limit))
    return [dict(r._mapping) for r in rows]


def ticket_macro_uses(*, session: Session, ticket_id: int) -> list[dict]:
    """The macros applied on one ticket, oldest first."""
    rows = session.execute(
        select(MacroUse.at, Macro.title, Macro.language, User.name.label("agent"))
        .join(Macro, Macro.id == MacroUse.macro_id).outerjoin(User, User.id == MacroUse.user_id)
        .where(MacroUse.ticket_id == ticket_id).order_by(MacroUse.at))
    return [dict(r._mapping) for r in rows]
