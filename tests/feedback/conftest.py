"""Fixtures for the feedback tests: accounts, contacts, portal logins and tickets on the test database."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from core.accounts.models import Account, Contact
from core.tickets.models import Ticket


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def make_account(session):
    """Factory: make_account(key, plan='pro', mrr=100, started_at=..., owner=None) -> Account."""

    def _make(key: str, plan: str = "pro", mrr=100, started_at: datetime | None = None, owner=None,
              status: str = "active", cancelled_at: datetime | None = None) -> Account:
        acc = Account(key=key, name=key.title(), plan=plan, mrr=Decimal(str(mrr)), status=status,
                      started_at=started_at or utc(2025, 1, 1), cancelled_at=cancelled_at,
                      owner_user_id=getattr(owner, "id", None))
        session.add(acc)
        session.flush()
        return acc

    return _make


@pytest.fixture
def make_contact(session):
    counter = {"n": 0}

    def _make(account: Account, language: str = "en") -> Contact:
        counter["n"] += 1
        c = Contact(account_id=account.id, email=f"c{counter['n']}@{account.key}.example", name=f"Contact {counter['n']}",
                    language=language)
        session.add(c)
        session.flush()
        return c

    return _make


@pytest.fixture
def make_customer(session, make_user, make_contact):
    """Factory: make_customer(account) -> a portal User (role customer) linked to a new contact."""

    def _make(account: Account, language: str = "en"):
        contact = make_contact(account, language)
        session.commit()
        return make_user("customer", contact_id=contact.id)

    return _make


@pytest.fixture
def make_ticket(session):
    counter = {"n": 0}

    def _make(account: Account, *, category: str = "bug", status: str = "solved", created_at: datetime | None = None,
              solved_at: datetime | None = None, requester=None, subject: str = "Something broke") -> Ticket:
        counter["n"] += 1
        t = Ticket(account_id=account.id, requester_id=getattr(requester, "id", None), subject=subject,
                   description="details", channel="portal", status=status, priority="medium", category=category,
                   category_source="human", created_at=created_at or utc(2026, 1, 1), solved_at=solved_at,
                   external_id=f"T-{counter['n']}")
        session.add(t)
        session.flush()
        return t

    return _make
