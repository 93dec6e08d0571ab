"""Flag changes: validation, versions with who/when/why, diffs, revert, scheduled changes, import/export.

Every change checks MANAGE_FLAGS, writes a new version row holding the full snapshot, and appends an
audit row, in the caller's transaction. Saves carry the version the editor started from: when the flag
moved on meanwhile, StaleFlagError says so and carries the current version (and who changed it, and why).

An enabled environment always has at least one strategy, as in Unleash's server: with none, an Unleash
client serves the flag to everyone without anyone having said so. A save that would leave one is refused;
switching on an environment that has none adds Unleash's default strategy (a 100% rollout) so "on for
everyone" is explicit; removing the last strategy through targeting switches the environment off. A
segment change makes a new version of every flag that uses the segment.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit.service import record
from core.auth.roles import Permission, require
from core.flags.evaluator import (
    GROUP_STRATEGY, MULTI_VALUE_OPERATORS, OPERATORS, SINGLE_VALUE_OPERATORS, STRATEGIES, RegexError,
    compile_regex, parse_date, parse_number, parse_semver,
)
from core.flags.models import (
    Environment, Flag, FlagEnvironment, FlagSchedule, FlagSegment, FlagType, FlagVersion, ScheduleAction,
    ScheduleStatus,
)

ENVIRONMENTS = tuple(e.value for e in Environment)
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-:]{0,99}$")
# How long a flag of each type is expected to live without a change before it is called stale.
STALE_AFTER: dict[str, timedelta | None] = {
    FlagType.RELEASE: timedelta(days=40), FlagType.EXPERIMENT: timedelta(days=40),
    FlagType.OPERATIONAL: timedelta(days=7), FlagType.KILL_SWITCH: None, FlagType.PERMISSION: None,
}


class FlagError(ValueError):
    """A change that cannot be made; the message says why."""


class FlagValidationError(FlagError):
    """A definition that does not validate; `errors` lists every problem."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors))


class StaleFlagError(FlagError):
    """The flag changed since the editor loaded it; `current` is the flag's current snapshot."""

    def __init__(self, name: str, expected: int, current: dict, by: str | None = None, why: str | None = None):
        self.current = current
        self.current_version = current["version"]
        change = f" (saved by {by}: {why})" if by else ""
        super().__init__(f"flag {name!r} changed since you loaded it: you edited version {expected}, and it is now "
                         f"version {self.current_version}{change}. Reload it, review the change, and save again.")


# ---------------------------------------------------------------------------------------------
# Snapshots and validation


def snapshot(flag: Flag) -> dict:
    """The flag's full definition as JSON (what a version stores)."""
    envs = {e.environment: {"enabled": e.enabled, "strategies": copy.deepcopy(e.strategies or [])} for e in flag.environments}
    for env in ENVIRONMENTS:
        envs.setdefault(env, {"enabled": False, "strategies": []})
    return {"name": flag.name, "description": flag.description or "", "type": flag.type, "version": flag.version,
            "variants": copy.deepcopy(flag.variants or []), "dependencies": copy.deepcopy(flag.dependencies or []),
            "environments": envs}


def _check_constraints(constraints: Any, where: str, errors: list[str]) -> None:
    if not isinstance(constraints, list):
        errors.append(f"{where}: constraints must be a list")
        return
    for i, c in enumerate(constraints, 1):
        w = f"{where}, constraint {i}"
        if not isinstance(c, dict):
            errors.append(f"{w}: must be an object")
            continue
        op = c.get("operator")
        if op not in OPERATORS:
            errors.append(f"{w}: unknown operator {op!r} (known: {', '.join(sorted(OPERATORS))})")
            continue
        if not str(c.get("contextName") or "").strip():
            errors.append(f"{w}: the context field is missing")
        if op in MULTI_VALUE_OPERATORS:
            values = c.get("values")
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                errors.append(f"{w}: {op} needs a list of text values")
                continue
            if op.startswith("STR_") and not values:
                errors.append(f"{w}: {op} needs at least one value")
            if op == "IN_CIDR":
                import ipaddress

                for v in values:
                    try:
                        ipaddress.ip_network(v.strip(), strict=False)
                    except ValueError:
                        errors.append(f"{w}: {v!r} is not an IP address or CIDR range")
        else:
            value = c.get("value")
            if not isinstance(value, str) or value == "":
                errors.append(f"{w}: {op} needs one text value")
                continue
            if op.startswith("NUM_") and parse_number(value, strip=True) is None:
                errors.append(f"{w}: {value!r} is not a number")
            elif op.startswith("DATE_") and parse_date(value, strict=True) is None:
                errors.append(f"{w}: {value!r} is not a date like 2025-01-31T00:00:00Z")
            elif op.startswith("SEMVER_") and parse_semver(value) is None:
                errors.append(f"{w}: {value!r} is not a semantic version like 1.2.3")
            elif op == "REGEX":
                try:
                    compile_regex(value, bool(c.get("caseInsensitive")))
                except RegexError as exc:
                    errors.append(f"{w}: the regular expression {value!r} does not compile ({exc})")


