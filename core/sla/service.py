"""SLA services: edit policies and calendars (validated, audited), and keep each ticket's SLA row current.

The ticket service calls `refresh_ticket_sla` after every change (core.tickets.service.CHANGE_HOOKS); the
queue filters with `sla_state_condition` on the documented column `ticket_sla.state` (SlaState values).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from core.accounts.models import Account, Plan
from core.audit.service import record
from core.auth.roles import Permission, require
from core.sla.calendar import Calendar, CalendarError, business_time, parse_calendar
from core.sla.clock import Event, EventType, Policy, SlaResult, compute
from core.sla.models import ANY_PLAN, SlaCalendar, SlaPolicy, SlaState, TicketSla
from core.tickets.enums import OPEN_STATUSES, EventKind, Priority, TicketStatus
from core.tickets.models import Ticket, TicketEvent

DEFAULT_CALENDAR_NAME = "Business hours"
DEFAULT_CALENDAR = {"timezone": "Europe/Madrid",
                    "hours": {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
                    "holidays": []}
# priority -> (first response, resolution, warn before), minutes
DEFAULT_TARGETS = {Priority.HIGH: (60, 480, 15), Priority.MEDIUM: (120, 1440, 30), Priority.LOW: (480, 4320, 60)}
PLANS = (ANY_PLAN, *(p.value for p in Plan))
SLA_STATES = [s.value for s in SlaState]  # the queue's "SLA state" filter options


class SlaConfigError(ValueError):
    """A policy or calendar that cannot be saved; the message says what to fix."""


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------- policies and calendars

@dataclass(frozen=True)
class ResolvedPolicy:
    policy_id: int | None
    calendar_id: int | None
    policy: Policy
    calendar: Calendar | None


class PolicySet:
    """All policies and calendars, loaded once; `for_ticket(priority, plan)` picks the most specific."""

    def __init__(self, policies: list[SlaPolicy], calendars: list[SlaCalendar]):
        self.calendars: dict[int, Calendar] = {}
        for c in calendars:
            try:
                self.calendars[c.id] = parse_calendar(c.as_dict())
            except CalendarError:
                continue  # cannot be saved through the service; a hand-edited bad row falls back to 24x7
        self.by_key: dict[tuple[str, str], ResolvedPolicy] = {}
        for p in policies:
            cal = self.calendars.get(p.calendar_id) if p.calendar_id else None
            bh = bool(p.business_hours and cal is not None)
            self.by_key[(p.priority, p.plan)] = ResolvedPolicy(
                p.id, p.calendar_id if bh else None,
                Policy(p.first_response_minutes, p.resolution_minutes, bh, p.warn_before_minutes), cal if bh else None)
        default_cal = parse_calendar(DEFAULT_CALENDAR)
        self._fallback = {pr.value: ResolvedPolicy(None, None, Policy(fr, res, True, warn), default_cal)
                          for pr, (fr, res, warn) in DEFAULT_TARGETS.items()}

    def for_ticket(self, priority: str, plan: str | None) -> ResolvedPolicy:
        return (self.by_key.get((priority, plan or ANY_PLAN)) or self.by_key.get((priority, ANY_PLAN))
                or self._fallback.get(priority) or self._fallback[Priority.MEDIUM.value])


def load_policy_set(*, session: Session) -> PolicySet:
    """Every policy and calendar, parsed."""
    return PolicySet(list(session.scalars(select(SlaPolicy))), list(session.scalars(select(SlaCalendar))))


def ensure_defaults(*, session: Session) -> bool:
    """Create the default calendar and per-priority policies when there are none (returns True if it did)."""
    if session.scalar(select(func.count()).select_from(SlaPolicy)):
        return False
    cal = session.scalar(select(SlaCalendar).where(SlaCalendar.name == DEFAULT_CALENDAR_NAME))
    if cal is None:
        cal = SlaCalendar(name=DEFAULT_CALENDAR_NAME, timezone=DEFAULT_CALENDAR["timezone"],
                          hours=DEFAULT_CALENDAR["hours"], holidays=[])
        session.add(cal)
        session.flush()
    for pr, (fr, res, warn) in DEFAULT_TARGETS.items():
        session.add(SlaPolicy(priority=pr.value, plan=ANY_PLAN, first_response_minutes=fr, resolution_minutes=res,
                              warn_before_minutes=warn, business_hours=True, calendar_id=cal.id))
    session.flush()
    return True


def list_calendars(*, session: Session) -> list[SlaCalendar]:
    """Calendars by name."""
    return list(session.scalars(select(SlaCalendar).order_by(SlaCalendar.name)))


def list_policies(*, session: Session) -> list[SlaPolicy]:
    """Policies by priority then plan."""
    order = func.array_position(func.string_to_array("high,medium,low", ","), SlaPolicy.priority)
    return list(session.scalars(select(SlaPolicy).order_by(order, SlaPolicy.plan)))


def save_calendar(*, session: Session, actor, name: str, calendar: dict, calendar_id: int | None = None) -> SlaCalendar:
    """Create or update a calendar after validating it (time zone, intervals, open time, holidays)."""
    require(actor, Permission.MANAGE_SLA)
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise SlaConfigError("a calendar needs a name of 1 to 80 characters")
    try:
        cal = parse_calendar(calendar)
    except CalendarError as exc:
        raise SlaConfigError(str(exc)) from None
    clash = session.scalar(select(SlaCalendar).where(SlaCalendar.name == name))
    if clash is not None and clash.id != calendar_id:
        raise SlaConfigError(f"a calendar named {name!r} already exists")
    data = cal.to_dict()
    if calendar_id is None:
        row = SlaCalendar(name=name, timezone=data["timezone"], hours=data["hours"], holidays=data["holidays"])
        session.add(row)
        action = "sla.calendar.create"
    else:
        row = session.get(SlaCalendar, calendar_id)
        if row is None:
            raise SlaConfigError(f"no calendar {calendar_id}")
        row.name, row.timezone, row.hours, row.holidays = name, data["timezone"], data["hours"], data["holidays"]
        row.updated_at = utcnow()
        action = "sla.calendar.update"
    session.flush()
    record(session=session, actor=actor, action=action, entity="sla_calendar", entity_id=row.id,
           details={"name": name, **data})
    mark_all_stale(session=session)
    return row


def save_policy(*, session: Session, actor, priority: str, plan: str = ANY_PLAN, first_response_minutes: int,
                resolution_minutes: int, warn_before_minutes: int, business_hours: bool,
                calendar_id: int | None) -> SlaPolicy:
    """Create or update the policy for (priority, plan) after validating its targets."""
    require(actor, Permission.MANAGE_SLA)
    try:
        priority = Priority(priority).value
    except ValueError:
        raise SlaConfigError(f"unknown priority {priority!r}") from None
    plan = (plan or ANY_PLAN).strip()
    if plan not in PLANS:
        raise SlaConfigError(f"unknown plan {plan!r} (one of {', '.join(PLANS)})")
    values = {}
    for label, v in (("first response", first_response_minutes), ("resolution", resolution_minutes)):
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 525_600:
            raise SlaConfigError(f"the {label} target must be a whole number of minutes between 1 and 525600")
        values[label] = v
    if isinstance(warn_before_minutes, bool) or not isinstance(warn_before_minutes, int) or warn_before_minutes < 0:
        raise SlaConfigError("warn before must be a whole number of minutes, 0 or more")
    if warn_before_minutes >= first_response_minutes:
        raise SlaConfigError("warn before must be shorter than the first-response target")
    if first_response_minutes > resolution_minutes:
        raise SlaConfigError("the first-response target cannot be longer than the resolution target")
    if business_hours:
        if calendar_id is None or session.get(SlaCalendar, calendar_id) is None:
            raise SlaConfigError("a business-hours policy needs an existing calendar")
    row = session.scalar(select(SlaPolicy).where(SlaPolicy.priority == priority, SlaPolicy.plan == plan))
    before = None
    if row is None:
        row = SlaPolicy(priority=priority, plan=plan)
        session.add(row)
    else:
        before = {"first_response_minutes": row.first_response_minutes, "resolution_minutes": row.resolution_minutes,
                  "warn_before_minutes": row.warn_before_minutes, "business_hours": row.business_hours,
                  "calendar_id": row.calendar_id}
        row.updated_at = utcnow()
    row.first_response_minutes = first_response_minutes
    row.resolution_minutes = resolution_minutes
    row.warn_before_minutes = warn_before_minutes
    row.business_hours = bool(business_hours)
    row.calendar_id = calendar_id if business_hours else None
    session.flush()
    after = {"first_response_minutes": first_response_minutes, "resolution_minutes": resolution_minutes,
             "warn_before_minutes": warn_before_minutes, "business_hours": bool(business_hours),
             "calendar_id": row.calendar_id}
    record(session=session, actor=actor, action="sla.policy.update" if before else "sla.policy.create",
           entity="sla_policy", entity_id=row.id,
           details={"priority": priority, "plan": plan, "before": before, "after": after})
    mark_all_stale(session=session)
    return row


def delete_policy(*, session: Session, actor, policy_id: int) -> None:
    """Remove a plan-specific policy (the per-priority 'any' policies stay: every ticket needs one)."""
    require(actor, Permission.MANAGE_SLA)
    row = session.get(SlaPolicy, policy_id)
    if row is None:
        raise SlaConfigError(f"no policy {policy_id}")
    if row.plan == ANY_PLAN:
        raise SlaConfigError("the default policy of a priority cannot be removed; edit it instead")
    record(session=session, actor=actor, action="sla.policy.delete", entity="sla_policy", entity_id=row.id,
           details={"priority": row.priority, "plan": row.plan})
    session.delete(row)
    session.flush()
    mark_all_stale(session=session)


def mark_all_stale(*, session: Session) -> int:
    """Make the sweep recompute every open ticket's clocks (after a policy or calendar change)."""
    return session.execute(update(TicketSla).where(TicketSla.active.is_(True))
                           .values(source_updated_at=None)).rowcount


