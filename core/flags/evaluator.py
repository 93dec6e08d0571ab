"""The Unleash-compatible evaluator: a client-API state compiled into closures, then pure lookups.

Follows the Unleash client specification (github.com/Unleash/client-specification): strategies,
constraint operators, segments, flag and strategy variants, dependent features, and both the full
`features` state and the delta `events` format. Hashing is murmur3 (x86, 32-bit, unsigned) as the
specification's `normalizedHash` does. The state is compiled once per change so that an evaluation is
a few dict lookups and closure calls (no parsing, no regex compiling, no JSON).
"""

from __future__ import annotations

import ipaddress
import json
import os
import random
import re
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

import mmh3

VARIANT_SEED = 86028157
STANDARD_CONTEXT_FIELDS = ("userId", "sessionId", "remoteAddress", "environment", "appName", "currentTime")

STRATEGIES = frozenset({
    "default", "userWithId", "flexibleRollout", "gradualRolloutUserId", "gradualRolloutSessionId",
    "gradualRolloutRandom", "remoteAddress", "applicationHostname",
})
MULTI_VALUE_OPERATORS = frozenset({"IN", "NOT_IN", "STR_CONTAINS", "STR_STARTS_WITH", "STR_ENDS_WITH", "IN_CIDR"})
SINGLE_VALUE_OPERATORS = frozenset({
    "NUM_EQ", "NUM_GT", "NUM_GTE", "NUM_LT", "NUM_LTE", "DATE_AFTER", "DATE_BEFORE",
    "SEMVER_EQ", "SEMVER_GT", "SEMVER_GTE", "SEMVER_LT", "SEMVER_LTE", "REGEX",
})
OPERATORS = MULTI_VALUE_OPERATORS | SINGLE_VALUE_OPERATORS
GROUP_STRATEGY = "__internal-strategy-group"

Context = Mapping[str, Any]
Check = Callable[[Context], bool]


def normalized_hash(identifier: str, group_id: str, normalizer: int = 100, seed: int = 0) -> int:
    """The specification's normalizedHash: murmur3("groupId:identifier") % normalizer + 1."""
    return mmh3.hash(f"{group_id}:{identifier}", seed, signed=False) % normalizer + 1


def disabled_variant(feature_enabled: bool = False) -> dict:
    """The variant returned when no variant applies."""
    return {"name": "disabled", "enabled": False, "feature_enabled": feature_enabled}


# ---------------------------------------------------------------------------------------------
# Context access


def _field_getter(name: str) -> Callable[[Context], str | None]:
    """A function reading a context field: the top-level key, else `properties[name]`, as text."""

    def get(ctx: Context) -> str | None:
        value = ctx.get(name)
        if value is None:
            props = ctx.get("properties")
            if props:
                value = props.get(name)
                if value is None:
                    return None
            else:
                return None
        return value if value.__class__ is str else _as_text(value)

    return get


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _random_id() -> str:
    return str(random.randint(1, 100_000))


# ---------------------------------------------------------------------------------------------
# Values: numbers, dates, semantic versions, regular expressions, addresses


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def parse_number(text: Any, strip: bool = False) -> float | None:
    """A finite number from text (no surrounding blanks unless strip), or None."""
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    s = str(text).strip() if strip else str(text)
    if not _NUMBER.match(s):
        return None
    return float(s)


# A constraint's date is the strict form Unleash writes; a context's date is any RFC 3339 text.
_DATE_VALUE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?(Z|[+-]\d{2}:\d{2})$")
_DATE_CONTEXT = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})$")


def parse_date(text: Any, strict: bool = False) -> datetime | None:
    """An aware datetime from an RFC 3339 text, or None (strict: the constraint-value form only)."""
    if text is None:
        return None
    if isinstance(text, datetime):
        return text if text.tzinfo else text.replace(tzinfo=timezone.utc)
    s = str(text)
    if not (_DATE_VALUE if strict else _DATE_CONTEXT).match(s):
        return None
    s = s.replace("t", "T").replace(" ", "T")
    if s[-1] in "Zz":
        s = s[:-1] + "+00:00"
    elif s[-3] != ":":
        s = s[:-2] + ":" + s[-2:]
    if "." in s:
        # Python reads at most 6 fraction digits.
        head, frac = s.split(".", 1)
        digits = re.match(r"\d+", frac)[0]
        s = f"{head}.{digits[:6].ljust(6, '0')}{frac[len(digits):]}"
    try:
        return datetime.fromisoformat(s)
    except ValueError:
        return None