def _check_percentage(value: Any, what: str, errors: list[str]) -> None:
    text = str(value) if value is not None else ""
    if not (text.isascii() and text.isdigit() and 0 <= int(text) <= 100):
        errors.append(f"{what} must be a whole number from 0 to 100, got {value!r}")


def _check_variants(variants: Any, where: str, errors: list[str]) -> None:
    if not isinstance(variants, list):
        errors.append(f"{where}: variants must be a list")
        return
    if not variants:
        return
    names = set()
    total = 0
    for v in variants:
        if not isinstance(v, dict) or not str(v.get("name") or "").strip():
            errors.append(f"{where}: every variant needs a name")
            continue
        if v["name"] in names:
            errors.append(f"{where}: variant {v['name']!r} appears twice")
        names.add(v["name"])
        w = v.get("weight")
        if not isinstance(w, int) or isinstance(w, bool) or w < 0:
            errors.append(f"{where}: variant {v['name']!r} needs a whole, non-negative weight")
            continue
        total += w
        payload = v.get("payload")
        if payload is not None and (not isinstance(payload, dict) or payload.get("type") not in ("string", "json", "csv", "number")
                                    or not isinstance(payload.get("value"), str)):
            errors.append(f"{where}: variant {v['name']!r} payload needs a type (string, json, csv, number) and a text value")
    if total not in (100, 1000):
        errors.append(f"{where}: variant weights add up to {total}; they must add up to 100 (percent) or 1000")


def _check_strategy(s: Any, where: str, segment_ids: set[int], errors: list[str]) -> None:
    if not isinstance(s, dict):
        errors.append(f"{where}: must be an object")
        return
    name = s.get("name")
    if name == GROUP_STRATEGY:
        errors.append(f"{where}: strategy groups are not supported in the store")
        return
    if name not in STRATEGIES:
        errors.append(f"{where}: unknown strategy {name!r} (known: {', '.join(sorted(STRATEGIES))})")
        return
    params = s.get("parameters") or {}
    if not isinstance(params, dict):
        errors.append(f"{where}: parameters must be an object")
        return
    if name == "flexibleRollout":
        _check_percentage(params.get("rollout"), f"{where}: the rollout", errors)
    elif name in ("gradualRolloutUserId", "gradualRolloutSessionId", "gradualRolloutRandom"):
        _check_percentage(params.get("percentage"), f"{where}: the percentage", errors)
    elif name == "userWithId" and not str(params.get("userIds") or "").strip():
        errors.append(f"{where}: userWithId needs at least one user id")
    elif name == "remoteAddress" and not str(params.get("IPs") or "").strip():
        errors.append(f"{where}: remoteAddress needs at least one IP address")
    elif name == "applicationHostname" and not str(params.get("hostNames") or "").strip():
        errors.append(f"{where}: applicationHostname needs at least one host name")
    _check_constraints(s.get("constraints") or [], where, errors)
    for seg in s.get("segments") or []:
        if seg not in segment_ids:
            errors.append(f"{where}: segment {seg!r} does not exist")
    if s.get("variants"):
        _check_variants(s["variants"], f"{where} variants", errors)