# ---------------------------------------------------------------- per-ticket state

def clock_events(ticket_created_at: datetime, rows, *, first_response_at: datetime | None = None,
                 solved_at: datetime | None = None, status: str | None = None) -> list[Event]:
    """Clock events from ticket_events rows (kind, at, public, actor_user_id, data), ordered and clamped.

    A ticket that came with its history (an import, a helpdesk sync) carries `first_response_at` and
    `solved_at` without the replies and status changes behind them: those stand in for the missing
    events, so an old solved ticket is not counted as breached by today's clock."""
    created = ticket_created_at
    events = [Event(created, EventType.CREATED)]
    rows = list(rows)
    if first_response_at is not None and not any(
            k == EventKind.PUBLIC_REPLY and public and uid is not None for k, _, public, uid, _ in rows):
        events.append(Event(max(first_response_at, created), EventType.AGENT_REPLY))
    if (solved_at is not None and status in (TicketStatus.SOLVED.value, TicketStatus.CLOSED.value)
            and not any(k == EventKind.STATUS for k, *_ in rows)):
        events.append(Event(max(solved_at, created), EventType.STATUS, TicketStatus.SOLVED))
    for kind, at, public, actor_user_id, data in rows:
        at = max(at, created)  # a row stamped a hair before the ticket's own timestamp
        if kind == EventKind.STATUS:
            try:
                events.append(Event(at, EventType.STATUS, TicketStatus((data or {}).get("to"))))
            except ValueError:
                continue
        elif kind == EventKind.PUBLIC_REPLY and public and actor_user_id is not None:
            events.append(Event(at, EventType.AGENT_REPLY))
        elif kind == EventKind.CUSTOMER_REPLY:
            events.append(Event(at, EventType.CUSTOMER_REPLY))
    events[1:] = sorted(events[1:], key=lambda e: e.at)
    return events


