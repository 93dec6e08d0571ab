"""Deterministic, realistic demo data: accounts, contacts, staff, teams and tickets, then each domain's seeder.

Domains extend the demo by listing a seeder in SEEDERS: "module:function", called as
function(session=..., rng=random.Random, now=datetime (UTC), days=int, tickets=int) after the base data,
in the same transaction.
"""