_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


def parse_semver(text: Any) -> tuple | None:
    """A sortable key for a Semantic Versioning 2.0 text (build metadata ignored), or None."""
    if text is None:
        return None
    m = _SEMVER.match(str(text).strip())
    if not m:
        return None
    major, minor, patch, pre = int(m[1]), int(m[2]), int(m[3]), m[4]
    if pre is None:
        # A release sorts after every pre-release of the same version.
        return (major, minor, patch, 1, ())
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (major, minor, patch, 0, parts)


_POSIX_CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "0-9A-Za-z", "upper": "A-Z", "lower": "a-z",
    "space": r"\t\n\v\f\r ", "blank": r" \t", "punct": r"!-/:-@\[-`{-~", "xdigit": "0-9A-Fa-f",
    "word": "0-9A-Za-z_", "cntrl": r"\x00-\x1f\x7f", "print": r"\x20-\x7e", "graph": r"\x21-\x7e",
    "ascii": r"\x00-\x7f",
}
_INLINE_FLAGS = re.compile(r"\(\?([imsU]*)(?:-([imsU]*))?\)")


class RegexError(ValueError):
    """A pattern outside the RE2 syntax Unleash accepts."""


def translate_re2(pattern: str) -> str:
    """Rewrite an RE2 pattern into Python's `re` dialect; raise RegexError for what RE2 refuses.

    RE2 (Unleash's regex engine) has no lookaround and no backreferences, allows `(?i)` anywhere (it
    applies to the rest of the enclosing group), and knows POSIX classes like `[[:alpha:]]`.
    """
    out: list[str] = []
    stack: list[int] = []        # per open group: how many scoped-flag groups to close with it
    pending = 0                  # scoped-flag groups opened at the top level
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise RegexError("trailing backslash")
            nxt = pattern[i + 1]
            if nxt.isdigit() and nxt != "0":
                raise RegexError("backreferences are not supported")
            if nxt == "z":
                out.append(r"\Z")
            elif nxt in "pPCXRKGgk":
                raise RegexError(f"\\{nxt} is not supported")
            else:
                out.append(pattern[i:i + 2])
            i += 2
            continue
        if c == "[":
            j = i + 1
            buf = ["["]
            if j < n and pattern[j] == "^":
                buf.append("^")
                j += 1
            if j < n and pattern[j] == "]":
                buf.append(r"\]")
                j += 1
            while j < n and pattern[j] != "]":
                if pattern[j] == "\\" and j + 1 < n:
                    buf.append(pattern[j:j + 2])
                    j += 2
                    continue
                if pattern.startswith("[:", j):
                    end = pattern.find(":]", j + 2)
                    name = pattern[j + 2:end] if end > 0 else ""
                    if name in _POSIX_CLASSES:
                        buf.append(_POSIX_CLASSES[name])
                        j = end + 2
                        continue
                    raise RegexError(f"unknown character class {pattern[j:end + 2] if end > 0 else '[:'}")
                if pattern[j] == "[":
                    buf.append(r"\[")
                    j += 1
                    continue
                buf.append(pattern[j])
                j += 1
            if j >= n:
                raise RegexError("missing ]")
            buf.append("]")
            out.append("".join(buf))
            i = j + 1
            continue
        if c == "(":
            m = _INLINE_FLAGS.match(pattern, i)
            if m and (m[1] or m[2]):
                on, off = m[1].replace("U", ""), (m[2] or "").replace("U", "")
                if "U" in m[0]:
                    raise RegexError("the U flag is not supported")
                out.append(f"(?{on}{'-' + off if off else ''}:")
                if stack:
                    stack[-1] += 1
                else:
                    pending += 1
                i = m.end()
                continue
            if pattern.startswith("(?", i):
                rest = pattern[i + 2:i + 4]
                if rest[:1] in ("=", "!") or rest in ("<=", "<!") or rest[:1] in (">", "#") or rest[:2] == "P=":
                    raise RegexError("lookaround, atomic groups and backreferences are not supported")
                if rest[:1] == "<":
                    out.append("(?P<")
                    i += 3
                    stack.append(0)
                    continue
            out.append("(")
            stack.append(0)
            i += 1
            continue
        if c == ")":
            if not stack:
                raise RegexError("unbalanced )")
            out.append(")" * stack.pop())
            out.append(")")
            i += 1
            continue
        if c in "*+?}" and i + 1 < n and pattern[i + 1] == "+":
            raise RegexError("possessive quantifiers are not supported")
        out.append(c)
        i += 1
    if stack:
        raise RegexError("missing )")
    out.append(")" * pending)
    return "".join(out)