def derive_state(result: SlaResult, now: datetime) -> SlaState:
    """ok / at_risk / breached / paused, the same rule the sweep applies in SQL."""
    fr, res = result.first_response, result.resolution
    if fr.breached or res.breached:
        return SlaState.BREACHED
    if any(c.running and c.warn_at is not None and c.warn_at <= now for c in (fr, res)):
        return SlaState.AT_RISK
    if res.paused:
        return SlaState.PAUSED
    return SlaState.OK


def _row_values(ticket_id: int, status: str, source_updated_at, resolved: ResolvedPolicy, result: SlaResult,
                now: datetime) -> dict:
    fr, res = result.first_response, result.resolution
    is_open = status in {s.value for s in OPEN_STATUSES}
    return {
        "ticket_id": ticket_id, "policy_id": resolved.policy_id, "calendar_id": resolved.calendar_id,
        "fr_target_minutes": int(resolved.policy.first_response_minutes),
        "res_target_minutes": int(resolved.policy.resolution_minutes),
        "warn_before_minutes": int(resolved.policy.warn_before_minutes),
        "computed_at": now, "source_updated_at": source_updated_at,
        "fr_elapsed_minutes": fr.elapsed_minutes, "fr_due_at": fr.due_at, "fr_warn_at": fr.warn_at,
        "fr_stopped_at": fr.stopped_at, "fr_breached": fr.breached,
        "res_elapsed_minutes": res.elapsed_minutes, "res_due_at": res.due_at, "res_warn_at": res.warn_at,
        "res_stopped_at": res.stopped_at, "res_paused": res.paused, "res_breached": res.breached,
        "active": is_open and (fr.running or res.running or res.paused),
        "state": derive_state(result, now).value, "updated_at": now,
    }