def _find_cycle(name: str, deps_of: dict[str, list[str]]) -> list[str] | None:
    """A dependency path from name back to itself, if there is one."""
    stack: list[tuple[str, list[str]]] = [(name, [name])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for parent in deps_of.get(node, []):
            if parent == name:
                return path + [parent]
            if parent not in seen:
                seen.add(parent)
                stack.append((parent, path + [parent]))
    return None


def validate(*, session: Session, definition: dict) -> list[str]:
    """Every problem with a flag definition (empty when it can be saved)."""
    errors: list[str] = []
    name = str(definition.get("name") or "")
    if not NAME_RE.match(name):
        errors.append(f"name {name!r}: use 1-100 letters, digits, '.', '_', '-' or ':', starting with a letter or digit")
    if definition.get("type") not in {t.value for t in FlagType}:
        errors.append(f"type {definition.get('type')!r}: use one of {', '.join(t.value for t in FlagType)}")
    segment_ids = set(session.scalars(select(FlagSegment.id)))
    envs = definition.get("environments") or {}
    for env, body in envs.items():
        if env not in ENVIRONMENTS:
            errors.append(f"unknown environment {env!r}")
            continue
        strategies = body.get("strategies") or []
        if body.get("enabled") and not strategies:
            errors.append(f"{env}: an enabled flag with no strategy is on for everyone: add a rollout (or another "
                          f"strategy) or switch the flag off in {env}")
        for i, s in enumerate(strategies, 1):
            _check_strategy(s, f"{env} strategy {i} ({(s or {}).get('name') if isinstance(s, dict) else s})", segment_ids, errors)
    _check_variants(definition.get("variants") or [], "flag variants", errors)
    deps = definition.get("dependencies") or []
    if deps:
        existing = {f.name: [d.get("feature") for d in (f.dependencies or [])] for f in session.scalars(select(Flag))}
        existing[name] = [d.get("feature") for d in deps if isinstance(d, dict)]
        for d in deps:
            parent = d.get("feature") if isinstance(d, dict) else None
            if parent not in existing:
                errors.append(f"dependency {parent!r}: no such flag")
        cycle = _find_cycle(name, existing)
        if cycle:
            errors.append("dependencies form a cycle: " + " -> ".join(cycle))
        elif any(existing.get(d.get("feature"), []) for d in deps if isinstance(d, dict)):
            errors.append("a parent flag may not itself depend on another flag (Unleash allows one level)")
        elif any(name in deps_ for other, deps_ in existing.items() if other != name):
            errors.append(f"other flags depend on {name!r}, so it may not depend on a flag itself (Unleash allows one level)")
    return errors


# ---------------------------------------------------------------------------------------------
# Reads


def get_flag(*, session: Session, name: str) -> Flag:
    """The flag by name, or FlagError."""
    flag = session.scalar(select(Flag).where(Flag.name == name))
    if flag is None:
        raise FlagError(f"no flag named {name!r}")
    return flag


def is_stale(flag_type: str, last_changed: datetime, now: datetime | None = None) -> bool:
    """Whether a flag has outlived its type's expected lifetime without a change."""
    limit = STALE_AFTER.get(FlagType(flag_type))
    if limit is None:
        return False
    return (now or datetime.now(timezone.utc)) - last_changed > limit


def rollout_of(strategies: list[dict]) -> int | None:
    """The percentage of the first gradual rollout strategy, if any."""
    for s in strategies or []:
        if s.get("name") == "flexibleRollout":
            try:
                return int((s.get("parameters") or {}).get("rollout"))
            except (TypeError, ValueError):
                return None
    return None


def list_flags(*, session: Session, search: str = "", flag_type: str | None = None, now: datetime | None = None) -> list[dict]:
    """Every flag with its state per environment, rollout, last change and stale marker."""
    q = select(Flag).order_by(Flag.name)
    if search:
        text = search.strip()  # matched literally: "_" and "%" are characters here, not wildcards
        q = q.where(Flag.name.icontains(text, autoescape=True) | Flag.description.icontains(text, autoescape=True))
    if flag_type:
        q = q.where(Flag.type == flag_type)
    rows = []
    for f in session.scalars(q):
        envs = {e.environment: e for e in f.environments}
        row = {"name": f.name, "type": f.type, "description": f.description, "version": f.version,
               "updated_at": f.updated_at, "stale": is_stale(f.type, f.updated_at, now)}
        for env in ENVIRONMENTS:
            e = envs.get(env)
            row[env] = bool(e and e.enabled)
            row[f"{env}_rollout"] = rollout_of(e.strategies) if e else None
        rows.append(row)
    return rows


def history(*, session: Session, name: str) -> list[dict]:
    """The flag's versions, newest first, each with who/when/why and its diff from the previous one."""
    flag = get_flag(session=session, name=name)
    versions = list(session.scalars(select(FlagVersion).where(FlagVersion.flag_id == flag.id).order_by(FlagVersion.version)))
    out = []
    prev: dict | None = None
    for v in versions:
        out.append({"version": v.version, "actor": v.actor, "reason": v.reason, "at": v.created_at,
                    "snapshot": v.snapshot, "changes": diff(prev or {}, v.snapshot)})
        prev = v.snapshot
    return list(reversed(out))


def diff(old: Any, new: Any, path: str = "") -> list[str]:
    """Readable changes between two snapshots: 'path: old -> new' lines."""
    import json

    skip = {"version"}
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in sorted(set(old) | set(new), key=str):
            if not path and key in skip:
                continue
            sub = f"{path}.{key}" if path else str(key)
            if key not in old:
                out.append(f"{sub}: added {json.dumps(new[key], ensure_ascii=False)}")
            elif key not in new:
                out.append(f"{sub}: removed {json.dumps(old[key], ensure_ascii=False)}")
            else:
                out.extend(diff(old[key], new[key], sub))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = []
        for i, (a, b) in enumerate(zip(old, new)):
            out.extend(diff(a, b, f"{path}[{i}]"))
        return out
    if old != new:
        return [f"{path}: {json.dumps(old, ensure_ascii=False)} -> {json.dumps(new, ensure_ascii=False)}"]
    return []


# ---------------------------------------------------------------------------------------------
# Writes


def _apply(flag: Flag, definition: dict) -> None:
    flag.description = str(definition.get("description") or "")
    flag.type = str(definition.get("type"))
    flag.variants = copy.deepcopy(definition.get("variants") or [])
    flag.dependencies = copy.deepcopy(definition.get("dependencies") or [])
    envs = definition.get("environments") or {}
    current = {e.environment: e for e in flag.environments}
    for env in ENVIRONMENTS:
        body = envs.get(env) or {"enabled": False, "strategies": []}
        row = current.get(env)
        if row is None:
            row = FlagEnvironment(environment=env)
            flag.environments.append(row)
        row.enabled = bool(body.get("enabled"))
        row.strategies = copy.deepcopy(body.get("strategies") or [])


def _new_version(session: Session, flag: Flag, actor, reason: str, action: str) -> FlagVersion:
    snap = snapshot(flag)
    v = FlagVersion(flag_id=flag.id, version=flag.version, actor_user_id=getattr(actor, "id", None),
                    actor=getattr(actor, "username", None) or str(actor), reason=reason, snapshot=snap)
    session.add(v)
    record(session=session, actor=actor, action=action, entity="flag", entity_id=flag.name,
           details={"version": flag.version, "reason": reason})
    session.flush()
    return v


def _need_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise FlagError("say why: a reason is required for every flag change")
    return reason


def create_flag(*, session: Session, actor, name: str, flag_type: str = FlagType.RELEASE, description: str = "",
                reason: str, definition: dict | None = None) -> Flag:
    """Create a flag (off in every environment unless the definition says otherwise), version 1."""
    require(actor, Permission.MANAGE_FLAGS)
    reason = _need_reason(reason)
    defn = {"name": name, "type": str(flag_type), "description": description, "variants": [], "dependencies": [],
            "environments": {env: {"enabled": False, "strategies": [{"name": "default", "parameters": {}, "constraints": []}]}
                             for env in ENVIRONMENTS}}
    if definition:
        defn.update({k: v for k, v in definition.items() if k != "name"})
    errors = validate(session=session, definition=defn)
    if session.scalar(select(Flag.id).where(Flag.name == name)) is not None:
        errors.insert(0, f"a flag named {name!r} already exists")
    if errors:
        raise FlagValidationError(errors)
    flag = Flag(name=name, version=1)
    session.add(flag)
    _apply(flag, defn)
    session.flush()
    _new_version(session, flag, actor, reason, "flag.create")
    return flag


def _lock(session: Session, name: str) -> Flag:
    """The flag by name with its row locked for this transaction, read fresh (not from the session's memory)."""
    flag = session.scalar(select(Flag).where(Flag.name == name).with_for_update()
                          .execution_options(populate_existing=True))
    if flag is None:
        raise FlagError(f"no flag named {name!r}")
    return flag


def _check_version(session: Session, flag: Flag, expected_version: int | None) -> None:
    """StaleFlagError, naming who made the current version and why, when the flag is not at expected_version."""
    if expected_version is None or flag.version == expected_version:
        return
    last = session.scalar(select(FlagVersion).where(FlagVersion.flag_id == flag.id)
                          .order_by(FlagVersion.version.desc()).limit(1))
    raise StaleFlagError(flag.name, expected_version, snapshot(flag),
                         by=last.actor if last else None, why=last.reason if last else None)


def save_flag(*, session: Session, actor, name: str, definition: dict, expected_version: int, reason: str,
              action: str = "flag.update") -> Flag:
    """Replace the flag's definition if nobody changed it since expected_version; a new version."""
    require(actor, Permission.MANAGE_FLAGS)
    reason = _need_reason(reason)
    given = definition.get("name") if isinstance(definition, dict) else None
    if given not in (None, name):  # another flag's definition pasted (or left) in this one's editor
        raise FlagError(f"the definition is {given!r}'s, not {name!r}'s: nothing was saved")
    flag = _lock(session, name)
    _check_version(session, flag, expected_version)
    defn = {**copy.deepcopy(definition), "name": name}
    errors = validate(session=session, definition=defn)
    if errors:
        raise FlagValidationError(errors)
    before = snapshot(flag)
    _apply(flag, defn)
    after = snapshot(flag)
    if diff(before, after) == []:
        raise FlagError("nothing changed")
    flag.version += 1
    flag.updated_at = datetime.now(timezone.utc)
    session.flush()
    _new_version(session, flag, actor, reason, action)
    return flag


def _edit(session: Session, name: str, expected_version: int | None) -> tuple[Flag, dict]:
    """The locked flag and a copy of its definition to change, refused when it moved past expected_version."""
    flag = _lock(session, name)
    _check_version(session, flag, expected_version)
    return flag, snapshot(flag)


def _env(environment: str) -> str:
    if environment not in ENVIRONMENTS:
        raise FlagError(f"unknown environment {environment!r}: use {' or '.join(ENVIRONMENTS)}")
    return environment


def everyone_strategy(name: str) -> dict:
    """Unleash's default strategy, added when an environment without strategies is switched on: 100% rollout."""
    return {"name": "flexibleRollout", "parameters": {"rollout": "100", "stickiness": "default", "groupId": name},
            "constraints": []}


def toggle(*, session: Session, actor, name: str, environment: str, enabled: bool, reason: str,
           expected_version: int | None = None) -> Flag:
    """Switch a flag on or off in one environment (expected_version None: whatever is current)."""
    require(actor, Permission.MANAGE_FLAGS)
    flag, defn = _edit(session, name, expected_version)
    body = defn["environments"][_env(environment)]
    body["enabled"] = bool(enabled)
    if enabled and not body["strategies"]:
        body["strategies"] = [everyone_strategy(name)]
    return save_flag(session=session, actor=actor, name=name, definition=defn, reason=reason,
                     expected_version=flag.version, action="flag.enable" if enabled else "flag.disable")


def set_rollout(*, session: Session, actor, name: str, environment: str, percentage: int, reason: str,
                expected_version: int | None = None, stickiness: str = "default") -> Flag:
    """Set the gradual rollout percentage in one environment (adds a flexibleRollout strategy if none)."""
    require(actor, Permission.MANAGE_FLAGS)
    if not isinstance(percentage, int) or isinstance(percentage, bool) or not 0 <= percentage <= 100:
        raise FlagValidationError([f"the rollout must be a whole number from 0 to 100, got {percentage!r}"])
    flag, defn = _edit(session, name, expected_version)
    strategies = defn["environments"][_env(environment)]["strategies"]
    target = next((s for s in strategies if s.get("name") == "flexibleRollout"), None)
    if target is None:
        # A gradual rollout replaces a plain "on for everyone" strategy.
        strategies[:] = [s for s in strategies if s.get("name") != "default"]
        target = {"name": "flexibleRollout", "parameters": {"stickiness": stickiness, "groupId": name}, "constraints": []}
        strategies.insert(0, target)
    target.setdefault("parameters", {})["rollout"] = str(percentage)
    target["parameters"].setdefault("groupId", name)
    target["parameters"].setdefault("stickiness", stickiness)
    return save_flag(session=session, actor=actor, name=name, definition=defn, reason=reason,
                     expected_version=flag.version, action="flag.rollout")


def set_targeting(*, session: Session, actor, name: str, environment: str, user_ids: str | list[str], reason: str,
                  segments: dict[int, list[int]] | None = None, expected_version: int | None = None) -> Flag:
    """Set the user ids of the environment's userWithId strategy, and the segments of the strategies in `segments`.

    `segments` maps a strategy's position in the environment's list (from 0) to its new segment ids; strategies
    not named keep theirs. Empty user ids remove the userWithId strategy; if it was the last strategy, the
    environment is switched off, as Unleash does, rather than left on for everyone.
    """
    require(actor, Permission.MANAGE_FLAGS)
    flag, defn = _edit(session, name, expected_version)
    body = defn["environments"][_env(environment)]
    strategies = body["strategies"]
    for i, seg_ids in (segments or {}).items():
        if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(strategies):
            raise FlagError(f"{environment} has no strategy {i!r} (it has {len(strategies)})")
        if seg_ids:
            strategies[i]["segments"] = list(seg_ids)
        else:
            strategies[i].pop("segments", None)
    ids = user_ids.split(",") if isinstance(user_ids, str) else list(user_ids)
    clean = ", ".join(dict.fromkeys(str(x).strip() for x in ids if str(x).strip()))
    at = next((i for i, s in enumerate(strategies) if s.get("name") == "userWithId"), None)
    if clean and at is None:
        strategies.insert(0, {"name": "userWithId", "parameters": {"userIds": clean}, "constraints": []})
    elif clean:
        strategies[at]["parameters"] = {**(strategies[at].get("parameters") or {}), "userIds": clean}
    elif at is not None:
        del strategies[at]
        if not strategies:
            body["enabled"] = False
    return save_flag(session=session, actor=actor, name=name, definition=defn, reason=reason,
                     expected_version=flag.version, action="flag.targeting")


def revert(*, session: Session, actor, name: str, to_version: int, reason: str, expected_version: int | None = None) -> Flag:
    """Make a new version whose definition is that of an earlier version."""
    require(actor, Permission.MANAGE_FLAGS)
    flag, _ = _edit(session, name, expected_version)
    old = session.scalar(select(FlagVersion).where(FlagVersion.flag_id == flag.id, FlagVersion.version == to_version))
    if old is None:
        raise FlagError(f"flag {name!r} has no version {to_version}")
    return save_flag(session=session, actor=actor, name=name, definition=old.snapshot, expected_version=flag.version,
                     reason=f"revert to version {to_version}: {_need_reason(reason)}", action="flag.revert")


def delete_flag(*, session: Session, actor, name: str, reason: str) -> None:
    """Delete a flag and its history (the audit log keeps the record)."""
    require(actor, Permission.MANAGE_FLAGS)
    reason = _need_reason(reason)
    flag = get_flag(session=session, name=name)
    dependants = [f.name for f in session.scalars(select(Flag)) if any(d.get("feature") == name for d in f.dependencies or [])]
    if dependants:
        raise FlagError(f"flags {', '.join(dependants)} depend on {name!r}; remove those dependencies first")
    record(session=session, actor=actor, action="flag.delete", entity="flag", entity_id=name,
           details={"reason": reason, "snapshot": snapshot(flag)})
    session.delete(flag)
    session.flush()


# ---------------------------------------------------------------------------------------------
# Segments


def save_segment(*, session: Session, actor, name: str, constraints: list[dict], description: str = "",
                 reason: str) -> FlagSegment:
    """Create or replace a segment (a named list of constraints); a new version of every flag that uses it."""
    require(actor, Permission.MANAGE_FLAGS)
    reason = _need_reason(reason)
    errors: list[str] = []
    if not NAME_RE.match(name or ""):
        errors.append(f"segment name {name!r}: use letters, digits, '.', '_', '-' or ':'")
    _check_constraints(constraints, f"segment {name!r}", errors)
    if errors:
        raise FlagValidationError(errors)
    seg = session.scalar(select(FlagSegment).where(FlagSegment.name == name))
    before = copy.deepcopy(seg.constraints or []) if seg is not None else None
    if seg is None:
        seg = FlagSegment(name=name)
        session.add(seg)
    seg.constraints = copy.deepcopy(constraints)
    seg.description = description
    seg.updated_at = datetime.now(timezone.utc)
    session.flush()
    record(session=session, actor=actor, action="flag_segment.save", entity="flag_segment", entity_id=seg.id,
           details={"name": name, "constraints": constraints, "reason": reason})
    if before is not None and before != seg.constraints:
        changes = diff({"constraints": before}, {"constraints": seg.constraints})
        summary = "; ".join(changes[:3]) + (f"; and {len(changes) - 3} more" if len(changes) > 3 else "")
        for flag_name in flags_using_segment(session=session, segment_id=seg.id):
            _version_for_segment(session, flag_name, actor, f"segment {name!r} changed ({summary}): {reason}")
    return seg


def flags_using_segment(*, session: Session, segment_id: int) -> list[str]:
    """Names of the flags with a strategy, in any environment, limited to this segment."""
    return list(session.scalars(
        select(Flag.name).join(FlagEnvironment, FlagEnvironment.flag_id == Flag.id)
        .where(FlagEnvironment.strategies.contains([{"segments": [segment_id]}])).distinct().order_by(Flag.name)))


def _version_for_segment(session: Session, name: str, actor, reason: str) -> None:
    # The flag's own definition is unchanged, but it now evaluates differently: a version names the change
    # in its history and tells anyone editing the flag that it moved. updated_at stays, because the stale
    # marker asks whether anyone still changes the flag itself.
    flag = _lock(session, name)
    flag.version += 1
    session.flush()
    _new_version(session, flag, actor, reason, "flag.segment")


def delete_segment(*, session: Session, actor, name: str, reason: str) -> None:
    """Delete a segment no strategy uses."""
    require(actor, Permission.MANAGE_FLAGS)
    reason = _need_reason(reason)
    seg = session.scalar(select(FlagSegment).where(FlagSegment.name == name))
    if seg is None:
        raise FlagError(f"no segment named {name!r}")
    users = flags_using_segment(session=session, segment_id=seg.id)
    if users:
        raise FlagError(f"segment {name!r} is used by {', '.join(users)}")
    record(session=session, actor=actor, action="flag_segment.delete", entity="flag_segment", entity_id=seg.id,
           details={"name": name, "reason": reason})
    session.delete(seg)
    session.flush()


def list_segments(*, session: Session) -> list[FlagSegment]:
    """Every segment, by name."""
    return list(session.scalars(select(FlagSegment).order_by(FlagSegment.name)))


# ---------------------------------------------------------------------------------------------
# Scheduled changes


def schedule_change(*, session: Session, actor, name: str, environment: str, action: str, run_at: datetime,
                    reason: str, rollout: int | None = None, now: datetime | None = None) -> FlagSchedule:
    """Plan a change (enable, disable, set_rollout) for a later time; the worker carries it out."""
    require(actor, Permission.MANAGE_FLAGS)
    reason = _need_reason(reason)
    flag = get_flag(session=session, name=name)
    _env(environment)
    try:
        act = ScheduleAction(action)
    except ValueError:
        raise FlagError(f"unknown scheduled action {action!r}: use enable, disable or set_rollout") from None
    if act is ScheduleAction.SET_ROLLOUT and (not isinstance(rollout, int) or not 0 <= rollout <= 100):
        raise FlagValidationError([f"the rollout must be a whole number from 0 to 100, got {rollout!r}"])
    if run_at.tzinfo is None:
        raise FlagError("the time needs a time zone")
    if run_at <= (now or datetime.now(timezone.utc)):
        raise FlagError("the time must be in the future")
    sched = FlagSchedule(flag_id=flag.id, environment=environment, action=act.value,
                         rollout=rollout if act is ScheduleAction.SET_ROLLOUT else None, run_at=run_at, reason=reason,
                         created_by_id=getattr(actor, "id", None), created_by=getattr(actor, "username", str(actor)))
    session.add(sched)
    session.flush()
    record(session=session, actor=actor, action="flag.schedule", entity="flag", entity_id=name,
           details={"schedule_id": sched.id, "environment": environment, "action": act.value, "rollout": rollout,
                    "run_at": run_at, "reason": reason})
    return sched


def cancel_schedule(*, session: Session, actor, schedule_id: int, reason: str) -> FlagSchedule:
    """Cancel a pending scheduled change."""
    require(actor, Permission.MANAGE_FLAGS)
    reason = _need_reason(reason)
    sched = session.get(FlagSchedule, schedule_id)
    if sched is None or sched.status != ScheduleStatus.PENDING:
        raise FlagError("no pending scheduled change with that id")
    sched.status = ScheduleStatus.CANCELLED.value
    sched.result = f"cancelled by {getattr(actor, 'username', actor)}: {reason}"
    session.flush()
    record(session=session, actor=actor, action="flag.schedule_cancel", entity="flag", entity_id=sched.flag.name,
           details={"schedule_id": sched.id, "reason": reason})
    return sched


def schedules(*, session: Session, name: str | None = None, pending_only: bool = False) -> list[FlagSchedule]:
    """Scheduled changes, soonest first."""
    q = select(FlagSchedule).order_by(FlagSchedule.run_at)
    if name:
        q = q.join(Flag).where(Flag.name == name)
    if pending_only:
        q = q.where(FlagSchedule.status == ScheduleStatus.PENDING.value)
    return list(session.scalars(q))


@dataclass
class _ScheduleActor:
    """The scheduler acts with the permission of the person who planned the change."""

    id: int | None
    username: str
    role: str = "admin"
    active: bool = True


def run_due_schedules(*, session: Session, now: datetime | None = None) -> list[FlagSchedule]:
    """Carry out every pending change whose time has come (skipping rows another worker holds)."""
    now = now or datetime.now(timezone.utc)
    due = list(session.scalars(select(FlagSchedule).where(FlagSchedule.status == ScheduleStatus.PENDING.value,
                                                          FlagSchedule.run_at <= now)
                               .order_by(FlagSchedule.run_at).with_for_update(skip_locked=True, of=FlagSchedule)))
    for sched in due:
        from core.auth.models import User

        planner = session.get(User, sched.created_by_id) if sched.created_by_id else None
        actor = _ScheduleActor(id=planner.id if planner else None,
                               username=f"scheduler (for {sched.created_by})",
                               role=planner.role if planner else "admin",
                               active=planner.active if planner else True)
        reason = f"scheduled change #{sched.id}: {sched.reason}"
        try:
            with session.begin_nested():
                if sched.action == ScheduleAction.SET_ROLLOUT:
                    set_rollout(session=session, actor=actor, name=sched.flag.name, environment=sched.environment,
                                percentage=int(sched.rollout), reason=reason)
                else:
                    toggle(session=session, actor=actor, name=sched.flag.name, environment=sched.environment,
                           enabled=sched.action == ScheduleAction.ENABLE, reason=reason)
            sched.status = ScheduleStatus.DONE.value
            sched.result = "done"
        except FlagError as exc:
            if str(exc) == "nothing changed":
                sched.status, sched.result = ScheduleStatus.DONE.value, "already in that state"
            else:
                sched.status, sched.result = ScheduleStatus.FAILED.value, str(exc)
        except Exception as exc:  # noqa: BLE001 - a failed change is recorded, the others still run
            sched.status, sched.result = ScheduleStatus.FAILED.value, f"{type(exc).__name__}: {exc}"
        sched.executed_at = now
        session.flush()
    return due


# ---------------------------------------------------------------------------------------------
# Unleash client API: export, import, and the state the SDK evaluates


def client_state(*, session: Session, environment: str) -> dict:
    """The environment's flags and segments in Unleash's client API format (GET /api/client/features)."""
    _env(environment)
    features = []
    rows = session.execute(select(Flag, FlagEnvironment).join(FlagEnvironment, FlagEnvironment.flag_id == Flag.id)
                           .where(FlagEnvironment.environment == environment).order_by(Flag.name))
    for flag, env in rows:
        features.append({
            "name": flag.name, "description": flag.description, "type": flag.type, "project": "default",
            "enabled": env.enabled, "stale": is_stale(flag.type, flag.updated_at), "impressionData": False,
            "strategies": copy.deepcopy(env.strategies or []), "variants": copy.deepcopy(flag.variants or []),
            **({"dependencies": copy.deepcopy(flag.dependencies)} if flag.dependencies else {}),
        })
    segments = [{"id": s.id, "name": s.name, "constraints": copy.deepcopy(s.constraints or [])}
                for s in session.scalars(select(FlagSegment).order_by(FlagSegment.id))]
    return {"version": 2, "features": features, "segments": segments, "query": {"environment": environment}}


def state_revision(*, session: Session) -> tuple:
    """A cheap fingerprint of everything client_state reads (changes when any flag or segment does)."""
    flags = session.execute(select(func.count(Flag.id), func.coalesce(func.sum(Flag.version), 0),
                                   func.max(Flag.updated_at))).one()
    segs = session.execute(select(func.count(FlagSegment.id), func.max(FlagSegment.updated_at))).one()
    return tuple(flags) + tuple(segs)


def import_state(*, session: Session, actor, state: dict, environment: str, reason: str) -> str:
    """Create or update flags (and segments, matched by name) from Unleash client API JSON for one environment."""
    require(actor, Permission.MANAGE_FLAGS)
    reason = _need_reason(reason)
    _env(environment)
    if not isinstance(state, dict) or not isinstance(state.get("features"), list):
        raise FlagError("expected Unleash client API JSON: an object with a 'features' list")
    seg_map: dict[Any, int] = {}
    for seg in state.get("segments") or []:
        name = str(seg.get("name") or f"segment-{seg.get('id')}")
        saved = save_segment(session=session, actor=actor, name=name, constraints=seg.get("constraints") or [],
                             description=str(seg.get("description") or ""), reason=reason)
        seg_map[seg.get("id")] = saved.id
    features = state["features"]
    # Parents first, so dependencies point at flags that exist.
    features = sorted(features, key=lambda f: 1 if f.get("dependencies") else 0)
    created = updated = unchanged = 0
    for f in features:
        name = f.get("name")
        strategies = copy.deepcopy(f.get("strategies") or [])
        for s in strategies:
            if s.get("segments"):
                s["segments"] = [seg_map.get(x, x) for x in s["segments"]]
        # Unleash serves an enabled feature without strategies to everyone; the store says so explicitly.
        body = {"enabled": bool(f.get("enabled")),
                "strategies": strategies or ([everyone_strategy(name)] if f.get("enabled") else [])}
        existing = session.scalar(select(Flag).where(Flag.name == name))
        defn = {"type": f.get("type") if f.get("type") in {t.value for t in FlagType} else FlagType.RELEASE.value,
                "description": f.get("description") or "", "variants": f.get("variants") or [],
                "dependencies": f.get("dependencies") or []}
        if existing is None:
            envs = {env: {"enabled": False, "strategies": [{"name": "default", "parameters": {}, "constraints": []}]}
                    for env in ENVIRONMENTS}
            envs[environment] = body
            create_flag(session=session, actor=actor, name=name, flag_type=defn["type"], description=defn["description"],
                        reason=reason, definition={**defn, "environments": envs})
            created += 1
        else:
            snap = snapshot(existing)
            snap.update(defn)
            snap["environments"][environment] = body
            try:
                save_flag(session=session, actor=actor, name=name, definition=snap, expected_version=existing.version,
                          reason=reason, action="flag.import")
                updated += 1
            except FlagError as exc:
                if str(exc) != "nothing changed":
                    raise
                unchanged += 1
    return f"imported into {environment}: {created} created, {updated} updated, {unchanged} unchanged, {len(seg_map)} segments"
