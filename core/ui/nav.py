"""Which pages exist and which roles may open them; `pages_for(role)` feeds `st.navigation`.

Pure Python (no Streamlit), so the access map is unit-tested on its own. A page is registered only
when its file exists, so a domain adds its page by creating the file listed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.auth.roles import Permission, Role, has_permission
from core.config import ROOT


@dataclass(frozen=True)
class PageSpec:
    key: str
    path: str
    title: str
    icon: str
    section: str
    permission: Permission
    default_for: tuple[Role, ...] = ()


P = Permission
PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview", "pages/overview.py", "Overview", ":material/dashboard:", "Console", P.VIEW_OVERVIEW,
             default_for=(Role.ADMIN, Role.OPS, Role.SUPPORT_LEAD, Role.AGENT, Role.PM)),
    PageSpec("queue", "pages/queue.py", "Ticket queue", ":material/inbox:", "Support", P.VIEW_QUEUE),
    PageSpec("new_ticket", "pages/new_ticket.py", "New ticket", ":material/add_call:", "Support", P.CREATE_TICKET_STAFF),
    PageSpec("sla", "pages/sla.py", "SLA", ":material/timer:", "Support", P.VIEW_SLA),
    PageSpec("macros", "pages/macros.py", "Macros", ":material/quickreply:", "Support", P.MANAGE_MACROS),
    PageSpec("feedback", "pages/feedback.py", "Feedback & NPS", ":material/reviews:", "Product", P.VIEW_FEEDBACK),
    PageSpec("monitoring", "pages/monitoring.py", "Monitoring", ":material/monitoring:", "Operations", P.VIEW_MONITORING),
    PageSpec("alerts", "pages/alerts.py", "Alerts", ":material/notifications_active:", "Operations", P.VIEW_MONITORING),
    PageSpec("flags", "pages/flags.py", "Feature flags", ":material/toggle_on:", "Operations", P.VIEW_FLAGS),
    PageSpec("backups", "pages/backups.py", "Backups", ":material/backup:", "Operations", P.VIEW_BACKUPS),
    PageSpec("releases", "pages/releases.py", "Releases", ":material/rocket_launch:", "Operations", P.VIEW_RELEASES),
    PageSpec("sla_settings", "pages/sla_settings.py", "SLA policies", ":material/schedule:", "Admin", P.MANAGE_SLA),
    PageSpec("users", "pages/users.py", "Users", ":material/group:", "Admin", P.MANAGE_USERS),
    PageSpec("settings", "pages/settings.py", "Settings", ":material/settings:", "Admin", P.MANAGE_SETTINGS),
    PageSpec("portal", "pages/portal.py", "Support portal", ":material/support_agent:", "Portal", P.USE_PORTAL,
             default_for=(Role.CUSTOMER,)),
)


def pages_for(role: Role | str) -> list[PageSpec]:
    """The pages a role may open, in menu order (only pages whose file exists)."""
    return [p for p in PAGES if has_permission(role, p.permission) and (ROOT / p.path).exists()]


def may_open(role: Role | str, key: str) -> bool:
    """Whether role may open the page with this key."""
    return any(p.key == key for p in pages_for(role))
