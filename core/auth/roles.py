"""Roles, permissions and the one role -> permissions map that services check."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    OPS = "ops"
    SUPPORT_LEAD = "support_lead"
    AGENT = "agent"
    PM = "pm"
    CUSTOMER = "customer"


class Permission(StrEnum):
    VIEW_OVERVIEW = "view_overview"
    MANAGE_USERS = "manage_users"
    VIEW_QUEUE = "view_queue"
    CREATE_TICKET_STAFF = "create_ticket_staff"
    WORK_TICKETS = "work_tickets"          # reply, note, change status/category/priority
    REASSIGN_TICKETS = "reassign_tickets"
    BULK_REASSIGN = "bulk_reassign"
    USE_PORTAL = "use_portal"
    MANAGE_SLA = "manage_sla"
    VIEW_SLA = "view_sla"
    VIEW_FEEDBACK = "view_feedback"
    MANAGE_ROADMAP = "manage_roadmap"
    VIEW_MONITORING = "view_monitoring"
    MANAGE_SILENCES = "manage_silences"
    TRIAGE_ALERTS = "triage_alerts"
    VIEW_FLAGS = "view_flags"
    MANAGE_FLAGS = "manage_flags"
    VIEW_BACKUPS = "view_backups"
    RUN_BACKUP = "run_backup"
    RESTORE = "restore"
    VIEW_RELEASES = "view_releases"
    RELEASE = "release"
    MANAGE_MACROS = "manage_macros"
    MANAGE_SETTINGS = "manage_settings"


P = Permission
_STAFF_BASE = {P.VIEW_OVERVIEW}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(p for p in Permission if p is not P.USE_PORTAL),
    Role.OPS: frozenset(_STAFF_BASE | {
        P.VIEW_MONITORING, P.MANAGE_SILENCES, P.TRIAGE_ALERTS, P.VIEW_FLAGS, P.MANAGE_FLAGS,
        P.VIEW_BACKUPS, P.RUN_BACKUP, P.RESTORE, P.VIEW_RELEASES, P.RELEASE, P.VIEW_SLA,
    }),
    Role.SUPPORT_LEAD: frozenset(_STAFF_BASE | {
        P.VIEW_QUEUE, P.CREATE_TICKET_STAFF, P.WORK_TICKETS, P.REASSIGN_TICKETS, P.BULK_REASSIGN,
        P.VIEW_SLA, P.VIEW_FEEDBACK, P.MANAGE_MACROS,
    }),
    Role.AGENT: frozenset(_STAFF_BASE | {
        P.VIEW_QUEUE, P.CREATE_TICKET_STAFF, P.WORK_TICKETS, P.REASSIGN_TICKETS, P.VIEW_SLA,
    }),
    Role.PM: frozenset(_STAFF_BASE | {P.VIEW_FEEDBACK, P.MANAGE_ROADMAP, P.VIEW_RELEASES}),
    Role.CUSTOMER: frozenset({P.USE_PORTAL}),
}


class PermissionDenied(Exception):
    """Raised by a service when the acting user's role lacks the permission."""


def has_permission(role: Role | str, permission: Permission) -> bool:
    """Whether a role carries a permission."""
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False


def require(actor, permission: Permission) -> None:
    """Raise PermissionDenied unless the actor (a User) is active and its role has the permission."""
    if actor is None or not getattr(actor, "active", False) or not has_permission(actor.role, permission):
        who = getattr(actor, "username", "anonymous")
        raise PermissionDenied(f"{who} may not {permission.value.replace('_', ' ')}")
