"""Channel services: settings, sync runs and cursors, provider links, and who a sender is."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.accounts.models import Account, Contact, Plan
from core.audit.service import record
from core.auth.roles import Permission, require
from core.channels.models import ChannelSetting, LinkKind, ProviderLink, RunStatus, SyncCursor, SyncRun

# Defaults of the non-secret settings; secrets (IMAP_URL's password, API tokens) come from the environment.
DEFAULTS: dict[str, dict] = {
    "mailbox": {"folder": "", "catch_all_account": "", "max_attachment_mb": 10.0, "keyword": "$AftercareImported"},
    "zendesk": {"base_url": "", "email": "", "category_field_id": "", "tag_prefix": "aftercare_"},
    "front": {"base_url": "https://api2.frontapp.com", "category_field": "Category", "priority_field": "Priority"},
}
MAX_ERROR = 4000
# Where mail and provider tickets from senders nobody knows go when no catch-all account is configured:
# created on first use, so a lead can move the sender to the right account later (nothing is dropped).
INTAKE_ACCOUNT_KEY = "unassigned-senders"
INTAKE_ACCOUNT_NAME = "Unassigned senders"
# Free-mail domains never identify a customer's company.
PUBLIC_DOMAINS = {"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com", "icloud.com",
                  "me.com", "aol.com", "gmx.com", "gmx.de", "proton.me", "protonmail.com", "mail.com", "yandex.ru"}


class ChannelConfigError(ValueError):
    """A channel setting that cannot be accepted."""


class ChannelBusy(RuntimeError):
    """Another pass of the same channel holds its lock (the worker, or another "Sync now")."""


# Advisory-lock class for channel passes (object id: the channel's number), held for a whole pass.
LOCK_CLASS = 7_311_020
LOCK_IDS = {"mailbox": 1, "zendesk": 2, "front": 3, "native": 4}


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------- settings

def get_config(*, session: Session, key: str) -> dict:
    """The channel's settings merged over the defaults, with `enabled`."""
    if key not in DEFAULTS:
        raise ChannelConfigError(f"no channel {key!r}")
    row = session.get(ChannelSetting, key)
    cfg = dict(DEFAULTS[key])
    if row is not None:
        cfg.update(row.config or {})
    cfg["enabled"] = bool(row.enabled) if row is not None else False
    return cfg


def save_config(*, session: Session, actor, key: str, enabled: bool, config: dict) -> ChannelSetting:
    """Store a channel's non-secret settings (admin only), audited."""
    require(actor, Permission.MANAGE_SETTINGS)
    if key not in DEFAULTS:
        raise ChannelConfigError(f"no channel {key!r}")
    clean = {}
    for name, default in DEFAULTS[key].items():
        value = config.get(name, default)
        if isinstance(default, float):
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise ChannelConfigError(f"{name} must be a number") from None
            if not 0 < value <= 100:
                raise ChannelConfigError(f"{name} must be between 0 and 100")
        else:
            value = str(value or "").strip()
        clean[name] = value
    for name in ("base_url",):
        if name in clean and clean[name] and not clean[name].startswith(("http://", "https://")):
            raise ChannelConfigError("the base URL must start with http:// or https://")
    if key == "mailbox" and clean["catch_all_account"]:
        if session.scalar(select(Account.id).where(Account.key == clean["catch_all_account"])) is None:
            raise ChannelConfigError(f"no account {clean['catch_all_account']!r} for the catch-all")
    if key == "zendesk" and enabled and not clean["base_url"]:
        raise ChannelConfigError("Zendesk needs its base URL (https://<subdomain>.zendesk.com)")
    row = session.get(ChannelSetting, key)
    before = None
    if row is None:
        row = ChannelSetting(key=key)
        session.add(row)
    else:
        before = {"enabled": row.enabled, **(row.config or {})}
    row.enabled, row.config, row.updated_at = bool(enabled), clean, now_utc()
    row.updated_by = getattr(actor, "username", str(actor))
    session.flush()
    record(session=session, actor=actor, action="channel.settings", entity="channel", entity_id=key,
           details={"from": before, "to": {"enabled": bool(enabled), **clean}})
    return row


# ---------------------------------------------------------------- runs and cursors

@contextmanager
def channel_lock(key: str) -> Iterator[None]:
    """Hold the channel's PostgreSQL advisory lock on its own connection for a whole pass; ChannelBusy when
    another process holds it, so two passes never push the same change twice."""
    from core.db import get_engine

    params = {"c": LOCK_CLASS, "o": LOCK_IDS[key]}
    conn = get_engine().connect()
    try:
        locked = bool(conn.execute(text("SELECT pg_try_advisory_lock(:c, :o)"), params).scalar())
        conn.commit()
        if not locked:
            what = "mailbox poll" if key == "mailbox" else f"{key} sync"
            raise ChannelBusy(f"another {what} is running right now (the worker or the settings page); "
                              "this one did not start: try again when it has finished")
        try:
            yield
        finally:
            try:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:c, :o)"), params)
                conn.commit()
            except Exception:
                conn.invalidate()  # a connection that still holds the lock must not go back to the pool
    finally:
        conn.close()