def _upsert(session: Session, rows: list[dict], *, mark_logged: bool = False) -> None:
    if not rows:
        return
    if mark_logged:
        for r in rows:
            r["fr_breach_logged"], r["res_breach_logged"] = r["fr_breached"], r["res_breached"]
    stmt = pg_insert(TicketSla.__table__)
    keep = {"ticket_id", "fr_breach_logged", "res_breach_logged"}
    cols = [c for c in rows[0] if c not in keep]
    if mark_logged:
        cols += ["fr_breach_logged", "res_breach_logged"]
    stmt = stmt.on_conflict_do_update(index_elements=["ticket_id"], set_={c: stmt.excluded[c] for c in cols})
    session.execute(stmt, rows)


def refresh_many(*, session: Session, ticket_ids: list[int], now: datetime | None = None,
                 policies: PolicySet | None = None, mark_logged: bool = False) -> int:
    """Recompute the SLA rows of these tickets in bulk (three queries, one upsert); returns how many."""
    if not ticket_ids:
        return 0
    now = now or utcnow()
    policies = policies or load_policy_set(session=session)
    tickets = session.execute(
        select(Ticket.id, Ticket.status, Ticket.priority, Ticket.created_at, Ticket.updated_at, Account.plan,
               Ticket.first_response_at, Ticket.solved_at)
        .join(Account, Account.id == Ticket.account_id).where(Ticket.id.in_(ticket_ids))).all()
    wanted = (EventKind.STATUS.value, EventKind.PUBLIC_REPLY.value, EventKind.CUSTOMER_REPLY.value)
    by_ticket: dict[int, list] = {}
    for ev in session.execute(
            select(TicketEvent.ticket_id, TicketEvent.kind, TicketEvent.at, TicketEvent.public,
                   TicketEvent.actor_user_id, TicketEvent.data)
            .where(TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.kind.in_(wanted), TicketEvent.at <= now)
            .order_by(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.id)):
        by_ticket.setdefault(ev.ticket_id, []).append((ev.kind, ev.at, ev.public, ev.actor_user_id, ev.data))
    rows = []
    for t in tickets:
        resolved = policies.for_ticket(t.priority, t.plan)
        created = min(t.created_at, now)
        result = compute(policy=resolved.policy, calendar=resolved.calendar,
                         events=clock_events(created, by_ticket.get(t.id, []), first_response_at=t.first_response_at,
                                             solved_at=t.solved_at if t.solved_at and t.solved_at <= now else None,
                                             status=t.status), now=now)
        rows.append(_row_values(t.id, t.status, t.updated_at, resolved, result, now))
    _upsert(session, rows, mark_logged=mark_logged)
    return len(rows)


