"""`python -m core bench flags`: evaluations per second of core.flags.Client vs the UnleashClient package.

All evaluate the same 100-flag state (mixed strategies, constraints, segments, variants) on the same
contexts in the same run: core.flags.Client; the UnleashClient package itself, in its own virtualenv
(core/flags/bench_unleash.py: it pins platformdirs 3, which conflicts with the console's dependencies);
and yggdrasil-engine, the Rust engine UnleashClient evaluates through, in-process when installed.
`--no-unleash-client` skips the package (it needs PyPI the first time, to make its venv).
"""

from __future__ import annotations

import json
import random
import time

NAME = "flags"
HELP = "flag evaluations per second: core.flags.Client vs the UnleashClient package (and its engine)"


def add_arguments(p) -> None:
    p.add_argument("--flags", type=int, default=100, help="flags in the state (default 100)")
    p.add_argument("--evaluations", type=int, default=100_000, help="is_enabled calls per engine (default 100000)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--no-unleash-client", action="store_true",
                   help="skip the UnleashClient package (its venv under var/bench is made on first use)")


def bench_state(n: int, rng: random.Random) -> dict:
    """A realistic state: rollouts, user lists, constraints of every family, segments, variants."""
    segments = [
        {"id": 1, "name": "beta", "constraints": [{"contextName": "tenant", "operator": "IN", "values": [f"t{i}" for i in range(0, 40, 3)]}]},
        {"id": 2, "name": "eu", "constraints": [{"contextName": "region", "operator": "IN", "values": ["eu-west", "eu-central"]}]},
        {"id": 3, "name": "modern-app", "constraints": [{"contextName": "version", "operator": "SEMVER_GTE", "value": "2.0.0"}]},
    ]
    constraint_pool = [
        {"contextName": "plan", "operator": "IN", "values": ["pro", "enterprise"]},
        {"contextName": "plan", "operator": "NOT_IN", "values": ["free"]},
        {"contextName": "email", "operator": "STR_ENDS_WITH", "values": ["@example.com"], "caseInsensitive": True},
        {"contextName": "seats", "operator": "NUM_GTE", "value": "10"},
        {"contextName": "currentTime", "operator": "DATE_AFTER", "value": "2024-01-01T00:00:00.000Z"},
        {"contextName": "version", "operator": "SEMVER_LT", "value": "3.1.0"},
        {"contextName": "userId", "operator": "REGEX", "value": "^user-[0-9]*7$"},
        {"contextName": "remoteAddress", "operator": "IN_CIDR", "values": ["10.0.0.0/8"]},
        {"contextName": "region", "operator": "STR_STARTS_WITH", "values": ["eu"], "inverted": True},
    ]
    features = []
    for i in range(n):
        kind = i % 6
        strategies: list[dict] = []
        if kind == 0:
            strategies = [{"name": "default", "parameters": {}}]
        elif kind == 1:
            strategies = [{"name": "flexibleRollout", "parameters": {"rollout": str(rng.choice([5, 10, 25, 50])), "stickiness": "default", "groupId": f"flag-{i}"},
                           "constraints": [rng.choice(constraint_pool)]}]
        elif kind == 2:
            strategies = [{"name": "userWithId", "parameters": {"userIds": ",".join(f"user-{rng.randrange(5000)}" for _ in range(20))}},
                          {"name": "flexibleRollout", "parameters": {"rollout": "30", "stickiness": "userId", "groupId": f"flag-{i}"}, "segments": [1]}]
        elif kind == 3:
            strategies = [{"name": "default", "parameters": {}, "constraints": rng.sample(constraint_pool, 3)}]
        elif kind == 4:
            strategies = [{"name": "flexibleRollout", "parameters": {"rollout": "50", "stickiness": "tenant", "groupId": f"flag-{i}"},
                           "segments": [2, 3], "variants": [{"name": "a", "weight": 50}, {"name": "b", "weight": 50}]}]
        else:
            strategies = [{"name": "remoteAddress", "parameters": {"IPs": "192.168.0.0/16, 10.1.2.3"}},
                          {"name": "default", "parameters": {}, "constraints": [rng.choice(constraint_pool)]}]
        features.append({"name": f"flag-{i}", "enabled": rng.random() < 0.9, "type": "release", "strategies": strategies,
                         "variants": [{"name": "blue", "weight": 500, "stickiness": "default"},
                                      {"name": "green", "weight": 500, "stickiness": "default"}] if i % 4 == 0 else []})
    return {"version": 2, "features": features, "segments": segments}