def start_run(*, session: Session, provider: str) -> SyncRun:
    """Open a sync run record."""
    run = SyncRun(provider=provider, status=RunStatus.RUNNING, started_at=now_utc(), counts={})
    session.add(run)
    session.flush()
    return run


def finish_run(*, session: Session, run: SyncRun, counts: dict, error: str | None = None) -> SyncRun:
    """Close a sync run with its counts and, when it failed, the error."""
    run.finished_at = now_utc()
    run.counts = counts
    run.status = RunStatus.FAILED if error else RunStatus.OK
    run.error = error[:MAX_ERROR] if error else None
    session.flush()
    return run


def recent_runs(*, session: Session, provider: str | None = None, limit: int = 20) -> list[SyncRun]:
    """The latest runs, newest first."""
    q = select(SyncRun).order_by(SyncRun.started_at.desc(), SyncRun.id.desc()).limit(limit)
    if provider:
        q = q.where(SyncRun.provider == provider)
    return list(session.scalars(q))


def consecutive_failures(*, session: Session, provider: str) -> tuple[int, datetime | None]:
    """How many of the provider's latest runs failed in a row, and when the last one started."""
    runs = recent_runs(session=session, provider=provider, limit=10)
    n = 0
    for run in runs:
        if run.status != RunStatus.FAILED:
            break
        n += 1
    return n, (runs[0].started_at if runs else None)


def get_cursor(*, session: Session, provider: str, direction: str) -> str | None:
    """The stored cursor, or None before the first pass."""
    row = session.get(SyncCursor, (provider, direction))
    return row.cursor if row else None


def set_cursor(*, session: Session, provider: str, direction: str, cursor: str | None) -> None:
    """Store where the next pass picks up."""
    row = session.get(SyncCursor, (provider, direction))
    if row is None:
        row = SyncCursor(provider=provider, direction=direction)
        session.add(row)
    row.cursor, row.updated_at = cursor, now_utc()
    session.flush()


HELD = "hld"  # the cursor row listing remote tickets held for retry


def held(*, session: Session, provider: str) -> dict[str, str]:
    """Remote tickets a pass could not import yet (remote id -> why); every pass tries them again."""
    return json.loads(get_cursor(session=session, provider=provider, direction=HELD) or "{}")


def hold(*, session: Session, provider: str, remote_id, reason: str | None) -> None:
    """Keep a remote ticket for the next pass (reason given) or release it (reason None)."""
    rows = held(session=session, provider=provider)
    if reason is None and str(remote_id) not in rows:
        return
    if reason is None:
        rows.pop(str(remote_id))
    else:
        rows[str(remote_id)] = reason
    set_cursor(session=session, provider=provider, direction=HELD, cursor=json.dumps(rows, sort_keys=True))


# ---------------------------------------------------------------- links

def local_id(*, session: Session, provider: str, kind: LinkKind, remote_id) -> int | None:
    """The Aftercare id linked to a provider id."""
    return session.scalar(select(ProviderLink.local_id).where(
        ProviderLink.provider == provider, ProviderLink.kind == kind, ProviderLink.remote_id == str(remote_id)))


def remote_id(*, session: Session, provider: str, kind: LinkKind, local_id: int) -> str | None:
    """The provider id linked to an Aftercare id (the newest link)."""
    return session.scalar(select(ProviderLink.remote_id).where(
        ProviderLink.provider == provider, ProviderLink.kind == kind, ProviderLink.local_id == local_id)
        .order_by(ProviderLink.id.desc()).limit(1))


def link(*, session: Session, provider: str, kind: LinkKind, local_id: int, remote_id, data: dict | None = None) -> ProviderLink:
    """Pair an Aftercare id with a provider id (idempotent on the provider id)."""
    row = session.scalar(select(ProviderLink).where(
        ProviderLink.provider == provider, ProviderLink.kind == kind, ProviderLink.remote_id == str(remote_id)))
    if row is None:
        row = ProviderLink(provider=provider, kind=kind, remote_id=str(remote_id), local_id=local_id)
        session.add(row)
    row.local_id, row.data, row.updated_at = local_id, data or row.data or {}, now_utc()
    session.flush()
    return row


def link_counts(*, session: Session) -> dict[str, dict[str, int]]:
    """Links per provider and kind."""
    out: dict[str, dict[str, int]] = {}
    for provider, kind, n in session.execute(select(ProviderLink.provider, ProviderLink.kind, func.count())
                                             .group_by(ProviderLink.provider, ProviderLink.kind)):
        out.setdefault(provider, {})[kind] = n
    return out


# ---------------------------------------------------------------- senders

@dataclass
class Sender:
    """Who wrote: the account a ticket goes under (None when unknown) and how we decided."""

    email: str
    account_key: str | None
    contact: Contact | None
    how: str

    @property
    def unknown(self) -> bool:
        """Filed under the shared intake account because nobody knew the sender."""
        return self.how in ("catch-all account", "unassigned senders")


