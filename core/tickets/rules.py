"""Priority and team rules for a categorised ticket (documented in docs/tickets.md; edit the dicts to change them)."""

from __future__ import annotations

from core.tickets.enums import Category, Priority

# Priority of a new ticket by category, before the reproducible-bug rule and the plan boost.
BASE_PRIORITY: dict[Category, Priority] = {
    Category.BUG: Priority.MEDIUM,
    Category.QUESTION: Priority.MEDIUM,
    Category.FEATURE: Priority.LOW,
    Category.PERFORMANCE: Priority.MEDIUM,
    Category.BILLING: Priority.HIGH,
}

# A bug the customer says happens every time is easier to fix and usually blocks them.
REPRODUCIBLE_BUG_PRIORITY = Priority.HIGH

# Steps an account's plan raises the priority (never above high). Plans not listed raise nothing.
PLAN_PRIORITY_BOOST: dict[str, int] = {
    "enterprise": 1,
}

# The team (core.auth.models.Team.key) that owns each category.
TEAM_FOR_CATEGORY: dict[Category, str] = {
    Category.BUG: "tech",
    Category.PERFORMANCE: "tech",
    Category.QUESTION: "support",
    Category.FEATURE: "product",
    Category.BILLING: "billing",
}

_LADDER = [Priority.LOW, Priority.MEDIUM, Priority.HIGH]


def suggest_priority(*, category: Category | str, reproducible: bool | None, plan: str | None = None) -> Priority:
    """The priority a new ticket gets from its category, reproducibility and the account's plan."""
    category = Category(category)
    priority = BASE_PRIORITY[category]
    if category == Category.BUG and reproducible is True:
        priority = REPRODUCIBLE_BUG_PRIORITY
    boost = PLAN_PRIORITY_BOOST.get(str(plan).lower(), 0) if plan else 0
    index = min(max(_LADDER.index(priority) + boost, 0), len(_LADDER) - 1)
    return _LADDER[index]


def team_for(category: Category | str) -> str:
    """The key of the team that owns a category."""
    return TEAM_FOR_CATEGORY[Category(category)]