def bench_contexts(n: int, rng: random.Random) -> list[dict]:
    out = []
    for i in range(n):
        out.append({
            "userId": f"user-{rng.randrange(100_000)}", "sessionId": f"s-{rng.randrange(10**6)}",
            "remoteAddress": rng.choice(["10.1.2.3", "192.168.4.5", "172.16.0.1"]),
            "currentTime": "2025-06-01T12:00:00.000Z",
            "properties": {"tenant": f"t{rng.randrange(60)}", "plan": rng.choice(["free", "pro", "enterprise"]),
                           "region": rng.choice(["eu-west", "us-east", "eu-central"]), "seats": str(rng.randrange(1, 50)),
                           "version": rng.choice(["1.9.0", "2.0.0", "2.4.1", "3.2.0"]),
                           "email": f"x{i}@{rng.choice(['example.com', 'EXAMPLE.COM', 'other.org'])}"},
        })
    return out


def _time(fn, names, contexts, n) -> float:
    k, m = len(names), len(contexts)
    start = time.perf_counter()
    for i in range(n):
        fn(names[i % k], contexts[i % m])
    return n / (time.perf_counter() - start)


def run(args) -> int:
    from core.flags.client import Client

    rng = random.Random(args.seed)
    state = bench_state(args.flags, rng)
    contexts = bench_contexts(2000, rng)
    names = [f["name"] for f in state["features"]]
    rng.shuffle(names)
    client = Client(state=state)
    ours = _time(client.is_enabled, names, contexts, args.evaluations)
    rows = [("core.flags.Client", ours)]
    try:
        from yggdrasil_engine.engine import UnleashEngine
    except ImportError:
        print("yggdrasil-engine is not installed (pip install yggdrasil-engine==2.0.0): only our numbers")
        theirs = None
    else:
        engine = UnleashEngine()
        engine.take_state(json.dumps(state))
        theirs = _time(lambda name, ctx: engine.is_enabled(name, ctx).is_enabled, names, contexts, args.evaluations)
        rows.append(("yggdrasil-engine (UnleashClient's engine)", theirs))
        agree = sum(client.is_enabled(n, c) == engine.is_enabled(n, c).is_enabled
                    for n, c in zip(names * 20, contexts))
        checked = min(len(names) * 20, len(contexts))
    package = None
    if not args.no_unleash_client:
        from core.flags import bench_unleash

        check = list(zip(names * 20, contexts))
        try:
            package = bench_unleash.evaluate(state, names, contexts, args.evaluations, check)
        except bench_unleash.Unavailable as exc:
            print(f"UnleashClient package skipped: {exc}")
        else:
            rows.insert(1, (f"UnleashClient {package['version']} (the package)", package["rate"]))
            package_agree = sum(client.is_enabled(n, c) == a for (n, c), a in zip(check, package["answers"]))
    print(f"{len(names)} flags, {len(contexts)} contexts, {args.evaluations} is_enabled calls each")
    print(f"{'engine':<44}{'evaluations/s':>16}")
    for label, rate in rows:
        print(f"{label:<44}{rate:>16,.0f}")
    if package:
        print(f"ratio: Client is {ours / package['rate']:.2f}x the UnleashClient package")
        print(f"agreement with the package on {len(package['answers'])} evaluations: "
              f"{package_agree}/{len(package['answers'])}")
    if theirs:
        print(f"ratio: Client is {ours / theirs:.2f}x the reference engine")
        print(f"agreement on {checked} evaluations: {agree}/{checked}")
    return 0
