"""SLA clocks: first-response and resolution targets computed from a ticket's events (pure functions).

The contract (docs/sla.md):
- both clocks start when the ticket is created;
- with business hours only open calendar time counts (in the calendar's zone); otherwise every minute;
- first response stops at the first public agent reply and never pauses;
- resolution stops when the ticket becomes solved (or closed), pauses while it is pending, and resumes
  from where it stood when it is reopened or leaves pending (a customer reply on a pending ticket
  resumes it); on_hold does not pause it;
- breached: counted time exceeds the target before the clock stops, or by `now` while it still runs;
- due_at: the instant the counted time reaches the target if the clock runs on from `now` (in the past
  when already breached); none while paused or stopped; remaining = target - counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.sla.calendar import ZERO, Calendar, add_business_time, business_time
from core.tickets.enums import TicketStatus


class ClockError(ValueError):
    """Events that cannot describe a ticket (out of order, before creation, unknown kinds)."""


class EventType(StrEnum):
    CREATED = "created"
    AGENT_REPLY = "agent_reply"
    CUSTOMER_REPLY = "customer_reply"
    STATUS = "status"


class Target(StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


STOPPED_STATUSES = {TicketStatus.SOLVED, TicketStatus.CLOSED}


@dataclass(frozen=True)
class Event:
    at: datetime
    type: EventType
    status: TicketStatus | None = None


@dataclass(frozen=True)
class Policy:
    first_response_minutes: float
    resolution_minutes: float
    business_hours: bool = True
    warn_before_minutes: float = 0


@dataclass(frozen=True)
class ClockResult:
    target_minutes: float
    elapsed: timedelta
    due_at: datetime | None
    stopped_at: datetime | None
    paused: bool
    breached: bool
    warn_at: datetime | None = None  # when the warn-before window opens (running clocks only)

    @property
    def elapsed_minutes(self) -> float:
        return self.elapsed.total_seconds() / 60

    @property
    def remaining_minutes(self) -> float:
        return self.target_minutes - self.elapsed_minutes

    @property
    def running(self) -> bool:
        return self.stopped_at is None and not self.paused


@dataclass(frozen=True)
class SlaResult:
    first_response: ClockResult
    resolution: ClockResult


def _segments_first_response(events: list[Event], now: datetime) -> tuple[list[tuple[datetime, datetime | None]], datetime | None]:
    created = events[0].at
    for ev in events:
        if ev.type is EventType.AGENT_REPLY:
            return [(created, ev.at)], ev.at
    return [(created, None)], None


def _segments_resolution(events: list[Event]) -> tuple[list[tuple[datetime, datetime | None]], datetime | None, bool]:
    """Running segments (last one open-ended when running), the stop instant, and whether paused."""
    status = TicketStatus.NEW
    segments: list[tuple[datetime, datetime | None]] = []
    run_start: datetime | None = events[0].at
    stopped_at: datetime | None = None
    for ev in events[1:]:
        new = status
        if ev.type is EventType.STATUS:
            new = ev.status
        elif ev.type is EventType.CUSTOMER_REPLY and status is TicketStatus.PENDING:
            new = TicketStatus.OPEN  # the customer answered: no longer waiting on them
        if new == status:
            continue
        was_running = status not in STOPPED_STATUSES and status is not TicketStatus.PENDING
        runs = new not in STOPPED_STATUSES and new is not TicketStatus.PENDING
        if was_running and not runs:
            segments.append((run_start, ev.at))
            run_start = None
        elif runs and not was_running:
            run_start = ev.at
        if new in STOPPED_STATUSES:
            if status not in STOPPED_STATUSES:
                stopped_at = ev.at
        else:
            stopped_at = None
        status = new
    if run_start is not None:
        segments.append((run_start, None))
    return segments, stopped_at, status is TicketStatus.PENDING


def _clock(cal: Calendar | None, segments, now: datetime, target_minutes: float, warn_minutes: float,
           stopped_at: datetime | None, paused: bool) -> ClockResult:
    target = timedelta(minutes=target_minutes)
    elapsed = ZERO
    for s, e in segments:
        elapsed += business_time(cal, s, min(e, now) if e is not None else now)
    running = stopped_at is None and not paused
    due_at = warn_at = None
    if running:
        due_at = _crossing(cal, segments, target)
        if warn_minutes > 0 and warn_minutes < target_minutes:
            warn_at = _crossing(cal, segments, target - timedelta(minutes=warn_minutes))
        elif warn_minutes >= target_minutes:
            warn_at = segments[0][0]
        else:
            warn_at = due_at
    return ClockResult(target_minutes, elapsed, due_at, stopped_at, paused and stopped_at is None,
                       elapsed > target, warn_at)


def _crossing(cal: Calendar | None, segments, amount: timedelta) -> datetime:
    """The instant the counted time reaches amount, the last (open-ended) segment running on forever."""
    left = amount
    for s, e in segments:
        if e is None:
            return add_business_time(cal, s, left)
        span = business_time(cal, s, e)
        if left <= span:
            return add_business_time(cal, s, left)
        left -= span
    raise AssertionError("a running clock has an open-ended segment")


def validate_events(events: list[Event], now: datetime) -> list[Event]:
    """Check ordering and creation; return the events (a ClockError says what is wrong)."""
    if not events:
        raise ClockError("no events: a ticket needs a 'created' event")
    if events[0].type is not EventType.CREATED:
        what = "a status change" if events[0].type is EventType.STATUS else f"a {events[0].type.value} event"
        raise ClockError(f"{what} at {_iso(events[0].at)} comes before the ticket was created")
    for prev, ev in zip(events, events[1:]):
        if ev.at < prev.at:
            raise ClockError(f"events out of order: {ev.type.value} at {_iso(ev.at)} comes after {prev.type.value} at {_iso(prev.at)}")
        if ev.type is EventType.CREATED:
            raise ClockError(f"a second 'created' event at {_iso(ev.at)}")
    if now < events[0].at:
        raise ClockError(f"now ({_iso(now)}) is before the ticket was created ({_iso(events[0].at)})")
    return events


def compute(*, policy: Policy, calendar: Calendar | None, events: list[Event], now: datetime) -> SlaResult:
    """Both clocks of a ticket at `now`. Events after `now` are ignored (they have not happened yet)."""
    validate_events(events, now)
    events = [e for e in events if e.at <= now]
    cal = calendar if policy.business_hours else None
    fr_segments, fr_stop = _segments_first_response(events, now)
    fr = _clock(cal, fr_segments, now, policy.first_response_minutes, policy.warn_before_minutes, fr_stop, False)
    res_segments, res_stop, paused = _segments_resolution(events)
    res = _clock(cal, res_segments, now, policy.resolution_minutes, policy.warn_before_minutes, res_stop, paused)
    return SlaResult(fr, res)


def _iso(dt: datetime | None) -> str | None:
    """UTC ISO-8601 with a Z (seconds; fractions only when present)."""
    if dt is None:
        return None
    from datetime import timezone

    dt = dt.astimezone(timezone.utc)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if dt.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return dt.strftime(fmt)


def iso(dt: datetime | None) -> str | None:
    """Public alias: an instant as UTC ISO-8601 with Z."""
    return _iso(dt)


def _minutes(td_minutes: float) -> float:
    return round(td_minutes, 3) + 0.0


def result_to_dict(result: SlaResult) -> dict:
    """The `sla compute` output shape (without the id)."""
    fr, res = result.first_response, result.resolution
    return {
        "first_response": {
            "elapsed_minutes": _minutes(fr.elapsed_minutes),
            "due_at": _iso(fr.due_at),
            "stopped_at": _iso(fr.stopped_at),
            "breached": fr.breached,
        },
        "resolution": {
            "elapsed_minutes": _minutes(res.elapsed_minutes),
            "due_at": _iso(res.due_at),
            "paused": res.paused,
            "remaining_minutes": _minutes(res.remaining_minutes),
            "stopped_at": _iso(res.stopped_at),
            "breached": res.breached,
        },
    }