def intake_keys(*, session: Session) -> set[str]:
    """The accounts that collect senders nobody knew: Unassigned senders and the configured catch-all."""
    catch_all = get_config(session=session, key="mailbox").get("catch_all_account") or ""
    return {INTAKE_ACCOUNT_KEY} | ({catch_all} if catch_all else set())


def intake_account(*, session: Session) -> Account:
    """The configured catch-all account, else "Unassigned senders" (created on first use, race-free)."""
    from sqlalchemy.dialects.postgresql import insert

    catch_all = get_config(session=session, key="mailbox").get("catch_all_account") or ""
    if catch_all:
        account = session.scalar(select(Account).where(Account.key == catch_all))
        if account is not None:
            return account
        # The configured account is gone: fall through rather than lose the message.
    session.execute(insert(Account).values(key=INTAKE_ACCOUNT_KEY, name=INTAKE_ACCOUNT_NAME, plan=Plan.FREE,
                                           started_at=now_utc()).on_conflict_do_nothing(index_elements=["key"]))
    return session.scalar(select(Account).where(Account.key == INTAKE_ACCOUNT_KEY))


def resolve_sender(*, session: Session, email: str, file_unknown: bool = False) -> Sender:
    """A known contact's account; else the account whose contacts share the sender's company domain (never an
    intake account); else, with file_unknown, the intake account (see intake_account); else unknown."""
    email = (email or "").strip().lower()
    contact = session.scalar(select(Contact).where(func.lower(Contact.email) == email))
    if contact is not None:
        account = session.get(Account, contact.account_id)
        return Sender(email, account.key, contact, "known contact")
    domain = email.rsplit("@", 1)[-1] if "@" in email else ""
    if domain and domain not in PUBLIC_DOMAINS:
        row = session.execute(
            select(Account.key, func.count(Contact.id).label("n")).join(Contact, Contact.account_id == Account.id)
            .where(func.lower(Contact.email).like("%@" + domain.replace("%", "").replace("_", r"\_")),
                   Account.key.not_in(intake_keys(session=session)))
            .group_by(Account.key).order_by(func.count(Contact.id).desc(), Account.key).limit(1)).first()
        if row is not None:
            return Sender(email, row[0], None, f"company domain {domain}")
    if file_unknown:
        account = intake_account(session=session)
        how = "unassigned senders" if account.key == INTAKE_ACCOUNT_KEY else "catch-all account"
        return Sender(email, account.key, None, how)
    return Sender(email, None, None, "unknown sender")


def file_contact(*, session: Session, sender: Sender, name: str | None = None) -> Contact:
    """The sender's contact, created under the account the sender was filed under (with the name the mail or the
    provider gave, else one made from the address); race-free against a parallel pass."""
    from sqlalchemy.dialects.postgresql import insert

    if sender.contact is not None:
        return sender.contact
    account_id = session.scalar(select(Account.id).where(Account.key == sender.account_key))
    name = (name or "").strip() or sender.email.split("@")[0].replace(".", " ").title()
    session.execute(insert(Contact).values(account_id=account_id, email=sender.email, name=name[:120])
                    .on_conflict_do_nothing(index_elements=["email"]))
    sender.contact = session.scalar(select(Contact).where(Contact.email == sender.email))
    return sender.contact


def may_use_reference(*, session: Session, email: str, ticket) -> bool:
    """Whether a sender quoting a ticket's [AC-n] may add to it: a contact of the ticket's own account, and in an
    intake account (shared by strangers) only the ticket's own requester."""
    sender = resolve_sender(session=session, email=email)
    account = session.get(Account, ticket.account_id)
    if account is None or sender.account_key != account.key:
        return False
    if account.key in intake_keys(session=session):
        return sender.contact is not None and sender.contact.id == ticket.requester_id
    return True


def authorize_run(*, session: Session, actor, key: str) -> None:
    """Check and audit a person starting a mailbox pass or a sync from the settings page."""
    require(actor, Permission.MANAGE_SETTINGS)
    if key not in DEFAULTS:
        raise ChannelConfigError(f"no channel {key!r}")
    record(session=session, actor=actor, action="channel.run", entity="channel", entity_id=key)


def status_overview(*, session: Session) -> dict:
    """Per channel: its settings, whether its secret is set, the last run and the last failure."""
    from core.config import get_settings

    settings = get_settings()
    secrets = {"mailbox": settings.imap_url, "zendesk": settings.zendesk_api_token, "front": settings.front_api_token}
    out = {}
    for key in DEFAULTS:
        runs = recent_runs(session=session, provider=key, limit=1)
        failed = session.scalar(select(SyncRun).where(SyncRun.provider == key, SyncRun.status == RunStatus.FAILED)
                                .order_by(SyncRun.started_at.desc()).limit(1))
        out[key] = {"config": get_config(session=session, key=key), "secret_set": bool(secrets[key]),
                    "last": _run_dict(runs[0]) if runs else None, "last_failure": _run_dict(failed) if failed else None}
    return out


def _run_dict(run: SyncRun) -> dict:
    return {"id": run.id, "provider": run.provider, "started_at": run.started_at, "finished_at": run.finished_at,
            "status": run.status, "counts": run.counts or {}, "error": run.error}
