"""Random client-API states and contexts for differential tests against Unleash's reference engine.

Everything generated is deterministic for the engines (no random stickiness, no partial
gradualRolloutRandom, a userId in every context), so two correct engines must agree exactly.
"""

from __future__ import annotations

import random

USER_IDS = [str(i) for i in range(0, 40)] + ["alice", "Bob", "carol@example.com", "user123", "ünï"]
WORDS = ["app", "App", "web", "mobile-ios", "prod", "dev", "staging", "a.b.c", "", "x y", "cat", "concat"]
NUMBERS = ["0", "1", "1.5", "-3", "10", "42", "100", "1e3", "abc", " 7 ", "", "3.14"]
DATES = ["2022-01-01T00:00:00Z", "2024-06-15T12:30:00.000Z", "2030-01-01T00:00:00+02:00", "2023-03-01T10:00:00Z",
         "not-a-date", "2024-06-15"]
VERSIONS = ["1.2.2", "1.2.3", "2.0.0-alpha.1", "2.0.0-beta.1", "2.0.0", "1.2.2+meta", "v2.0.0", "1.10.0",
            "2.0.0-alpha", "2.0.0-rc.1", "1.2", "0.0.1", "2.0.0-alpha.10", "2.0.0-alpha.2"]
IPS = ["127.0.0.1", "192.168.1.42", "10.0.0.5", "2001:db8::1", "160.33.0.33", "not-an-ip", "::1"]
CIDRS = ["127.0.0.1", "192.168.1.0/24", "10.0.0.0/8", "2001:db8::/32", "bad", "160.33.0.0/16", "::1/128"]
REGEXES = ["^cat$", "^user\\d{3}$", "^[[:alpha:]]+$", "\\bcat\\b", "^(foo|fo)$", "(regex", "^a{2,4}$", "app",
           "^(?i)app$", "^[0-9]+$", "@example\\.com$", "^(?=a)b$", "^(a)\\1$", "[[:digit:]]"]
FIELDS = {
    "userId": USER_IDS, "sessionId": USER_IDS, "appName": WORDS, "environment": WORDS,
    "remoteAddress": IPS, "tenant": WORDS, "plan": WORDS, "count": NUMBERS, "version": VERSIONS,
    "signup": DATES,
}


def _constraint(rng: random.Random) -> dict:
    op = rng.choice(["IN", "NOT_IN", "STR_CONTAINS", "STR_STARTS_WITH", "STR_ENDS_WITH", "NUM_EQ", "NUM_GT",
                     "NUM_GTE", "NUM_LT", "NUM_LTE", "DATE_AFTER", "DATE_BEFORE", "SEMVER_EQ", "SEMVER_GT",
                     "SEMVER_GTE", "SEMVER_LT", "SEMVER_LTE", "REGEX", "IN_CIDR", "BOGUS_OP"])
    c: dict = {"operator": op, "inverted": rng.random() < 0.25, "caseInsensitive": rng.random() < 0.3}
    if op.startswith("NUM"):
        c["contextName"] = rng.choice(["count", "userId", "missing"])
        c["value"] = rng.choice(NUMBERS[:8])
    elif op.startswith("DATE"):
        c["contextName"] = "currentTime"
        c["value"] = rng.choice(DATES[:4])
    elif op.startswith("SEMVER"):
        c["contextName"] = rng.choice(["version", "missing"])
        c["value"] = rng.choice(VERSIONS[:6] + ["2.0.0-alpha.2"])
    elif op == "REGEX":
        c["contextName"] = rng.choice(["userId", "appName", "tenant"])
        c["value"] = rng.choice(REGEXES)
    elif op == "IN_CIDR":
        c["contextName"] = "remoteAddress"
        c["values"] = rng.sample(CIDRS, rng.randint(1, 3))
    else:
        if op in ("IN", "NOT_IN"):
            c["caseInsensitive"] = False    # yggdrasil-engine 2.0.0 ignores it there; the spec does not
        c["contextName"] = rng.choice(["userId", "appName", "environment", "tenant", "plan", "missing"])
        pool = USER_IDS if c["contextName"] == "userId" else WORDS
        c["values"] = rng.sample(pool, rng.randint(0, 4))
    return c


