"""Demo flags: a rollout in progress, an experiment with variants, a kill switch, targeting, history and a schedule."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session


def seed(*, session: Session, rng, now: datetime, days: int, tickets: int) -> None:
    """Create the demo flags as the ops user (or admin), with changes spread over the last weeks."""
    from core.auth.models import User
    from core.flags import service
    from core.flags.models import Flag, FlagVersion

    actor = (session.scalar(select(User).where(User.username == "ops"))
             or session.scalar(select(User).where(User.role == "admin").order_by(User.id)))
    if actor is None or session.scalar(select(Flag.id).limit(1)) is not None:
        return
    ent = service.save_segment(session=session, actor=actor, name="enterprise-accounts", reason="demo",
                               description="Accounts on the enterprise plan",
                               constraints=[{"contextName": "plan", "operator": "IN", "values": ["enterprise"]}])
    service.save_segment(session=session, actor=actor, name="eu-tenants", reason="demo", description="EU data residency",
                         constraints=[{"contextName": "region", "operator": "STR_STARTS_WITH", "values": ["eu-"]}])
    default = [{"name": "default", "parameters": {}, "constraints": []}]
    specs = [
        ("new-checkout", "release", "The redesigned checkout flow", 9, {
            "environments": {"development": {"enabled": True, "strategies": default},
                             "production": {"enabled": True, "strategies": [
                                 {"name": "flexibleRollout", "parameters": {"rollout": "25", "stickiness": "userId", "groupId": "new-checkout"},
                                  "constraints": []}]}}}),
        ("new-checkout-upsell", "experiment", "Upsell step inside the new checkout", 20, {
            "dependencies": [{"feature": "new-checkout"}],
            "variants": [{"name": "annual-discount", "weight": 50, "stickiness": "default", "payload": {"type": "string", "value": "20% off yearly"}},
                         {"name": "seat-bundle", "weight": 50, "stickiness": "default", "payload": {"type": "string", "value": "5 seats free"}}],
            "environments": {"development": {"enabled": True, "strategies": default},
                             "production": {"enabled": True, "strategies": default}}}),
        ("ai-reply-suggestions", "experiment", "LLM-drafted replies for agents", 55, {
            "variants": [{"name": "control", "weight": 50, "stickiness": "default"},
                         {"name": "drafts", "weight": 50, "stickiness": "default", "payload": {"type": "json", "value": "{\"model\": \"small\"}"}}],
            "environments": {"development": {"enabled": True, "strategies": default},
                             "production": {"enabled": True, "strategies": [
                                 {"name": "default", "parameters": {}, "constraints": [
                                     {"contextName": "plan", "operator": "IN", "values": ["pro", "enterprise"]}]}]}}}),
        ("maintenance-banner", "operational", "Show the maintenance banner in the portal", 12, {}),
        ("kill-llm-classifier", "kill-switch", "Turn off LLM ticket categorisation (fall back to the local model)", 90, {}),
        ("bulk-export-api", "permission", "Bulk export API for selected accounts", 30, {
            "environments": {"production": {"enabled": True, "strategies": [
                {"name": "userWithId", "parameters": {"userIds": "acme-admin, globex-ops"}, "constraints": []},
                {"name": "default", "parameters": {}, "constraints": [], "segments": [ent.id]}]}}}),
        ("dark-mode", "release", "Dark theme for the customer portal", 3, {
            "environments": {"development": {"enabled": True, "strategies": default}}}),
    ]
    for name, kind, description, age_days, definition in specs:
        service.create_flag(session=session, actor=actor, name=name, flag_type=kind, description=description,
                            reason="demo: planned in the quarterly roadmap", definition=definition or None)
    service.set_rollout(session=session, actor=actor, name="new-checkout", environment="production", percentage=10,
                        reason="demo: start small")
    service.set_rollout(session=session, actor=actor, name="new-checkout", environment="production", percentage=25,
                        reason="demo: error rate flat, ramping up")
    service.toggle(session=session, actor=actor, name="maintenance-banner", environment="production", enabled=True,
                   reason="demo: database upgrade window")
    service.toggle(session=session, actor=actor, name="maintenance-banner", environment="production", enabled=False,
                   reason="demo: upgrade finished")
    service.schedule_change(session=session, actor=actor, name="new-checkout", environment="production",
                            action="set_rollout", rollout=50, run_at=now + timedelta(days=2), reason="demo: next ramp step",
                            now=now)
    # Spread the history over the past weeks so the stale markers and the history read naturally.
    for name, _kind, _d, age_days, _def in specs:
        flag = session.scalar(select(Flag).where(Flag.name == name))
        versions = list(session.scalars(select(FlagVersion).where(FlagVersion.flag_id == flag.id).order_by(FlagVersion.version)))
        for i, v in enumerate(versions):
            v.created_at = now - timedelta(days=age_days) + timedelta(hours=i * 6)
        flag.created_at = versions[0].created_at
        flag.updated_at = versions[-1].created_at
    session.flush()
