"""Fixtures for the loop tests: accounts, contacts, portal logins and tickets on the test database."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from core.accounts.models import Account, Contact
from core.tickets.models import Ticket


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def account(session):
    acc = Account(key="acme", name="Acme Corp", plan="pro", mrr=100, started_at=utc(2025, 1, 1))
    session.add(acc)
    session.flush()
    return acc


@pytest.fixture
def make_contact(session, account):
    counter = {"n": 0}

    def _make(name: str | None = None, language: str = "en") -> Contact:
        counter["n"] += 1
        c = Contact(account_id=account.id, email=f"c{counter['n']}@acme.example", name=name or f"Contact {counter['n']}",
                    language=language)
        session.add(c)
        session.flush()
        return c

    return _make


@pytest.fixture
def make_ticket(session, account):
    def _make(requester: Contact | None, *, category: str = "bug", status: str = "open",
              subject: str = "Export crashes", created_at: datetime | None = None) -> Ticket:
        t = Ticket(account_id=account.id, requester_id=requester.id if requester else None, subject=subject,
                   description="details", channel="portal", status=status, priority="medium", category=category,
                   category_source="human", created_at=created_at or datetime.now(timezone.utc))
        session.add(t)
        session.flush()
        return t

    return _make
