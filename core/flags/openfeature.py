"""An OpenFeature provider backed by `core.flags.Client` (openfeature-sdk).

    from openfeature import api
    from core.flags import Client
    from core.flags.openfeature import AftercareProvider

    api.set_provider(AftercareProvider(Client(environment="production")))
    of = api.get_client()
    of.get_boolean_value("new-checkout", False, EvaluationContext("user-42", {"plan": "pro"}))

Boolean flags answer `is_enabled`; string, number and object flags answer the variant's payload.
The OpenFeature targeting key becomes Unleash's `userId`; attributes named like Unleash's standard
context fields go to the top level, the others into `properties`.
"""

from __future__ import annotations

import json
from typing import Any

from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagResolutionDetails, Reason
from openfeature.provider import AbstractProvider, Metadata

from core.flags.client import Client
from core.flags.evaluator import STANDARD_CONTEXT_FIELDS


def unleash_context(ctx: EvaluationContext | None) -> dict:
    """An Unleash context from an OpenFeature evaluation context."""
    out: dict[str, Any] = {}
    if ctx is None:
        return out
    props: dict[str, str] = {}
    for key, value in (ctx.attributes or {}).items():
        if value is None:
            continue
        text = value if isinstance(value, str) else (value.isoformat() if hasattr(value, "isoformat") else str(value))
        if key in STANDARD_CONTEXT_FIELDS:
            out[key] = text
        else:
            props[key] = text
    if ctx.targeting_key:
        out.setdefault("userId", ctx.targeting_key)
    if props:
        out["properties"] = props
    return out


class AftercareProvider(AbstractProvider):
    """OpenFeature provider evaluating flags with an Aftercare flags Client."""

    def __init__(self, client: Client):
        super().__init__()
        self.client = client

    def get_metadata(self) -> Metadata:
        return Metadata(name="aftercare-flags")

    def shutdown(self) -> None:
        self.client.close()

    def _reason(self) -> Reason:
        return Reason.STALE if self.client.stale else Reason.TARGETING_MATCH

    def resolve_boolean_details(self, flag_key: str, default_value: bool,
                                evaluation_context: EvaluationContext | None = None) -> FlagResolutionDetails[bool]:
        if not self.client.has_flag(flag_key):
            return FlagResolutionDetails(default_value, ErrorCode.FLAG_NOT_FOUND, f"no flag {flag_key!r}", Reason.ERROR)
        ctx = unleash_context(evaluation_context)
        value = self.client.is_enabled(flag_key, ctx)
        return FlagResolutionDetails(value, reason=self._reason() if value else Reason.DISABLED,
                                     variant="on" if value else "off")

    def _payload(self, flag_key: str, default_value, evaluation_context, convert) -> FlagResolutionDetails:
        if not self.client.has_flag(flag_key):
            return FlagResolutionDetails(default_value, ErrorCode.FLAG_NOT_FOUND, f"no flag {flag_key!r}", Reason.ERROR)
        variant = self.client.get_variant(flag_key, unleash_context(evaluation_context))
        if not variant.get("enabled"):
            reason = Reason.DISABLED if not variant.get("feature_enabled") else Reason.DEFAULT
            return FlagResolutionDetails(default_value, reason=reason, variant=variant.get("name"))
        payload = variant.get("payload") or {}
        try:
            value = convert(payload.get("value"), payload.get("type"))
        except (TypeError, ValueError) as exc:
            return FlagResolutionDetails(default_value, ErrorCode.TYPE_MISMATCH, f"variant payload: {exc}",
                                         Reason.ERROR, variant=variant.get("name"))
        return FlagResolutionDetails(value, reason=self._reason(), variant=variant.get("name"))

    def resolve_string_details(self, flag_key: str, default_value: str,
                               evaluation_context: EvaluationContext | None = None) -> FlagResolutionDetails[str]:
        def conv(value, kind):
            if value is None:
                raise ValueError("the variant has no payload")
            return str(value)
        return self._payload(flag_key, default_value, evaluation_context, conv)

    def resolve_integer_details(self, flag_key: str, default_value: int,
                                evaluation_context: EvaluationContext | None = None) -> FlagResolutionDetails[int]:
        return self._payload(flag_key, default_value, evaluation_context, lambda v, k: int(str(v)))

    def resolve_float_details(self, flag_key: str, default_value: float,
                              evaluation_context: EvaluationContext | None = None) -> FlagResolutionDetails[float]:
        return self._payload(flag_key, default_value, evaluation_context, lambda v, k: float(str(v)))

    def resolve_object_details(self, flag_key: str, default_value,
                               evaluation_context: EvaluationContext | None = None) -> FlagResolutionDetails:
        def conv(value, kind):
            parsed = json.loads(value)
            if not isinstance(parsed, (dict, list)):
                raise ValueError("the payload is not a JSON object or list")
            return parsed
        return self._payload(flag_key, default_value, evaluation_context, conv)
