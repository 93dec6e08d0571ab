"""Clock semantics with hand-computed expected values (Europe/Madrid: CET = UTC+1, CEST = UTC+2)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.sla.calendar import CalendarError, add_business_time, business_time, parse_calendar
from core.sla.scenario import answer

WEEKDAYS = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
LUNCH = {d: [["09:00", "14:00"], ["15:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
ALWAYS = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
MADRID = {"timezone": "Europe/Madrid", "hours": WEEKDAYS, "holidays": ["2026-12-25"]}


def run(events, now, fr=120, res=1440, business_hours=True, calendar=MADRID):
    ev = []
    for e in events:
        at, kind, *rest = e
        item = {"at": at, "type": kind}
        if rest:
            item["status"] = rest[0]
        ev.append(item)
    out = answer({"id": "t", "policy": {"first_response_minutes": fr, "resolution_minutes": res,
                                        "business_hours": business_hours},
                  "calendar": calendar, "events": ev, "now": now})
    assert "error" not in out, out
    return out["first_response"], out["resolution"]


def utc(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def test_created_before_opening_counts_from_opening():
    # Fri 20 Nov 08:00 local (07:00Z); opens 09:00; reply 09:30 local -> 30 business minutes.
    fr, res = run([("2026-11-20T07:00:00Z", "created"), ("2026-11-20T08:30:00Z", "agent_reply")],
                  now="2026-11-20T09:00:00Z")
    assert fr == {"elapsed_minutes": 30.0, "due_at": None, "stopped_at": "2026-11-20T08:30:00Z", "breached": False}
    # resolution: 09:00-10:00 local = 60 minutes, still running.
    assert res["elapsed_minutes"] == 60.0 and res["remaining_minutes"] == 1380.0 and res["paused"] is False


def test_weekend_is_closed():
    # Fri 17:30 local (16:30Z): 30 min Friday; weekend closed; Mon 09:00-10:00 local -> 90 min.
    fr, _ = run([("2026-11-20T16:30:00Z", "created")], now="2026-11-23T09:00:00Z")
    assert fr["elapsed_minutes"] == 90.0
    assert fr["due_at"] == "2026-11-23T09:30:00Z"  # Mon 10:30 local
    assert fr["breached"] is False and fr["stopped_at"] is None


def test_created_on_saturday_starts_monday():
    fr, _ = run([("2026-11-21T10:00:00Z", "created")], now="2026-11-22T20:00:00Z")
    assert fr["elapsed_minutes"] == 0.0
    assert fr["due_at"] == "2026-11-23T10:00:00Z"  # Mon 09:00 local + 2 h = 11:00 local


def test_holiday_is_closed():
    # Thu 24 Dec 17:00 local (16:00Z): 60 min Thursday; Fri 25 Dec holiday; weekend; Mon 28 09:00-10:00 local.
    fr, _ = run([("2026-12-24T16:00:00Z", "created")], now="2026-12-24T16:30:00Z")
    assert fr["elapsed_minutes"] == 30.0
    assert fr["due_at"] == "2026-12-28T09:00:00Z"
    fr, _ = run([("2026-12-24T16:00:00Z", "created")], now="2026-12-25T12:00:00Z")
    assert fr["elapsed_minutes"] == 60.0 and fr["breached"] is False


def test_lunch_break_does_not_count():
    cal = {"timezone": "Europe/Madrid", "hours": LUNCH}
    # Mon 23 Nov 13:00 local (12:00Z): 13-14 = 60, lunch, 15-16 = 60 -> due 16:00 local = 15:00Z.
    fr, _ = run([("2026-11-23T12:00:00Z", "created")], now="2026-11-23T12:00:00Z", calendar=cal)
    assert fr["elapsed_minutes"] == 0.0 and fr["due_at"] == "2026-11-23T15:00:00Z"
    fr, _ = run([("2026-11-23T12:00:00Z", "created")], now="2026-11-23T14:30:00Z", calendar=cal)  # 15:30 local
    assert fr["elapsed_minutes"] == 90.0


def test_spring_forward():
    # Sun 29 Mar 2026 clocks go 02:00 CET -> 03:00 CEST. Fri 27 Mar 17:00 CET (16:00Z): 60 min Friday,
    # Mon 30 Mar 09:00 CEST = 07:00Z, +60 -> 08:00Z.
    fr, _ = run([("2026-03-27T16:00:00Z", "created")], now="2026-03-30T07:30:00Z")
    assert fr["elapsed_minutes"] == 90.0
    assert fr["due_at"] == "2026-03-30T08:00:00Z"
    # A 24x7 calendar: Sunday 29 Mar has 23 hours; from local midnight to the next: 1380 minutes.
    cal = {"timezone": "Europe/Madrid", "hours": ALWAYS}
    fr, _ = run([("2026-03-28T23:00:00Z", "created")], now="2026-03-29T22:00:00Z", fr=2000, res=3000, calendar=cal)
    assert fr["elapsed_minutes"] == 1380.0


def test_fall_back():
    # Sun 25 Oct 2026 clocks go 03:00 CEST -> 02:00 CET. Fri 23 Oct 17:00 CEST (15:00Z): 60 min Friday,
    # Mon 26 Oct 09:00 CET = 08:00Z, +60 -> 09:00Z.
    fr, _ = run([("2026-10-23T15:00:00Z", "created")], now="2026-10-26T08:30:00Z")
    assert fr["elapsed_minutes"] == 90.0
    assert fr["due_at"] == "2026-10-26T09:00:00Z"
    cal = {"timezone": "Europe/Madrid", "hours": ALWAYS}
    # Sunday 25 Oct has 25 hours: local midnight (24 Oct 22:00Z) to the next (25 Oct 23:00Z).
    fr, _ = run([("2026-10-24T22:00:00Z", "created")], now="2026-10-25T23:00:00Z", fr=2000, res=3000, calendar=cal)
    assert fr["elapsed_minutes"] == 1500.0


def test_pause_spanning_a_night():
    # Mon 23 Nov 09:00 local (08:00Z) created; pending at 17:00 local (16:00Z): 480 min counted.
    created = ("2026-11-23T08:00:00Z", "created")
    pending = ("2026-11-23T16:00:00Z", "status", "pending")
    fr, res = run([created, ("2026-11-23T08:30:00Z", "agent_reply"), pending], now="2026-11-24T08:30:00Z")
    assert res == {"elapsed_minutes": 480.0, "due_at": None, "paused": True, "remaining_minutes": 960.0,
                   "stopped_at": None, "breached": False}
    assert fr["elapsed_minutes"] == 30.0 and fr["stopped_at"] == "2026-11-23T08:30:00Z"
    # The customer answers Tue 10:00 local (09:00Z): Tue 09:00-10:00 local was paused; 10:00-11:00 counts.
    _, res = run([created, pending, ("2026-11-24T09:00:00Z", "customer_reply")], now="2026-11-24T10:00:00Z")
    assert res["elapsed_minutes"] == 540.0 and res["paused"] is False
    # 900 min left: Tue 11:00-18:00 local (420), Wed 09:00 local + 480 -> 17:00 local = 16:00Z.
    assert res["due_at"] == "2026-11-25T16:00:00Z"
    # Leaving pending by a status change resumes the same way.
    _, res2 = run([created, pending, ("2026-11-24T09:00:00Z", "status", "open")], now="2026-11-24T10:00:00Z")
    assert res2 == res


def test_on_hold_does_not_pause():
    _, res = run([("2026-11-23T08:00:00Z", "created"), ("2026-11-23T09:00:00Z", "status", "on_hold")],
                 now="2026-11-23T11:00:00Z")
    assert res["elapsed_minutes"] == 180.0 and res["paused"] is False and res["due_at"] is not None


def test_reopen_after_solve_resumes_from_where_it_stood():
    created = ("2026-11-23T08:00:00Z", "created")  # Mon 09:00 local
    solved = ("2026-11-23T10:00:00Z", "status", "solved")  # 11:00 local: 120 min
    _, res = run([created, solved], now="2026-11-24T12:00:00Z", res=480)
    assert res == {"elapsed_minutes": 120.0, "due_at": None, "paused": False, "remaining_minutes": 360.0,
                   "stopped_at": "2026-11-23T10:00:00Z", "breached": False}
    reopen = ("2026-11-24T08:00:00Z", "status", "open")  # Tue 09:00 local
    _, res = run([created, solved, reopen], now="2026-11-24T09:30:00Z", res=480)
    # 120 + 90 = 210; 270 left from Tue 10:30 local -> 15:00 local = 14:00Z.
    assert res["elapsed_minutes"] == 210.0 and res["stopped_at"] is None
    assert res["due_at"] == "2026-11-24T14:00:00Z" and res["remaining_minutes"] == 270.0
    # Solved again later: stopped at the second solve, breached because 480 was exceeded first.
    _, res = run([created, solved, reopen, ("2026-11-24T16:00:00Z", "status", "solved")],
                 now="2026-11-25T10:00:00Z", res=480)
    assert res["stopped_at"] == "2026-11-24T16:00:00Z" and res["elapsed_minutes"] == 600.0 and res["breached"] is True


def test_first_reply_exactly_at_target_is_met():
    created = ("2026-11-23T08:00:00Z", "created")
    fr, _ = run([created, ("2026-11-23T10:00:00Z", "agent_reply")], now="2026-11-23T12:00:00Z")
    assert fr == {"elapsed_minutes": 120.0, "due_at": None, "stopped_at": "2026-11-23T10:00:00Z", "breached": False}
    fr, _ = run([created, ("2026-11-23T10:00:01Z", "agent_reply")], now="2026-11-23T12:00:00Z")
    assert fr["breached"] is True
    # While running, exactly at the target is not yet breached; a second later it is.
    fr, _ = run([created], now="2026-11-23T10:00:00Z")
    assert fr["breached"] is False and fr["due_at"] == "2026-11-23T10:00:00Z"
    fr, _ = run([created], now="2026-11-23T10:00:01Z")
    assert fr["breached"] is True and fr["due_at"] == "2026-11-23T10:00:00Z"


def test_first_response_never_pauses():
    fr, _ = run([("2026-11-23T08:00:00Z", "created"), ("2026-11-23T08:10:00Z", "status", "pending")],
                now="2026-11-23T09:00:00Z")
    assert fr["elapsed_minutes"] == 60.0 and fr["due_at"] == "2026-11-23T10:00:00Z"


def test_24x7_policy_counts_every_minute():
    # Saturday, no calendar needed; breached first response has its due time in the past.
    fr, res = run([("2026-11-21T10:00:00Z", "created")], now="2026-11-21T12:30:00Z", fr=60, res=480,
                  business_hours=False, calendar=None)
    assert fr == {"elapsed_minutes": 150.0, "due_at": "2026-11-21T11:00:00Z", "stopped_at": None, "breached": True}
    assert res["elapsed_minutes"] == 150.0 and res["due_at"] == "2026-11-21T18:00:00Z"
    # Across the fall-back night a 24x7 policy counts real elapsed time (UTC), 25 local hours = 1500 min.
    _, res = run([("2026-10-24T22:00:00Z", "created")], now="2026-10-25T23:00:00Z", res=3000,
                 business_hours=False, calendar=None)
    assert res["elapsed_minutes"] == 1500.0
    # Pauses still apply under 24x7.
    _, res = run([("2026-11-21T10:00:00Z", "created"), ("2026-11-21T11:00:00Z", "status", "pending"),
                  ("2026-11-22T11:00:00Z", "customer_reply")], now="2026-11-22T12:00:00Z",
                 res=480, business_hours=False, calendar=None)
    assert res["elapsed_minutes"] == 120.0 and res["due_at"] == "2026-11-22T18:00:00Z"


def test_long_spans_walk_days_not_minutes():
    cal = parse_calendar(MADRID)
    start = utc("2026-01-01T00:00:00Z")
    total = business_time(cal, start, start + timedelta(days=3650))
    assert total > timedelta(hours=20000)
    assert add_business_time(cal, start, total) <= start + timedelta(days=3650)


@pytest.mark.parametrize("calendar, message", [
    ({"timezone": "Mars/Olympus", "hours": WEEKDAYS}, "unknown time zone"),
    ({"timezone": "Europe/Madrid", "hours": {"mon": [["09:00", "14:00"], ["13:00", "18:00"]]}}, "overlap"),
    ({"timezone": "Europe/Madrid", "hours": {"mon": [["18:00", "09:00"]]}}, "ends before it starts"),
    ({"timezone": "Europe/Madrid", "hours": {}}, "no open time"),
    ({"timezone": "Europe/Madrid", "hours": {"mon": []}}, "no open time"),
    ({"timezone": "Europe/Madrid", "hours": {"mon": [["9am", "18:00"]]}}, "not a time"),
])
def test_calendar_validation(calendar, message):
    with pytest.raises(CalendarError, match=message):
        parse_calendar(calendar)
    out = answer({"id": "x", "policy": {"first_response_minutes": 60, "resolution_minutes": 60},
                  "calendar": calendar, "events": [{"at": "2026-11-23T08:00:00Z", "type": "created"}],
                  "now": "2026-11-23T09:00:00Z"})
    assert out["id"] == "x" and message in out["error"]


def test_event_errors():
    base = {"id": "e", "policy": {"first_response_minutes": 60, "resolution_minutes": 60}, "calendar": MADRID,
            "now": "2026-11-23T12:00:00Z"}
    out = answer({**base, "events": [{"at": "2026-11-23T08:00:00Z", "type": "status", "status": "open"},
                                     {"at": "2026-11-23T09:00:00Z", "type": "created"}]})
    assert "before the ticket was created" in out["error"]
    out = answer({**base, "events": [{"at": "2026-11-23T08:00:00Z", "type": "created"},
                                     {"at": "2026-11-23T09:00:00Z", "type": "agent_reply"},
                                     {"at": "2026-11-23T08:30:00Z", "type": "status", "status": "pending"}]})
    assert "out of order" in out["error"]
    out = answer({**base, "events": [{"at": "2026-11-23T08:00:00Z", "type": "created"},
                                     {"at": "2026-11-23T09:00:00Z", "type": "status", "status": "lost"}]})
    assert "unknown status" in out["error"]
