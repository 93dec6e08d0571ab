"""Evaluator semantics from the parts of the Unleash client specification not in ../shared/unleash-spec
(remote address, multiple and grouped strategies, constraint edge cases, custom stickiness, semver,
segments, case-insensitive IN, strategy variants, dependent features, UTF-8 names, delta API, regex, CIDR)."""

from __future__ import annotations

import pytest

from core.flags.evaluator import Engine, RegexError, compile_regex, normalized_hash


def F(name, strategies=None, **kw):
    return {"name": name, "enabled": kw.pop("enabled", True), "strategies": strategies or [], **kw}


def S(name="default", constraints=None, **kw):
    return {"name": name, "parameters": kw.pop("parameters", {}), "constraints": constraints or [], **kw}


def C(context, op, value=None, values=None, **kw):
    c = {"contextName": context, "operator": op, **kw}
    if value is not None:
        c["value"] = value
    if values is not None:
        c["values"] = values
    return c


def on(features, name, ctx=None, segments=()):
    return Engine({"version": 2, "features": features, "segments": list(segments)}).is_enabled(name, ctx or {})


def test_hash_is_murmur3_unsigned_normalised():
    assert 1 <= normalized_hash("123", "gr1") <= 100
    assert normalized_hash("123", "gr1") == normalized_hash("123", "gr1")
    assert normalized_hash("a", "b", 1000, 86028157) != normalized_hash("a", "b", 1000, 0)


def test_remote_address_with_lists_cidr_and_invalid_entries():
    f = [F("a", [S("remoteAddress", parameters={"IPs": "192.168.0.1, 192.invalid, 10.0.0.0/8"})])]
    assert on(f, "a", {"remoteAddress": "192.168.0.1"})
    assert on(f, "a", {"remoteAddress": "10.1.2.3"})
    assert not on(f, "a", {"remoteAddress": "217.100.10.11"})
    assert not on(f, "a", {})


def test_any_strategy_enables_and_unknown_strategies_do_not():
    f = [F("a", [S("gradualRolloutRandom", parameters={"percentage": "0"}), S("userWithId", parameters={"userIds": "123, 7"})]),
         F("b", [S("someCustomStrategy")]), F("c", [])]
    assert on(f, "a", {"userId": "7"}) and not on(f, "a", {"userId": "8"})
    assert not on(f, "b") and on(f, "c")


def test_grouped_strategies_and_or():
    group = lambda op, *g: {"name": "__internal-strategy-group", "operator": op, "group": list(g)}
    off = S("gradualRolloutRandom", parameters={"percentage": "0"})
    f = [F("and", [group("AND", S(), off)]), F("or", [group("OR", off, S())])]
    assert not on(f, "and") and on(f, "or")


def test_constraint_edge_cases_empty_values():
    f = [F("in", [S(constraints=[C("environment", "IN", values=[])])]),
         F("notin", [S(constraints=[C("environment", "NOT_IN", values=[])])])]
    assert not on(f, "in", {"environment": "default"})
    assert on(f, "notin", {}) and on(f, "notin", {"environment": "default"})


def test_custom_stickiness_rollout_and_variants():
    colours = [{"name": c, "weight": 25, "stickiness": "customField", "payload": {"type": "string", "value": "val1"}}
               for c in ("blue", "red", "green", "yellow")]
    f = [F("v", [S("flexibleRollout", parameters={"rollout": "100", "stickiness": "customField", "groupId": "Feature.flexible.rollout.custom.stickiness_100"})],
           variants=colours),
         F("half", [S("flexibleRollout", parameters={"rollout": "50", "stickiness": "customField", "groupId": "Feature.flexible.rollout.custom.stickiness_50"})])]
    f[0]["name"] = "Feature.flexible.rollout.custom.stickiness_100"
    e = Engine({"version": 1, "features": f})
    # Variants hash with seed 86028157 (as 08-variants and Unleash's engine do); older copies of
    # 12-custom-stickiness list colours computed with seed 0.
    for value, colour in [("528", "green"), ("16", "red"), ("198", "yellow"), ("43", "green"), ("112", "red")]:
        assert e.get_variant(f[0]["name"], {"customField": value})["name"] == colour
        assert e.get_variant(f[0]["name"], {"properties": {"customField": value}})["name"] == colour
    assert not e.is_enabled("half", {}) and not e.is_enabled("half", {"customField": "402"})
    assert e.is_enabled("half", {"customField": "388"}) and e.is_enabled("half", {"customField": "39"})


