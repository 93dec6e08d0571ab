"""Fixtures for ticket tests: teams, agents, an account with contacts, a customer login."""

from datetime import datetime, timezone

import pytest

from core.accounts.models import Account, Contact
from core.auth.models import Team


@pytest.fixture
def org(session, make_user):
    """Four teams, agents in tech and support, a lead, two accounts each with a customer login."""
    for key in ("tech", "support", "product", "billing"):
        session.add(Team(key=key, name=key.title()))
    session.flush()
    acme = Account(key="acme", name="Acme", plan="pro", mrr=499, started_at=datetime(2025, 1, 1, tzinfo=timezone.utc))
    globex = Account(key="globex", name="Globex", plan="enterprise", mrr=2500,
                     started_at=datetime(2025, 1, 1, tzinfo=timezone.utc))
    session.add_all([acme, globex])
    session.flush()
    ann = Contact(account_id=acme.id, email="ann@acme.example", name="Ann Acme")
    gus = Contact(account_id=globex.id, email="gus@globex.example", name="Gus Globex")
    session.add_all([ann, gus])
    session.commit()
    users = {
        "lead": make_user("support_lead", username="lead", team="support"),
        "t1": make_user("agent", username="t1", team="tech"),
        "t2": make_user("agent", username="t2", team="tech"),
        "s1": make_user("agent", username="s1", team="support"),
        "ops": make_user("ops", username="opsy"),
        "ann": make_user("customer", username="ann", contact_id=ann.id),
        "gus": make_user("customer", username="gus", contact_id=gus.id),
    }
    return {"acme": acme, "globex": globex, "ann": ann, "gus": gus, **users}