def _variants(rng: random.Random, prefix: str, stickiness: str | None = None) -> list[dict]:
    out = []
    for i in range(rng.randint(0, 4)):
        v = {"name": f"{prefix}{i}", "weight": rng.choice([0, 1, 33, 50, 100, 250, 500] if i else [1, 33, 50, 100, 250, 500]),
             "payload": rng.choice([None, {"type": "string", "value": f"val{i}"}, {"type": "json", "value": "{\"a\":1}"}])}
        if v["payload"] is None:
            del v["payload"]
        if stickiness:
            v["stickiness"] = stickiness
        if rng.random() < 0.2:
            v["overrides"] = [{"contextName": rng.choice(["userId", "tenant"]), "values": rng.sample(USER_IDS[:10] + WORDS, 3)}]
        out.append(v)
    return out


def _strategy(rng: random.Random, feature: str, segment_ids: list[int]) -> dict:
    kind = rng.choice(["default", "userWithId", "flexibleRollout", "flexibleRollout", "gradualRolloutUserId",
                       "gradualRolloutSessionId", "gradualRolloutRandom", "remoteAddress", "unknownStrategy"])
    params: dict = {}
    if kind == "userWithId":
        params["userIds"] = ", ".join(rng.sample(USER_IDS, rng.randint(1, 6)))
    elif kind == "flexibleRollout":
        params["rollout"] = str(rng.choice([0, 1, 10, 25, 50, 75, 99, 100]))
        params["stickiness"] = rng.choice(["default", "userId", "sessionId", "tenant", "missingField"])
        # Always explicit: Unleash's engine hashes a parent's default groupId with the child's name
        # while evaluating a dependency (ours uses the parent's own name, as the SDKs do).
        params["groupId"] = rng.choice([feature, "grp", "other"])
    elif kind in ("gradualRolloutUserId", "gradualRolloutSessionId"):
        params["percentage"] = str(rng.choice([0, 5, 30, 50, 100]))
        params["groupId"] = rng.choice([feature, "grp", ""])
    elif kind == "gradualRolloutRandom":
        params["percentage"] = rng.choice(["0", "100"])
    elif kind == "remoteAddress":
        params["IPs"] = ", ".join(rng.sample(CIDRS + IPS, 3))
    s: dict = {"name": kind, "parameters": params,
               "constraints": [_constraint(rng) for _ in range(rng.choice([0, 0, 1, 1, 2, 3]))]}
    if segment_ids and rng.random() < 0.3:
        s["segments"] = rng.sample(segment_ids + [999], rng.randint(1, 2))
    if rng.random() < 0.3:
        s["variants"] = _variants(rng, "s", rng.choice([None, "userId", "tenant"]))
    return s


def random_state(rng: random.Random, n_features: int = 30) -> dict:
    """A client-API state with mixed strategies, constraints, segments, variants and dependencies."""
    segments = [{"id": i, "name": f"seg{i}", "constraints": [_constraint(rng) for _ in range(rng.randint(1, 2))]}
                for i in range(1, rng.randint(1, 5))]
    seg_ids = [s["id"] for s in segments]
    names = [f"f{i}" for i in range(n_features)]
    features = []
    for name in names:
        f: dict = {"name": name, "enabled": rng.random() < 0.85, "type": "release",
                   "strategies": [_strategy(rng, name, seg_ids) for _ in range(rng.choice([0, 1, 1, 2, 3]))],
                   "variants": _variants(rng, "v", rng.choice([None, None, "userId", "tenant", "default"]))}
        if rng.random() < 0.2:
            parent = rng.choice(names)
            dep: dict = {"feature": parent if rng.random() < 0.9 else "does-not-exist"}
            r = rng.random()
            if r < 0.3:
                dep["enabled"] = False
            elif r < 0.6:
                dep["variants"] = rng.sample(["v0", "v1", "s0", "disabled"], rng.randint(0, 2))
            f["dependencies"] = [dep]
        features.append(f)
    return {"version": 2, "features": features, "segments": segments}


def random_context(rng: random.Random) -> dict:
    """A context with a userId (so variant stickiness never falls back to random) and some fields."""
    ctx: dict = {"userId": rng.choice(USER_IDS), "currentTime": rng.choice(DATES[:4])}
    props: dict = {"tenant": rng.choice(WORDS)}      # variant stickiness field: always there
    for field in ("sessionId", "appName", "environment", "remoteAddress"):
        if rng.random() < 0.6:
            ctx[field] = rng.choice(FIELDS[field])
    for field in ("plan", "count", "version", "signup"):
        if rng.random() < 0.6:
            props[field] = rng.choice(FIELDS[field])
    if props:
        ctx["properties"] = props
    return ctx