@pytest.mark.parametrize("op,target,version,expected", [
    ("SEMVER_EQ", "1.2.2", "1.2.2+metadata", True), ("SEMVER_GT", "1.2.2", "1.2.2+metadata", False),
    ("SEMVER_GT", "2.0.0-alpha.1", "2.0.0-beta.1", True), ("SEMVER_LT", "2.0.0-alpha.1", "1.9.1-beta.1", True),
    ("SEMVER_LT", "2.0.0-alpha.3", "2.0.0-alpha.1", True), ("SEMVER_GT", "2.0.0-alpha", "2.0.0-alpha.1", True),
    ("SEMVER_GT", "2.0.0-rc", "2.0.0", True), ("SEMVER_EQ", "v2.0.0", "2.0.0", False),
    ("SEMVER_GTE", "1.2.2", "1.2.2", True), ("SEMVER_LTE", "1.2.2", "1.2.3", False),
    ("SEMVER_LT", "2.0.0-alpha.10", "2.0.0-alpha.2", True),
])
def test_semver_operators(op, target, version, expected):
    f = [F("a", [S(constraints=[C("version", op, value=target)])])]
    assert on(f, "a", {"properties": {"version": version}}) is expected


def test_segments_and_missing_segments():
    segs = [{"id": 1, "constraints": [C("version", "SEMVER_EQ", value="1.2.2")]},
            {"id": 4, "constraints": [C("customName", "STR_CONTAINS", values=["Pi"])]}]
    f = [F("on", [S(segments=[1, 4], constraints=[C("customNumber", "NUM_LT", value="10")])]),
         F("missing", [S(segments=[3])])]
    ctx = {"properties": {"version": "1.2.2", "customNumber": "3.14", "customName": "Pie"}}
    assert on(f, "on", ctx, segs)
    assert not on(f, "on", {"properties": {"version": "1.2.3", "customNumber": "3", "customName": "Pie"}}, segs)
    assert not on(f, "missing", ctx, segs)


def test_case_insensitive_in_and_not_in():
    vals = ["app", "app2-ios-[v1]"]
    f = [F("in", [S(constraints=[C("appName", "IN", values=vals, caseInsensitive=True)])]),
         F("notin", [S(constraints=[C("appName", "NOT_IN", values=vals, caseInsensitive=True)])]),
         F("notinv", [S(constraints=[C("appName", "NOT_IN", values=vals, caseInsensitive=True, inverted=True)])])]
    assert on(f, "in", {"properties": {"appName": "App2-iOS-[v1]"}})
    assert not on(f, "notin", {"properties": {"appName": "APP"}})
    assert on(f, "notinv", {"properties": {"appName": "APP2-IOS-[V1]"}})


def test_strategy_variants_win_over_flag_variants_and_fall_back():
    sv = [{"name": "variantNameA", "weight": 1, "payload": {"type": "string", "value": "variantValueA"}},
          {"name": "variantNameB", "weight": 1, "payload": {"type": "string", "value": "variantValueB"}}]
    rollout = {"rollout": "100", "stickiness": "default", "groupId": "a"}
    f = [F("multi", [S("flexibleRollout", parameters=rollout, variants=sv)]),
         F("fallback", [S("flexibleRollout", parameters=rollout)], variants=[{"name": "featureVariant", "weight": 1}]),
         F("empty", [S("flexibleRollout", parameters=rollout, variants=[])])]
    e = Engine({"version": 1, "features": f})
    assert e.get_variant("multi", {"userId": "5"})["name"] == "variantNameA"
    assert e.get_variant("multi", {"userId": "0"})["name"] == "variantNameB"
    assert e.get_variant("fallback", {})["name"] == "featureVariant"
    assert e.get_variant("empty", {}) == {"name": "disabled", "enabled": False, "feature_enabled": True}


def test_dependent_features():
    rollout = {"rollout": "100", "stickiness": "default", "groupId": "g"}
    pv = [{"name": "parent.variant", "weight": 1}]
    f = [F("p.on", [S()]), F("p.off", [S()], enabled=False),
         F("p.var", [S("flexibleRollout", parameters=rollout, variants=pv)]),
         F("c1", [S()], dependencies=[{"feature": "p.on"}]),
         F("c2", [S()], dependencies=[{"feature": "p.off"}]),
         F("c3", [S()], dependencies=[{"feature": "p.off", "enabled": False}]),
         F("c4", [S()], dependencies=[{"feature": "p.var", "variants": ["parent.variant"]}]),
         F("c5", [S()], dependencies=[{"feature": "p.var", "variants": ["nope"]}]),
         F("c6", [S()], dependencies=[{"feature": "nope"}]),
         F("c7", [S()], dependencies=[{"feature": "c1"}]),
         F("c8", [S()], dependencies=[{"feature": "p.on", "variants": ["disabled"]}])]
    got = {n: on(f, n) for n in ("c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8")}
    assert got == {"c1": True, "c2": False, "c3": True, "c4": True, "c5": False, "c6": False, "c7": False, "c8": True}
    assert Engine({"version": 1, "features": f}).get_variant("c2", {})["name"] == "disabled"