def refresh_ticket_sla(*, session: Session, ticket_id: int | None = None, ticket: Ticket | None = None,
                       now: datetime | None = None) -> TicketSla | None:
    """Recompute one ticket's SLA row (the ticket service calls this after each change, in its transaction)."""
    if ticket is not None:
        session.flush()
        ticket_id = ticket.id
    if ticket_id is None:
        raise ValueError("refresh_ticket_sla needs ticket_id or ticket")
    refresh_many(session=session, ticket_ids=[ticket_id], now=now)
    row = session.get(TicketSla, ticket_id)
    if row is not None:
        session.refresh(row)
    return row


def sla_state_condition(states: list[str]):
    """A WHERE condition on Ticket for the queue's "SLA state" filter (ok, at_risk, breached, paused).

    Tickets without an SLA row yet count as ok.
    """
    values = [SlaState(s).value for s in states]
    cond = Ticket.id.in_(select(TicketSla.ticket_id).where(TicketSla.state.in_(values)))
    if SlaState.OK.value in values:
        cond = cond | ~Ticket.id.in_(select(TicketSla.ticket_id))
    return cond


sla_state_filter = sla_state_condition


def sla_for_tickets(*, session: Session, ticket_ids: list[int], now: datetime | None = None) -> dict[int, dict]:
    """Per ticket: state, and business minutes left (negative: overdue) for each running target.

    For the queue's "time left" column: {id: {"state", "first_response_left", "resolution_left",
    "first_response_due_at", "resolution_due_at", "paused"}}; a stopped target's left is None.
    """
    if not ticket_ids:
        return {}
    now = now or utcnow()
    policies = load_policy_set(session=session)
    out = {}
    for r in session.scalars(select(TicketSla).where(TicketSla.ticket_id.in_(ticket_ids))):
        cal = policies.calendars.get(r.calendar_id) if r.calendar_id else None
        since = business_time(cal, r.computed_at, now).total_seconds() / 60 if now > r.computed_at else 0.0
        fr_left = None if r.fr_due_at is None else r.fr_target_minutes - r.fr_elapsed_minutes - since
        if r.res_due_at is not None:
            res_left = r.res_target_minutes - r.res_elapsed_minutes - since
        elif r.res_paused:
            res_left = r.res_target_minutes - r.res_elapsed_minutes
        else:
            res_left = None
        out[r.ticket_id] = {"state": r.state, "first_response_left": fr_left, "resolution_left": res_left,
                            "first_response_due_at": r.fr_due_at, "resolution_due_at": r.res_due_at,
                            "paused": r.res_paused,
                            # a stopped target's outcome: "met", "breached", or None while it runs
                            "first_response_outcome": _outcome(r.fr_stopped_at, r.fr_breached),
                            "resolution_outcome": _outcome(r.res_stopped_at, r.res_breached)}
    return out


def _outcome(stopped_at: datetime | None, breached: bool) -> str | None:
    return None if stopped_at is None else "breached" if breached else "met"


def format_minutes(minutes: float | None) -> str:
    """'2h 05m left' / '35m overdue' / '' for a time left in minutes."""
    if minutes is None:
        return ""
    m = int(round(abs(minutes)))
    text = f"{m // 60}h {m % 60:02d}m" if m >= 60 else f"{m}m"
    return f"{text} overdue" if minutes < 0 else f"{text} left"
