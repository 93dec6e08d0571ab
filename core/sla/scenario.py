"""The `sla compute` JSONL contract: one scenario object in, one result object out (pure functions)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone

from core.sla.calendar import CalendarError, parse_calendar
from core.sla.clock import ClockError, Event, EventType, Policy, compute, result_to_dict
from core.tickets.enums import TicketStatus


class ScenarioError(ValueError):
    """A scenario line that cannot be answered."""


def parse_instant(value, where: str) -> datetime:
    """An ISO-8601 instant; a naive value is refused (the contract speaks UTC with Z)."""
    if not isinstance(value, str):
        raise ScenarioError(f"{where}: expected an ISO-8601 time like \"2026-11-20T08:30:00Z\", got {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ScenarioError(f"{where}: {value!r} is not an ISO-8601 time") from None
    if dt.tzinfo is None:
        raise ScenarioError(f"{where}: {value!r} has no time zone (use Z for UTC)")
    return dt.astimezone(timezone.utc)


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ScenarioError(f"{where} must be a positive number of minutes, got {value!r}")
    return float(value)


def parse_policy(data) -> Policy:
    if not isinstance(data, dict):
        raise ScenarioError("policy must be an object with first_response_minutes and resolution_minutes")
    bh = data.get("business_hours", True)
    if not isinstance(bh, bool):
        raise ScenarioError(f"policy.business_hours must be true or false, got {bh!r}")
    warn = data.get("warn_before_minutes", 0) or 0
    if isinstance(warn, bool) or not isinstance(warn, (int, float)) or warn < 0:
        raise ScenarioError(f"policy.warn_before_minutes must be a number of minutes >= 0, got {warn!r}")
    return Policy(_number(data.get("first_response_minutes"), "policy.first_response_minutes"),
                  _number(data.get("resolution_minutes"), "policy.resolution_minutes"), bh, float(warn))


def parse_events(raw) -> list[Event]:
    if not isinstance(raw, list):
        raise ScenarioError("events must be a list")
    events = []
    for i, ev in enumerate(raw):
        where = f"events[{i}]"
        if not isinstance(ev, dict):
            raise ScenarioError(f"{where} must be an object with at and type")
        try:
            kind = EventType(ev.get("type"))
        except ValueError:
            raise ScenarioError(f"{where}: unknown type {ev.get('type')!r} (created, agent_reply, customer_reply, status)") from None
        status = None
        if kind is EventType.STATUS:
            try:
                status = TicketStatus(ev.get("status"))
            except ValueError:
                allowed = ", ".join(s.value for s in TicketStatus)
                raise ScenarioError(f"{where}: unknown status {ev.get('status')!r} ({allowed})") from None
        events.append(Event(parse_instant(ev.get("at"), f"{where}.at"), kind, status))
    return events


def answer(obj) -> dict:
    """The result object for one parsed scenario, or {"id", "error"} when it cannot be computed."""
    sid = obj.get("id") if isinstance(obj, dict) else None
    try:
        if not isinstance(obj, dict):
            raise ScenarioError("each line must be a JSON object")
        policy = parse_policy(obj.get("policy"))
        calendar = None
        if policy.business_hours:
            if obj.get("calendar") is None:
                raise ScenarioError("a business-hours policy needs a calendar")
            calendar = parse_calendar(obj["calendar"])
        elif obj.get("calendar") is not None:
            parse_calendar(obj["calendar"])  # still refuse a broken calendar
        events = parse_events(obj.get("events"))
        now = parse_instant(obj.get("now"), "now")
        result = compute(policy=policy, calendar=calendar, events=events, now=now)
    except (ScenarioError, CalendarError, ClockError) as exc:
        return {"id": sid, "error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - one bad line must not stop the others
        return {"id": sid, "error": f"cannot compute this scenario: {exc}"}
    return {"id": sid, **result_to_dict(result)}


def answer_line(line: str) -> dict:
    """Answer one JSONL line (a line that is not JSON gets an error answer too)."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"id": None, "error": f"not valid JSON: {exc.msg} (column {exc.colno})"}
    return answer(obj)


def answer_lines(lines: Iterable[str]) -> Iterator[str]:
    """One output JSON line per non-blank input line, in order."""
    for line in lines:
        if line.strip():
            yield json.dumps(answer_line(line))
