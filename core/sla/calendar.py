"""Business-hours calendars: parsing, validation and business-time arithmetic (pure functions, no I/O).

A calendar is a time zone, open intervals per weekday (several a day, for lunch breaks), and holidays
(whole local days closed). All arithmetic walks local days and their intervals (never minute by
minute); local times are converted to UTC through zoneinfo for each day, so daylight-saving changes
are handled by the time zone database.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = timezone.utc
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ZERO = timedelta(0)
# Far enough for any sane target; a calendar whose holidays close every day of this span is refused.
MAX_SEARCH_DAYS = 366 * 5


class CalendarError(ValueError):
    """A calendar that cannot be used: the message says what to fix."""


@dataclass(frozen=True)
class Interval:
    """One open interval of a local day; end is minutes from midnight (1440 means 24:00)."""

    start: int
    end: int

    def label(self) -> str:
        return f"{_fmt_minutes(self.start)}-{_fmt_minutes(self.end)}"


@dataclass(frozen=True)
class Calendar:
    """A validated business calendar."""

    timezone: str
    hours: tuple[tuple[Interval, ...], ...]  # index 0 = Monday
    holidays: frozenset[date] = field(default_factory=frozenset)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def to_dict(self) -> dict:
        """The JSON shape (the same one `parse_calendar` reads)."""
        return {
            "timezone": self.timezone,
            "hours": {DAYS[i]: [[_fmt_minutes(iv.start), _fmt_minutes(iv.end)] for iv in ivs]
                      for i, ivs in enumerate(self.hours) if ivs},
            "holidays": sorted(d.isoformat() for d in self.holidays),
        }

    def open_minutes_per_week(self) -> int:
        return sum(iv.end - iv.start for ivs in self.hours for iv in ivs)


def _fmt_minutes(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


def _parse_hhmm(value, where: str) -> int:
    if not isinstance(value, str):
        raise CalendarError(f"{where}: time must be a string like \"09:00\", got {value!r}")
    try:
        hh, mm = value.strip().split(":")
        h, m = int(hh), int(mm)
    except ValueError:
        raise CalendarError(f"{where}: {value!r} is not a time like \"09:00\"") from None
    if not (0 <= m < 60 and (0 <= h < 24 or (h == 24 and m == 0))):
        raise CalendarError(f"{where}: {value!r} is not a time between 00:00 and 24:00")
    return h * 60 + m


def parse_calendar(data: Mapping) -> Calendar:
    """Validate the JSON shape {"timezone", "hours": {"mon": [["09:00","14:00"], ...]}, "holidays": [...]}."""
    if not isinstance(data, Mapping):
        raise CalendarError("calendar must be an object with timezone, hours and holidays")
    tzname = data.get("timezone")
    if not isinstance(tzname, str) or not tzname.strip():
        raise CalendarError("calendar timezone is missing")
    tzname = tzname.strip()
    try:
        ZoneInfo(tzname)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise CalendarError(f"unknown time zone {tzname!r}") from None
    hours = data.get("hours") or {}
    if not isinstance(hours, Mapping):
        raise CalendarError("calendar hours must map day names (mon..sun) to lists of [start, end] intervals")
    per_day: list[tuple[Interval, ...]] = []
    unknown = [k for k in hours if str(k).lower()[:3] not in DAYS or len(str(k)) < 3]
    if unknown:
        raise CalendarError(f"unknown day name(s) {', '.join(map(str, unknown))}: use mon, tue, wed, thu, fri, sat, sun")
    normalised = {str(k).lower()[:3]: v for k, v in hours.items()}
    for day in DAYS:
        raw = normalised.get(day) or []
        if not isinstance(raw, (list, tuple)):
            raise CalendarError(f"{day}: intervals must be a list of [start, end] pairs")
        ivs = []
        for pair in raw:
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise CalendarError(f"{day}: each interval must be a [start, end] pair, got {pair!r}")
            start = _parse_hhmm(pair[0], day)
            end = _parse_hhmm(pair[1], day)
            if end <= start:
                raise CalendarError(f"{day}: interval {pair[0]}-{pair[1]} ends before it starts")
            ivs.append(Interval(start, end))
        ivs.sort(key=lambda iv: iv.start)
        for a, b in zip(ivs, ivs[1:]):
            if b.start < a.end:
                raise CalendarError(f"{day}: intervals {a.label()} and {b.label()} overlap")
        per_day.append(tuple(ivs))
    if not any(per_day):
        raise CalendarError("the calendar has no open time: give at least one day an interval")
    holidays = set()
    raw_h = data.get("holidays") or []
    if not isinstance(raw_h, (list, tuple)):
        raise CalendarError("calendar holidays must be a list of dates like \"2026-12-25\"")
    for h in raw_h:
        try:
            holidays.add(date.fromisoformat(str(h).strip()))
        except ValueError:
            raise CalendarError(f"holiday {h!r} is not a date like \"2026-12-25\"") from None
    return Calendar(tzname, tuple(per_day), frozenset(holidays))


def _local_to_utc(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time on day (minutes may be 1440: the next midnight)."""
    if minutes >= 1440:
        day, minutes = day + timedelta(days=1), minutes - 1440
    local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)
    return local.astimezone(UTC)


