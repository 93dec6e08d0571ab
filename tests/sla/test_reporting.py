"""Compliance and business-time percentiles, aggregated in SQL, against hand-computed values."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from core.sla import reporting
from core.sla.service import refresh_many


def test_compliance_and_percentiles_by_priority(session, make_ticket):
    # Three high tickets created Wed 18 Nov 09:00 Madrid, replied after 30, 45 and 180 business minutes
    # (target 60): two met, one breached.
    made = []
    for minutes in (30, 45, 180):
        t = make_ticket("2026-11-18T08:00:00Z", "high",
                        events=[((datetime(2026, 11, 18, 8, 0, tzinfo=timezone.utc) + timedelta(minutes=minutes))
                                 .isoformat(), "public_reply", None)])
        made.append(t.id)
    refresh_many(session=session, ticket_ids=made, now=datetime(2026, 11, 18, 16, 0, tzinfo=timezone.utc))
    session.commit()
    rows = {r["key"]: r for r in reporting.compliance(session=session, by="priority", days=3650)}
    high = rows["high"]
    assert (high["fr_met"], high["fr_breached"]) == (2, 1)
    assert abs(high["fr_compliance"] - 2 / 3) < 1e-9
    perc = {r["key"]: r for r in reporting.percentiles(session=session, by="priority", days=3650)}
    assert perc["high"]["fr_median"] == 45.0
    assert abs(perc["high"]["fr_p90"] - (45 + 0.8 * (180 - 45))) < 1e-9  # linear interpolation
    dist = {d["bucket"]: d["tickets"] for d in reporting.distribution(session=session, target="first_response",
                                                                      days=3650)}
    assert dist["15-30 min"] == 0 and dist["30-60 min"] == 2 and dist["2-4 h"] == 1
    weeks = reporting.compliance(session=session, by="week", days=3650, tz="Europe/Madrid")
    assert [w["key"] for w in weeks] == ["2026-11-16"]
