"""Priority and team rules for a categorised ticket (documented in docs/tickets.md).

The dicts below are the defaults; the PRIORITY_RULES setting (JSON) overrides any part of them, e.g.
`{"plan_boost": {"enterprise": 1, "pro": 1}, "base": {"performance": "high"}}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache

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


class RulesError(ValueError):
    """PRIORITY_RULES is not valid; the message says which part."""


@dataclass(frozen=True)
class Rules:
    base: dict = field(default_factory=lambda: dict(BASE_PRIORITY))
    reproducible_bug: Priority = REPRODUCIBLE_BUG_PRIORITY
    plan_boost: dict = field(default_factory=lambda: dict(PLAN_PRIORITY_BOOST))
    teams: dict = field(default_factory=lambda: dict(TEAM_FOR_CATEGORY))


def _enum(kind, value, where: str):
    try:
        return kind(value)
    except ValueError:
        raise RulesError(f"PRIORITY_RULES {where}: {value!r} is not one of {', '.join(k.value for k in kind)}") from None


def parse_rules(text: str | None) -> Rules:
    """The default rules with the JSON overrides applied; RulesError names the first bad part."""
    if not (text or "").strip():
        return Rules()
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise RulesError(f"PRIORITY_RULES is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise RulesError("PRIORITY_RULES must be a JSON object")
    unknown = set(raw) - {"base", "reproducible_bug", "plan_boost", "teams"}
    if unknown:
        raise RulesError(f"PRIORITY_RULES has unknown keys: {', '.join(sorted(unknown))}")
    rules = Rules()
    for key in ("base", "plan_boost", "teams"):
        if not isinstance(raw.get(key, {}), dict):
            raise RulesError(f"PRIORITY_RULES {key} must be an object")
    base = {**rules.base, **{_enum(Category, c, "base"): _enum(Priority, p, f"base.{c}")
                             for c, p in raw.get("base", {}).items()}}
    teams = {**rules.teams, **{_enum(Category, c, "teams"): str(t).strip() for c, t in raw.get("teams", {}).items()}}
    if not all(teams.values()):
        raise RulesError("PRIORITY_RULES teams: a team key cannot be empty")
    boost = dict(rules.plan_boost)
    for plan, steps in raw.get("plan_boost", {}).items():
        if not isinstance(steps, int) or isinstance(steps, bool) or not -2 <= steps <= 2:
            raise RulesError(f"PRIORITY_RULES plan_boost.{plan}: {steps!r} is not a whole number of steps from -2 to 2")
        boost[str(plan).lower()] = steps
    repro = _enum(Priority, raw["reproducible_bug"], "reproducible_bug") if "reproducible_bug" in raw \
        else rules.reproducible_bug
    return Rules(base=base, reproducible_bug=repro, plan_boost=boost, teams=teams)


@lru_cache(maxsize=4)
def _cached(text: str | None) -> Rules:
    return parse_rules(text)


def active_rules() -> Rules:
    """The rules in force (defaults plus PRIORITY_RULES)."""
    from core.config import get_settings

    return _cached(get_settings().priority_rules)


def suggest_priority(*, category: Category | str, reproducible: bool | None, plan: str | None = None,
                     rules: Rules | None = None) -> Priority:
    """The priority a new ticket gets from its category, reproducibility and the account's plan."""
    rules = rules or active_rules()
    category = Category(category)
    priority = rules.base[category]
    if category == Category.BUG and reproducible is True:
        priority = rules.reproducible_bug
    boost = rules.plan_boost.get(str(plan).lower(), 0) if plan else 0
    index = min(max(_LADDER.index(priority) + boost, 0), len(_LADDER) - 1)
    return _LADDER[index]


def team_for(category: Category | str, rules: Rules | None = None) -> str:
    """The key of the team that owns a category."""
    return (rules or active_rules()).teams[Category(category)]