def compile_regex(pattern: str, case_insensitive: bool = False) -> re.Pattern:
    """Compile an RE2 pattern (ASCII classes like RE2); raise RegexError when it is not valid."""
    try:
        return re.compile(translate_re2(pattern), re.ASCII | (re.IGNORECASE if case_insensitive else 0))
    except re.error as exc:
        raise RegexError(str(exc)) from None


def _parse_network(text: str):
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


@lru_cache(maxsize=8192)
def _parse_ip_cached(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _parse_ip(text: str | None):
    return None if text is None else _parse_ip_cached(text)


# Context values repeat (versions, plan sizes, dates): parse each distinct text once.
_semver_of = lru_cache(maxsize=8192)(lambda text: parse_semver(text))
_number_of = lru_cache(maxsize=8192)(lambda text: parse_number(text))
_date_of = lru_cache(maxsize=8192)(lambda text: parse_date(text))


# ---------------------------------------------------------------------------------------------
# Constraints


def _values(constraint: Mapping) -> list[str]:
    raw = constraint.get("values")
    if raw is None:
        raw = [constraint["value"]] if constraint.get("value") is not None else []
    return [_as_text(v) for v in raw if v is not None]


def _value(constraint: Mapping) -> str | None:
    value = constraint.get("value")
    if value is None:
        vals = constraint.get("values") or []
        value = vals[0] if vals else None
    return None if value is None else _as_text(value)


def _now_text(ctx: Context) -> datetime | None:
    value = ctx.get("currentTime")
    if value is None:
        props = ctx.get("properties")
        value = props.get("currentTime") if props else None
    if value is None:
        return datetime.now(timezone.utc)
    return _date_of(value) if isinstance(value, str) else parse_date(value)


class Uncompilable(ValueError):
    """A feature that cannot be evaluated (unknown operator, bad number, missing segment): it is off."""


def _never(ctx: Context) -> bool:
    return False


def compile_constraint(constraint: Mapping) -> Check:
    """A check for one constraint (inversion included).

    Like Unleash's engine: an unknown operator or a constraint number that is not a number makes the
    whole feature off (Uncompilable); a bad date or version value never matches, even inverted; a
    regex that does not compile matches nothing (so inverted it matches).
    """
    op = constraint.get("operator")
    field = constraint.get("contextName") or ""
    inverted = bool(constraint.get("inverted"))
    ci = bool(constraint.get("caseInsensitive"))
    get = _field_getter(field)
    check: Check

    if op in ("IN", "NOT_IN"):
        want = op == "IN"
        if ci:
            # The specification (16-case-insensitive-in-operators) compares both sides lowered;
            # yggdrasil-engine 2.0.0 ignores caseInsensitive on IN/NOT_IN, a known difference.
            values = frozenset(v.lower() for v in _values(constraint))

            def check(ctx):
                v = get(ctx)
                return (v is not None and v.lower() in values) is want
        else:
            values = frozenset(_values(constraint))

            def check(ctx):
                return (get(ctx) in values) is want
    elif op in ("STR_CONTAINS", "STR_STARTS_WITH", "STR_ENDS_WITH"):
        values = [v.lower() for v in _values(constraint)] if ci else _values(constraint)
        if not values:
            raise Uncompilable(f"{op} needs at least one value")
        if op == "STR_STARTS_WITH":
            prefixes = tuple(values)

            def test(v):
                return v.startswith(prefixes)
        elif op == "STR_ENDS_WITH":
            suffixes = tuple(values)

            def test(v):
                return v.endswith(suffixes)
        else:
            def test(v):
                return any(x in v for x in values)

        def check(ctx):
            v = get(ctx)
            if v is None:
                return False
            return test(v.lower() if ci else v)
    elif op in ("NUM_EQ", "NUM_GT", "NUM_GTE", "NUM_LT", "NUM_LTE"):
        target = parse_number(_value(constraint), strip=True)
        if target is None:
            raise Uncompilable(f"{op} needs a number, got {_value(constraint)!r}")
        cmp = {
            "NUM_EQ": lambda a, b: a == b, "NUM_GT": lambda a, b: a > b, "NUM_GTE": lambda a, b: a >= b,
            "NUM_LT": lambda a, b: a < b, "NUM_LTE": lambda a, b: a <= b,
        }[op]

        def check(ctx):
            t = get(ctx)
            v = None if t is None else _number_of(t)
            return v is not None and cmp(v, target)
    elif op in ("DATE_AFTER", "DATE_BEFORE"):
        target = parse_date(_value(constraint), strict=True)
        if target is None:
            return _never
        after = op == "DATE_AFTER"
        now_of = _now_text if field == "currentTime" else (lambda ctx: _date_of(get(ctx)) if get(ctx) is not None else None)

        def check(ctx):
            now = now_of(ctx)
            if now is None:
                return False
            return now > target if after else now < target
    elif op in ("SEMVER_EQ", "SEMVER_GT", "SEMVER_GTE", "SEMVER_LT", "SEMVER_LTE"):
        target = parse_semver(_value(constraint))
        if target is None:
            return _never
        cmp = {
            "SEMVER_EQ": lambda a, b: a == b, "SEMVER_GT": lambda a, b: a > b, "SEMVER_GTE": lambda a, b: a >= b,
            "SEMVER_LT": lambda a, b: a < b, "SEMVER_LTE": lambda a, b: a <= b,
        }[op]

        def check(ctx):
            t = get(ctx)
            v = None if t is None else _semver_of(t)
            return v is not None and cmp(v, target)
    elif op == "REGEX":
        try:
            rx = compile_regex(_value(constraint) or "", ci) if _value(constraint) is not None else None
        except RegexError:
            rx = None
        def check(ctx):
            v = get(ctx)
            return v is not None and rx is not None and rx.search(v) is not None
    elif op == "IN_CIDR":
        nets = [net for net in (_parse_network(v) for v in _values(constraint)) if net is not None]

        def check(ctx):
            ip = _parse_ip(get(ctx))
            return ip is not None and any(ip.version == net.version and ip in net for net in nets)
    else:
        raise Uncompilable(f"unknown operator {op!r}")

    if inverted:
        inner = check
        return lambda ctx: not inner(ctx)
    return check


def _all(checks: list[Check]) -> Check | None:
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    t = tuple(checks)
    return lambda ctx: all(c(ctx) for c in t)


# ---------------------------------------------------------------------------------------------
# Strategies


def _percentage(value: Any) -> int:
    """A whole percentage; anything else (like "12.5") never enables, as in Unleash's engine."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value if value is not None else "")
    return int(text) if text.isascii() and text.isdigit() else -1


def _hostname() -> str:
    return (os.environ.get("HOSTNAME") or socket.gethostname() or "undefined").lower()


def _stickiness_getter(stickiness: str | None) -> Callable[[Context], str | None]:
    """The sticky identifier for a rollout: default = userId, then sessionId, then random."""
    s = (stickiness or "default")
    if s == "default":
        uid, sid = _field_getter("userId"), _field_getter("sessionId")

        def get(ctx):
            v = uid(ctx)
            if v is None:
                v = sid(ctx)
            return _random_id() if v is None else v
        return get
    if s == "random":
        return lambda ctx: _random_id()
    return _field_getter(s)


def compile_strategy_check(strategy: Mapping, feature_name: str) -> Check:
    """The strategy's own condition (without constraints and segments)."""
    name = strategy.get("name")
    params = strategy.get("parameters") or {}
    if name == "default":
        return lambda ctx: True
    if name == "userWithId":
        ids = frozenset(x.strip() for x in str(params.get("userIds") or "").split(","))
        uid = _field_getter("userId")
        return lambda ctx: uid(ctx) in ids
    if name in ("gradualRolloutUserId", "gradualRolloutSessionId"):
        pct = _percentage(params.get("percentage"))
        if params.get("groupId") is None:
            return lambda ctx: False
        group = str(params.get("groupId"))
        get = _field_getter("userId" if name == "gradualRolloutUserId" else "sessionId")

        def check(ctx):
            v = get(ctx)
            return v is not None and pct > 0 and normalized_hash(v, group) <= pct
        return check
    if name == "gradualRolloutRandom":
        pct = _percentage(params.get("percentage"))
        return lambda ctx: pct > 0 and random.randint(1, 100) <= pct
    if name == "flexibleRollout":
        pct = _percentage(params.get("rollout"))
        group = str(feature_name if params.get("groupId") is None else params["groupId"])
        stickiness = params.get("stickiness") or "default"
        if pct <= 0:
            return lambda ctx: False
        if stickiness == "random":
            return lambda ctx: random.randint(1, 100) <= pct
        get = _stickiness_getter(stickiness)
        cache: dict[str, bool] = {}

        def check(ctx):
            v = get(ctx)
            if v is None:
                return False
            hit = cache.get(v)
            if hit is None:
                hit = normalized_hash(v, group) <= pct
                if len(cache) < 50_000:
                    cache[v] = hit
            return hit
        return check
    if name == "remoteAddress":
        nets = []
        for item in str(params.get("IPs") or "").split(","):
            net = _parse_network(item)
            if net is not None:
                nets.append(net)
        get = _field_getter("remoteAddress")

        def check(ctx):
            v = get(ctx)
            if v is None:
                return False
            ip = _parse_ip(v)
            return ip is not None and any(ip.version == n.version and ip in n for n in nets)
        return check
    if name == "applicationHostname":
        hosts = frozenset(h.strip().lower() for h in str(params.get("hostNames") or "").split(","))
        return lambda ctx: _hostname() in hosts
    return lambda ctx: False


# ---------------------------------------------------------------------------------------------
# Variants


def _variant_public(v: Mapping) -> dict:
    out = {"name": v.get("name"), "enabled": True, "feature_enabled": True}
    if v.get("payload") is not None:
        out["payload"] = dict(v["payload"])
    return out


def _compile_variants(variants: list[Mapping] | None, group_id: str, stickiness: str | None = None,
                      with_overrides: bool = True) -> Callable[[Context], dict] | None:
    """A chooser over weighted variants (overrides first), or None when there is nothing to choose.

    Flag variants take their stickiness from the first variant; strategy variants from the strategy's
    `stickiness` parameter (passed in).
    """
    variants = [v for v in (variants or [])]
    total = sum(int(v.get("weight") or 0) for v in variants)
    if not variants or total <= 0:
        return None
    publics = [_variant_public(v) for v in variants]
    ranges = []
    acc = 0
    for v, pub in zip(variants, publics):
        acc += int(v.get("weight") or 0)
        ranges.append((acc, pub))
    overrides = []
    for v, pub in zip(variants, publics if with_overrides else []):
        for o in v.get("overrides") or []:
            overrides.append((_field_getter(o.get("contextName") or ""), frozenset(_as_text(x) for x in o.get("values") or []), pub))
    stick = stickiness or variants[0].get("stickiness") or "default"
    if stick == "default":
        uid, sid, addr = _field_getter("userId"), _field_getter("sessionId"), _field_getter("remoteAddress")

        def seed_of(ctx):
            v = uid(ctx)
            if v is None:
                v = sid(ctx)
                if v is None:
                    v = addr(ctx)
            return _random_id() if v is None else v
    elif stick == "random":
        def seed_of(ctx):
            return _random_id()
    else:
        custom = _field_getter(stick)

        def seed_of(ctx):
            v = custom(ctx)
            return _random_id() if v is None else v

    def choose(ctx):
        for get, values, pub in overrides:
            if get(ctx) in values:
                return dict(pub)
        target = normalized_hash(seed_of(ctx), group_id, total, VARIANT_SEED)
        for upper, pub in ranges:
            if target <= upper:
                return dict(pub)
        return dict(ranges[-1][1])

    return choose


# ---------------------------------------------------------------------------------------------
# Features


class _CompiledStrategy:
    __slots__ = ("match", "variants")

    def __init__(self, match: Check, variants):
        self.match = match
        self.variants = variants


class _CompiledFeature:
    __slots__ = ("name", "enabled", "strategies", "variants", "dependencies", "raw", "no_strategies", "error")

    def __init__(self, raw: Mapping, segments: Mapping[Any, list[Check] | None]):
        self.raw = raw
        self.name = raw["name"]
        self.enabled = bool(raw.get("enabled"))
        self.error: str | None = None
        try:
            self.strategies = [_CompiledStrategy(self._compile_strategy(s, segments), self._strategy_variants(s))
                               for s in raw.get("strategies") or []]
        except Uncompilable as exc:
            self.error = str(exc)
            self.enabled = False
            self.strategies = []
        self.no_strategies = not self.strategies
        self.variants = _compile_variants(raw.get("variants"), self.name)
        self.dependencies = [(d.get("feature"), d.get("enabled", True) is not False, list(d.get("variants") or []))
                             for d in raw.get("dependencies") or []]

    def _strategy_variants(self, s: Mapping):
        params = s.get("parameters") or {}
        group = str(self.name if params.get("groupId") is None else params["groupId"])
        # Strategy variants: the strategy's stickiness, no overrides (as Unleash's engine does).
        return _compile_variants(s.get("variants"), group, str(params.get("stickiness") or "default"), False)

    def _compile_strategy(self, s: Mapping, segments: Mapping[int, list[Check]]) -> Check:
        if s.get("name") == GROUP_STRATEGY:
            parts = [self._compile_strategy(g, segments) for g in s.get("group") or []]
            if not parts:
                return lambda ctx: False
            if str(s.get("operator") or "AND").upper() == "OR":
                return lambda ctx: any(p(ctx) for p in parts)
            return lambda ctx: all(p(ctx) for p in parts)
        checks: list[Check] = []
        for seg_id in s.get("segments") or []:
            seg = segments.get(_seg_key(seg_id))
            if seg is None:
                raise Uncompilable(f"segment {seg_id} does not exist")
            checks.extend(seg)
        checks.extend(compile_constraint(c) for c in s.get("constraints") or [])
        own = compile_strategy_check(s, self.name)
        cond = _all(checks)
        if cond is None:
            return own
        return lambda ctx: cond(ctx) and own(ctx)


def _seg_key(seg_id: Any) -> Any:
    try:
        return int(seg_id)
    except (TypeError, ValueError):
        return seg_id


class Engine:
    """Holds a compiled client-API state; `is_enabled` and `get_variant` evaluate against it."""

    def __init__(self, state: Mapping | str | None = None):
        self._lock = threading.Lock()
        self._raw_features: dict[str, Mapping] = {}
        self._raw_segments: dict[Any, Mapping] = {}
        self._features: dict[str, _CompiledFeature] = {}
        if state is not None:
            self.take_state(state)

    # -- loading ---------------------------------------------------------------------------

    def take_state(self, state: Mapping | str) -> None:
        """Load a client-API state: `{"features": [...], "segments": [...]}` or `{"events": [...]}`."""
        if isinstance(state, (str, bytes)):
            state = json.loads(state)
        if "events" in state and "features" not in state:
            self.apply_events(state["events"])
            return
        with self._lock:
            self._raw_features = {f["name"]: f for f in state.get("features") or []}
            self._raw_segments = {_seg_key(s["id"]): s for s in state.get("segments") or []}
            self._recompile()

    def apply_events(self, events: Iterable[Mapping]) -> None:
        """Apply delta events in order: hydration, feature-updated/removed, segment-updated/removed."""
        with self._lock:
            for ev in sorted(events, key=lambda e: e.get("eventId", 0)):
                kind = ev.get("type")
                if kind == "hydration":
                    self._raw_features = {f["name"]: f for f in ev.get("features") or []}
                    self._raw_segments = {_seg_key(s["id"]): s for s in ev.get("segments") or []}
                elif kind == "feature-updated":
                    self._raw_features[ev["feature"]["name"]] = ev["feature"]
                elif kind == "feature-removed":
                    self._raw_features.pop(ev.get("featureName"), None)
                elif kind == "segment-updated":
                    self._raw_segments[_seg_key(ev["segment"]["id"])] = ev["segment"]
                elif kind == "segment-removed":
                    self._raw_segments.pop(_seg_key(ev.get("segmentId")), None)
            self._recompile()

    def _recompile(self) -> None:
        segments = {}
        for k, seg in self._raw_segments.items():
            try:
                segments[k] = [compile_constraint(c) for c in seg.get("constraints") or []]
            except Uncompilable:
                pass        # features using it are off, as with a missing segment
        self._features = {name: _CompiledFeature(raw, segments) for name, raw in self._raw_features.items()}

    def state(self) -> dict:
        """The current state in the client-API `features` format."""
        return {"version": 2, "features": list(self._raw_features.values()), "segments": list(self._raw_segments.values())}

    def feature_names(self) -> list[str]:
        return sorted(self._features)

    def has_feature(self, name: str) -> bool:
        return name in self._features

    # -- evaluation ------------------------------------------------------------------------

    def _resolve(self, f: _CompiledFeature, ctx: Context, check_deps: bool = True):
        """(enabled, the strategy that matched or None)."""
        if not f.enabled:
            return False, None
        if check_deps and f.dependencies and not self._dependencies_ok(f, ctx):
            return False, None
        if f.no_strategies:
            return True, None
        for s in f.strategies:
            if s.match(ctx):
                return True, s
        return False, None

    def _dependencies_ok(self, f: _CompiledFeature, ctx: Context) -> bool:
        for parent_name, want_enabled, want_variants in f.dependencies:
            parent = self._features.get(parent_name)
            if parent is None or parent.dependencies:
                return False          # a missing parent, or a chain of dependencies, never passes
            enabled, strategy = self._resolve(parent, ctx, check_deps=False)
            if not want_enabled:
                if enabled:
                    return False
                continue
            if not enabled:
                return False
            if want_variants:
                variant = self._variant_of(parent, strategy, ctx)
                # A parent without variants satisfies any variant list (as Unleash's engine does).
                if variant["enabled"] and variant["name"] not in want_variants:
                    return False
        return True

    def _variant_of(self, f: _CompiledFeature, strategy: _CompiledStrategy | None, ctx: Context) -> dict:
        chooser = (strategy.variants if strategy is not None else None) or f.variants
        return chooser(ctx) if chooser is not None else disabled_variant(True)

    def is_enabled(self, name: str, context: Context | None = None, default: bool = False) -> bool:
        """Whether the feature is on for this context (default when the feature is unknown)."""
        f = self._features.get(name)
        if f is None:
            return default
        return self._resolve(f, context or {})[0]

    def get_variant(self, name: str, context: Context | None = None) -> dict:
        """The variant for this context: {name, enabled, feature_enabled[, payload]}."""
        f = self._features.get(name)
        if f is None:
            return disabled_variant(False)
        ctx = context or {}
        enabled, strategy = self._resolve(f, ctx)
        if not enabled:
            return disabled_variant(False)
        return self._variant_of(f, strategy, ctx)


def check_spec(spec: Mapping) -> list[tuple[str, Any, Any]]:
    """Run one specification file's tests and variantTests; return the failures (description, expected, got)."""
    engine = Engine(spec["state"])
    failures: list[tuple[str, Any, Any]] = []
    for t in spec.get("tests") or []:
        got = engine.is_enabled(t["toggleName"], t.get("context") or {})
        if got != t["expectedResult"]:
            failures.append((t.get("description", t["toggleName"]), t["expectedResult"], got))
    for t in spec.get("variantTests") or []:
        got = engine.get_variant(t["toggleName"], t.get("context") or {})
        if not variant_matches(t["expectedResult"], got):
            failures.append((t.get("description", t["toggleName"]), t["expectedResult"], got))
    return failures


def variant_matches(expected: Mapping, got: Mapping) -> bool:
    """Whether a variant equals the expected one (feature_enabled compared when the spec states it)."""
    if expected.get("name") != got.get("name") or bool(expected.get("enabled")) != bool(got.get("enabled")):
        return False
    for key in ("feature_enabled", "featureEnabled"):
        if key in expected and bool(expected[key]) != bool(got.get("feature_enabled")):
            return False
    return (expected.get("payload") or None) == (got.get("payload") or None)


def spec_counts(spec: Mapping) -> int:
    """How many checks a specification file holds."""
    return len(spec.get("tests") or []) + len(spec.get("variantTests") or [])
