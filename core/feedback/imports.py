"""JSONL imports of feedback items and of accounts with their subscription events, idempotent, row by row."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts.models import Account, Contact, Plan
from core.audit.service import record
from core.auth.models import User
from core.feedback import service
from core.feedback.models import FeedbackItem, FeedbackKind, FeedbackSource, SubscriptionEvent
from core.feedback.service import FeedbackError
from core.tickets.models import Ticket

FOLLOWUP_LOOKBACK = timedelta(days=90)  # imported detractors older than this get no follow-up
CLOCK_SKEW = timedelta(minutes=5)


@dataclass
class ImportResult:
    imported: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self, noun: str) -> str:
        return (f"{self.imported} {noun} imported, {self.unchanged} already there, "
                f"{len(self.errors)} rejected")


def parse_time(value, what: str, now: datetime) -> datetime:
    """An ISO 8601 time (UTC when no offset) not in the future, or FeedbackError."""
    if not isinstance(value, str) or not value.strip():
        raise FeedbackError(f"{what}: missing (an ISO 8601 date or time)")
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise FeedbackError(f"{what}: {value!r} is not an ISO 8601 date or time") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    if dt > now + CLOCK_SKEW:
        raise FeedbackError(f"{what}: {value} is in the future")
    return dt


def _lines(path: Path):
    try:
        handle = path.open(encoding="utf-8-sig")
    except OSError as exc:
        raise FeedbackError(f"cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line


def _row(line: str) -> dict:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise FeedbackError(f"not valid JSON ({exc.msg})") from None
    if not isinstance(row, dict):
        raise FeedbackError("each line must be a JSON object")
    return row


def _text(row: dict, key: str, required: bool = True) -> str | None:
    value = row.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FeedbackError(f"{key}: missing")
        return None
    if not isinstance(value, (str, int)):
        raise FeedbackError(f"{key}: {value!r} is not text")
    return str(value).strip()


# --- feedback -----------------------------------------------------------------------------------------

def import_feedback(*, session: Session, path: Path, actor: str = "cli", now: datetime | None = None) -> ImportResult:
    """Import feedback items from JSONL; each bad row is reported with its line number and nothing of it stored."""
    now = now or datetime.now(timezone.utc)
    result = ImportResult()
    for number, line in _lines(Path(path)):
        savepoint = session.begin_nested()
        try:
            created = _import_feedback_row(session, _row(line), now)
        except FeedbackError as exc:
            savepoint.rollback()
            result.errors.append(f"line {number}: {exc}")
            continue
        savepoint.commit()
        if created:
            result.imported += 1
        else:
            result.unchanged += 1
    record(session=session, actor=actor, action="feedback.import", entity="feedback_item",
           details={"file": str(path), "imported": result.imported, "unchanged": result.unchanged,
                    "rejected": len(result.errors)})
    return result


def _import_feedback_row(session: Session, row: dict, now: datetime) -> bool:
    external_id = _text(row, "external_id")
    if len(external_id) > 120:
        raise FeedbackError("external_id: at most 120 characters")
    if session.scalar(select(FeedbackItem.id).where(FeedbackItem.external_id == external_id)):
        return False
    kind = service.check_kind(row.get("kind"))
    score = service.check_score(kind, row.get("score"))
    account_key = _text(row, "account")
    account = session.scalar(select(Account).where(Account.key == account_key))
    if account is None:
        raise FeedbackError(f"account: unknown account {account_key!r}")
    created_at = parse_time(row.get("created_at"), "created_at", now)
    comment = row.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise FeedbackError("comment: must be text")
    comment = service.check_comment(comment)
    contact = _contact(session, account, _text(row, "contact_email", required=False))
    ticket = None
    ticket_ref = _text(row, "ticket_external_id", required=False)
    if ticket_ref is not None:
        ticket = session.scalar(select(Ticket).where(Ticket.external_id == ticket_ref))
        if ticket is None:
            raise FeedbackError(f"ticket_external_id: unknown ticket {ticket_ref!r}")
        if ticket.account_id != account.id:
            raise FeedbackError(f"ticket_external_id: ticket {ticket_ref!r} belongs to another account")
    if kind == FeedbackKind.CSAT:
        if ticket is None:
            raise FeedbackError("ticket_external_id: a csat rating needs the ticket it rates")
        if session.scalar(select(FeedbackItem.id).where(FeedbackItem.kind == FeedbackKind.CSAT,
                                                        FeedbackItem.ticket_id == ticket.id)):
            raise FeedbackError(f"a second CSAT for ticket {ticket_ref!r} (one rating per ticket)")
    item = FeedbackItem(external_id=external_id, kind=kind, score=score, comment=comment,
                        page=_text(row, "page", required=False), language=contact.language if contact else None,
                        source=FeedbackSource.IMPORT, account_id=account.id, contact_id=contact.id if contact else None,
                        ticket_id=ticket.id if ticket else None, created_at=created_at, updated_at=created_at)
    session.add(item)
    session.flush()
    if created_at > now - FOLLOWUP_LOOKBACK:
        service.open_followup_if_detractor(session=session, item=item, now=created_at)
    return True


def _contact(session: Session, account: Account, email: str | None) -> Contact | None:
    if email is None:
        return None
    email = email.lower()
    if "@" not in email or len(email) > 254:
        raise FeedbackError(f"contact_email: {email!r} is not an e-mail address")
    contact = session.scalar(select(Contact).where(Contact.email == email))
    if contact is None:
        contact = Contact(account_id=account.id, email=email, name=email.split("@", 1)[0][:120])
        session.add(contact)
        session.flush()
    elif contact.account_id != account.id:
        raise FeedbackError(f"contact_email: {email} belongs to another account")
    return contact


# --- accounts -----------------------------------------------------------------------------------------

def import_accounts(*, session: Session, path: Path, actor: str = "cli", now: datetime | None = None) -> ImportResult:
    """Import or update accounts and their subscription events from JSONL, row by row."""
    now = now or datetime.now(timezone.utc)
    result = ImportResult()
    for number, line in _lines(Path(path)):
        savepoint = session.begin_nested()
        try:
            changed = _import_account_row(session, _row(line), now)
        except FeedbackError as exc:
            savepoint.rollback()
            result.errors.append(f"line {number}: {exc}")
            continue
        savepoint.commit()
        if changed:
            result.imported += 1
        else:
            result.unchanged += 1
    record(session=session, actor=actor, action="accounts.import", entity="account",
           details={"file": str(path), "imported": result.imported, "unchanged": result.unchanged,
                    "rejected": len(result.errors)})
    return result


def _import_account_row(session: Session, row: dict, now: datetime) -> bool:
    key = _text(row, "account")
    if len(key) > 64:
        raise FeedbackError("account: at most 64 characters")
    name = _text(row, "name", required=False) or key
    plan = _text(row, "plan")
    if plan not in {p.value for p in Plan}:
        raise FeedbackError(f"plan: {plan!r} is not one of {', '.join(p.value for p in Plan)}")
    mrr = service.check_mrr(row["mrr"]) if row.get("mrr") is not None else None
    events = row.get("events") or []
    if not isinstance(events, list):
        raise FeedbackError("events: must be a list")
    parsed = []
    for i, ev in enumerate(events, start=1):
        if not isinstance(ev, dict):
            raise FeedbackError(f"events[{i}]: must be an object")
        etype = ev.get("type")
        if etype not in {"started", "upgraded", "downgraded", "cancelled", "reactivated"}:
            raise FeedbackError(f"events[{i}].type: {etype!r} is not one of started, upgraded, downgraded, "
                                "cancelled, reactivated")
        at = parse_time(ev.get("at"), f"events[{i}].at", now)
        ev_mrr = service.check_mrr(ev["mrr"]) if ev.get("mrr") is not None else None
        parsed.append((etype, at, ev_mrr))
    parsed.sort(key=lambda e: e[1])
    owner_name = _text(row, "owner", required=False)
    owner_id = None
    if owner_name:
        owner_id = session.scalar(select(User.id).where(User.username == owner_name.lower()))
        if owner_id is None:
            raise FeedbackError(f"owner: unknown user {owner_name!r}")

    account = session.scalar(select(Account).where(Account.key == key))
    before = None if account is None else (account.name, account.plan, account.mrr, account.owner_user_id)
    if account is None:
        started = next((at for t, at, _ in parsed if t == "started"), parsed[0][1] if parsed else now)
        account = Account(key=key, name=name[:200], plan=plan, mrr=mrr or 0, started_at=started)
        session.add(account)
        session.flush()
    account.name, account.plan = name[:200], plan
    if owner_id is not None:
        account.owner_user_id = owner_id
    new_events = 0
    current = mrr
    for etype, at, ev_mrr in parsed:
        if ev_mrr is None:
            ev_mrr = current if current is not None else account.mrr
        known = session.scalar(select(SubscriptionEvent.id).where(
            SubscriptionEvent.account_id == account.id, SubscriptionEvent.type == etype, SubscriptionEvent.at == at))
        service.add_subscription_event(session=session, account=account, type=etype, at=at, mrr=ev_mrr)
        new_events += known is None
        if etype != "cancelled":
            current = ev_mrr
    service.sync_account_from_events(session=session, account=account)
    if mrr is not None:
        account.mrr = mrr
    session.flush()
    after = (account.name, account.plan, account.mrr, account.owner_user_id)
    return before is None or before != after or new_events > 0