@lru_cache(maxsize=8192)
def _day_intervals(cal: Calendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """One local day's open intervals in UTC (cached: the sweep computes many tickets on the same days)."""
    if day in cal.holidays:
        return ()
    zone = cal.zone
    out = []
    for iv in cal.hours[day.weekday()]:
        s = _local_to_utc(day, iv.start, zone)
        e = _local_to_utc(day, iv.end, zone)
        if e > s:  # an interval inside a spring-forward gap can collapse to nothing
            out.append((s, e))
    return tuple(out)


def open_intervals(cal: Calendar, start_day: date) -> Iterator[tuple[datetime, datetime]]:
    """Open intervals as UTC (start, end) pairs, from local day start_day onwards, in order (endless)."""
    day = start_day
    while True:
        yield from _day_intervals(cal, day)
        day += timedelta(days=1)


def _check_aware(*values: datetime) -> None:
    for v in values:
        if v.tzinfo is None:
            raise ValueError("instants must be timezone-aware")


def business_time(cal: Calendar | None, start: datetime, end: datetime) -> timedelta:
    """Open time between two instants (every minute counts when cal is None, i.e. 24x7)."""
    _check_aware(start, end)
    if end <= start:
        return ZERO
    if cal is None:
        return end - start
    total = ZERO
    # The previous local day too: an interval ending at 24:00 may still cover start.
    first_day = start.astimezone(cal.zone).date() - timedelta(days=1)
    for s, e in open_intervals(cal, first_day):
        if s >= end:
            break
        lo, hi = max(s, start), min(e, end)
        if hi > lo:
            total += hi - lo
    return total


def add_business_time(cal: Calendar | None, start: datetime, amount: timedelta) -> datetime:
    """The instant when `amount` of open time has passed since start (start itself when amount is 0)."""
    _check_aware(start)
    if amount <= ZERO:
        return start
    if cal is None:
        return start + amount
    left = amount
    first_day = start.astimezone(cal.zone).date() - timedelta(days=1)
    # Open time per week is known, so the answer lies within this span unless holidays close everything.
    weeks = amount / timedelta(minutes=max(cal.open_minutes_per_week(), 1))
    limit = start + timedelta(days=7 * (weeks + 2) + len(cal.holidays) + MAX_SEARCH_DAYS)
    for s, e in open_intervals(cal, first_day):
        if s > limit:
            break
        lo = max(s, start)
        if e <= lo:
            continue
        span = e - lo
        if left <= span:
            return lo + left
        left -= span
    raise CalendarError(f"the calendar has no open time within {MAX_SEARCH_DAYS} days")


def intervals_from_text(day: str, value: str) -> list[list[str]]:
    """'09:00-14:00, 15:00-18:00' -> [["09:00", "14:00"], ["15:00", "18:00"]] (blank: closed); for forms."""
    out = []
    for part in (value or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if "-" not in part:
            raise CalendarError(f"{day}: {part!r} is not an interval like 09:00-14:00")
        start, end = (p.strip() for p in part.split("-", 1))
        out.append([start, end])
    return out


def intervals_to_text(pairs) -> str:
    """The inverse of intervals_from_text."""
    return ", ".join(f"{s}-{e}" for s, e in (pairs or []))


def holidays_from_text(value: str) -> list[str]:
    """One date per line (or comma-separated) -> ISO strings; validated by parse_calendar."""
    return [p.strip() for p in (value or "").replace(",", "\n").splitlines() if p.strip()]