def test_utf8_names_and_delta_events():
    e = Engine({"version": 1, "features": [F("Feature.UTF-8.😊_φriend_你好_🌍", [S()])]})
    assert e.is_enabled("Feature.UTF-8.😊_φriend_你好_🌍")
    seg = {"id": 1, "constraints": [C("appName", "IN", values=["abc"])]}
    e = Engine({"events": [
        {"eventId": 1, "type": "hydration", "segments": [seg], "features": [F("h", [S("flexibleRollout", parameters={"rollout": "100"})])]},
        {"eventId": 2, "type": "feature-updated", "feature": F("u2", [S()])},
        {"eventId": 3, "type": "feature-removed", "featureName": "u2"},
        {"eventId": 4, "type": "feature-updated", "feature": F("u3", [S(segments=[1])])},
    ]})
    assert e.is_enabled("h", {"appName": "abc"})
    assert not e.is_enabled("u2") and e.is_enabled("u3", {"appName": "abc"}) and not e.is_enabled("u3", {"appName": "x"})
    e.apply_events([{"eventId": 5, "type": "segment-removed", "segmentId": 1}])
    assert not e.is_enabled("u3", {"appName": "abc"})


@pytest.mark.parametrize("pattern,value,expected", [
    ("^[^@]+@[^@]+$", "test@example.com", True), ("^user\\d{3}$", "user12", False),
    ("^[[:alpha:]]+$", "AlphaBeta", True), ("^[[:alpha:]]+$", "Alpha1", False),
    ("\\bcat\\b", "a cat b", True), ("\\bcat\\b", "concatenate", False), ("^(foo|fo)$", "fo", True),
    ("^(ab)?c$", "ac", False), ("^a{2,4}$", "aaaaa", False), ("^a.*?b$", "a___b___b", True),
    ("^(?i)abc$", "AbC", True), ("^(?i)abc$", "zAbCz", False), ("(?m)^foo$", "x\nfoo\ny", True),
    ("^(?s)a.b$", "a\nb", True), ("(regex", "any", False), ("^(?=a)b$", "ab", False), ("^(a)\\1$", "aa", False),
])
def test_regex_operator_follows_re2(pattern, value, expected):
    f = [F("r", [S(constraints=[C("userId", "REGEX", value=pattern)])])]
    assert on(f, "r", {"userId": value}) is expected


def test_regex_case_insensitive_inverted_and_missing_values():
    f = [F("ci", [S(constraints=[C("userId", "REGEX", value="^abc$", caseInsensitive=True)])]),
         F("inv", [S(constraints=[C("userId", "REGEX", value="^abc$", inverted=True)])]),
         F("prop", [S(constraints=[C("nested", "REGEX", value="^[^@]+@[^@]+$")])])]
    assert on(f, "ci", {"userId": "AbC"}) and on(f, "inv", {"userId": "xyz"}) and not on(f, "inv", {"userId": "abc"})
    assert not on(f, "prop", {"properties": {"nested": None}}) and on(f, "prop", {"properties": {"nested": "a@b"}})
    with pytest.raises(RegexError):
        compile_regex("^(?=a)b$")


@pytest.mark.parametrize("values,address,expected", [
    (["127.0.0.1"], "127.0.0.1", True), (["127.0.0.1"], "127.0.0.2", False), (["160.33.0.0/16"], "160.33.0.33", True),
    (["160.33.0.0/16"], "160.34.0.1", False), (["127.invalid", "192.168.1.0/24"], "192.168.1.42", True),
    (["127.invalid"], "127.0.0.1", False), (["2001:db8::/32"], "2001:db8:0:1::42", True), (["2001:db8::/32"], "2001:db9::1", False),
    (["bad::cidr", "2001:db8::/32"], "2001:db8::abcd", True), (["160.33.0.0/16"], None, False),
])
def test_in_cidr(values, address, expected):
    f = [F("c", [S(constraints=[C("remoteAddress", "IN_CIDR", values=values)])])]
    assert on(f, "c", {"remoteAddress": address} if address else {}) is expected


def test_rollout_of_ten_percent_is_sticky_and_close_to_ten_percent():
    f = [F("ten", [S("flexibleRollout", parameters={"rollout": "10", "stickiness": "userId", "groupId": "ten"})])]
    e1 = Engine({"version": 1, "features": f})
    on1 = {i for i in range(100_000) if e1.is_enabled("ten", {"userId": str(i)})}
    assert 9_500 <= len(on1) <= 10_500
    e2 = Engine({"version": 1, "features": f})
    assert on1 == {i for i in range(100_000) if e2.is_enabled("ten", {"userId": str(i)})}
