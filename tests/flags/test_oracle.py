"""Differential test: our evaluator and Unleash's reference engine (yggdrasil-engine) agree on random states."""

from __future__ import annotations

import json
import random

import pytest

from core.flags.evaluator import Engine
from tests.flags.randomstate import random_context, random_state

yggdrasil = pytest.importorskip("yggdrasil_engine.engine", reason="yggdrasil-engine (requirements-dev.txt) is not installed")


def _theirs_variant(engine, name, ctx) -> dict:
    v = engine.get_variant(name, ctx).variant
    return {"name": v.name, "enabled": v.enabled, "feature_enabled": v.feature_enabled, "payload": v.payload or None}


@pytest.mark.parametrize("seed", range(12))
def test_same_answers_as_the_reference_engine(seed):
    rng = random.Random(seed)
    state = random_state(rng)
    ours = Engine(state)
    theirs = yggdrasil.UnleashEngine()
    theirs.take_state(json.dumps(state))
    mismatches = []
    for _ in range(300):
        ctx = random_context(rng)
        name = rng.choice(state["features"])["name"]
        a, b = ours.is_enabled(name, ctx), theirs.is_enabled(name, ctx).is_enabled
        if a != b:
            mismatches.append(("is_enabled", name, ctx, a, b))
        va = {"payload": None, **ours.get_variant(name, ctx)}
        vb = _theirs_variant(theirs, name, ctx)
        if va != vb:
            mismatches.append(("variant", name, ctx, va, vb))
    assert not mismatches, mismatches[:3]


def test_delta_events_reach_the_same_state_as_the_full_state():
    rng = random.Random(99)
    state = random_state(rng)
    events = [{"eventId": 1, "type": "hydration", "features": state["features"][:10], "segments": state["segments"]}]
    for i, f in enumerate(state["features"][10:], start=2):
        events.append({"eventId": i, "type": "feature-updated", "feature": f})
    events.append({"eventId": 1000, "type": "feature-removed", "featureName": "f0"})
    full = Engine({**state, "features": state["features"][1:]})
    delta = Engine({"events": events})
    assert delta.feature_names() == full.feature_names()
    for _ in range(300):
        ctx = random_context(rng)
        name = rng.choice(state["features"])["name"]
        assert delta.is_enabled(name, ctx) == full.is_enabled(name, ctx)
        assert delta.get_variant(name, ctx) == full.get_variant(name, ctx)
