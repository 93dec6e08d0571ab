"""Alertmanager v2 API: alerts (with silenced and inhibited state) and silences, validated before sending."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import requests

from core.config import get_settings
from core.monitoring.errors import AlertmanagerUnavailable, QueryError, mark_down, mark_up, recent_failure, short_reason

LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
MATCHER = re.compile(r"^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")
MAX_SILENCE = timedelta(days=30)


class SilenceError(ValueError):
    """A silence that may not be created as given (the message says why)."""


@dataclass(frozen=True)
class Matcher:
    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True

    @property
    def op(self) -> str:
        return {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}[(self.is_regex, self.is_equal)]

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'

    def api(self) -> dict:
        return {"name": self.name, "value": self.value, "isRegex": self.is_regex, "isEqual": self.is_equal}


def parse_matchers(text: str) -> list[Matcher]:
    """Parse `name=value, name=~regex, name!=value` (one per comma or line) into validated matchers."""
    matchers = []
    for raw in re.split(r"[,\n]", text or ""):
        if not raw.strip():
            continue
        m = MATCHER.match(raw)
        if not m:
            raise SilenceError(f"cannot read matcher {raw.strip()!r}: write name=value, name!=value, name=~regex or name!~regex")
        name, op, value = m.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        matchers.append(Matcher(name, value, is_regex=op in ("=~", "!~"), is_equal=op in ("=", "=~")))
    return validate_matchers(matchers)


def validate_matchers(matchers: list[Matcher]) -> list[Matcher]:
    """Refuse no matchers, bad label names, regexes that do not compile, and matchers that match everything."""
    if not matchers:
        raise SilenceError("a silence needs at least one matcher (for example alertname=HighErrorRate)")
    for m in matchers:
        if not LABEL_NAME.match(m.name):
            raise SilenceError(f"{m.name!r} is not a valid label name")
        if m.is_regex:
            try:
                re.compile(m.value)
            except re.error as exc:
                raise SilenceError(f"the regex in {m} does not compile: {exc}") from None
    if not any(_matches_nonempty(m) for m in matchers):
        # Alertmanager's own rule: at least one matcher must not match the empty string.
        raise SilenceError("at least one matcher must not match an empty value (a silence on everything is refused)")
    return matchers


def _matches_nonempty(m: Matcher) -> bool:
    if m.is_regex:
        hit = re.fullmatch(m.value, "") is not None
    else:
        hit = m.value == ""
    return not hit if m.is_equal else hit


@dataclass(frozen=True)
class SilenceRequest:
    matchers: list[Matcher]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str


def build_silence(*, matchers: list[Matcher] | str, created_by: str, comment: str, duration: timedelta | None = None,
                  starts_at: datetime | None = None, ends_at: datetime | None = None,
                  now: datetime | None = None) -> SilenceRequest:
    """Validate a silence (matchers, times, author, comment) without sending anything."""
    ms = parse_matchers(matchers) if isinstance(matchers, str) else validate_matchers(list(matchers))
    now = now or datetime.now(timezone.utc)
    start = _aware(starts_at) if starts_at else now
    if ends_at is None:
        if duration is None:
            raise SilenceError("give a duration or an end time")
        if duration <= timedelta(0):
            raise SilenceError("the duration must be positive")
        end = start + duration
    else:
        end = _aware(ends_at)
    if end <= start:
        raise SilenceError(f"the end ({end:%Y-%m-%d %H:%M} UTC) must be after the start ({start:%Y-%m-%d %H:%M} UTC)")
    if end <= now:
        raise SilenceError("the silence would already be over: its end is in the past")
    if end - start > MAX_SILENCE:
        raise SilenceError("a silence may last at most 30 days")
    if not (created_by or "").strip():
        raise SilenceError("a silence needs an author")
    if not (comment or "").strip():
        raise SilenceError("a silence needs a comment saying why")
    if len(comment) > 1000:
        raise SilenceError("the comment is too long (1000 characters at most)")
    return SilenceRequest(ms, start, end, created_by.strip(), comment.strip())


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _ts(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class Alertmanager:
    """An Alertmanager v2 API client whose every call fails fast with AlertmanagerUnavailable."""

    def __init__(self, url: str | None = None, *, timeout: float | None = None):
        settings = get_settings()
        self.url = (url or settings.alertmanager_url).rstrip("/")
        self.timeout = timeout if timeout is not None else min(settings.http_timeout_seconds, 3.0)

    def _request(self, method: str, path: str, **kw):
        recent = recent_failure(self.url)
        if recent:
            raise AlertmanagerUnavailable(url=self.url, since=recent[0], reason=recent[1])
        try:
            r = requests.request(method, f"{self.url}/api/v2{path}", timeout=self.timeout, **kw)
        except requests.RequestException as exc:
            reason = short_reason(exc)
            raise AlertmanagerUnavailable(url=self.url, since=mark_down(self.url, reason), reason=reason) from exc
        mark_up(self.url)
        if r.status_code >= 400:
            text = r.text.strip().strip('"')
            raise QueryError(f"Alertmanager refused the request (HTTP {r.status_code}): {text[:300]}")
        return r.json() if r.content else None

    def status(self) -> dict:
        """Alertmanager's /api/v2/status (version, uptime, config)."""
        return self._request("GET", "/status")

    def alerts(self, *, include_silenced: bool = True, include_inhibited: bool = True) -> list[dict]:
        """Alerts Alertmanager holds now, with their state (active, suppressed) and what suppresses them."""
        raw = self._request("GET", "/alerts", params={"active": "true", "silenced": str(include_silenced).lower(),
                                                       "inhibited": str(include_inhibited).lower(),
                                                       "unprocessed": "true"})
        out = []
        for a in raw or []:
            labels = a.get("labels", {})
            st = a.get("status", {})
            state = st.get("state", "")
            if st.get("silencedBy"):
                state = "silenced"
            elif st.get("inhibitedBy"):
                state = "inhibited"
            out.append({
                "alertname": labels.get("alertname", ""),
                "severity": labels.get("severity", ""),
                "service": labels.get("service", ""),
                "state": state,
                "starts_at": _ts(a.get("startsAt")),
                "summary": a.get("annotations", {}).get("summary", ""),
                "runbook": a.get("annotations", {}).get("runbook", ""),
                "silenced_by": list(st.get("silencedBy") or []),
                "inhibited_by": list(st.get("inhibitedBy") or []),
                "receivers": [r.get("name") for r in a.get("receivers", [])],
                "labels": labels,
                "fingerprint": a.get("fingerprint", ""),
            })
        out.sort(key=lambda a: ({"critical": 0, "warning": 1}.get(a["severity"], 2), a["alertname"]))
        return out

    def silences(self, *, include_expired: bool = True) -> list[dict]:
        """Silences, active and pending first, then expired (newest first)."""
        raw = self._request("GET", "/silences")
        out = []
        for s in raw or []:
            state = s.get("status", {}).get("state", "")
            if state == "expired" and not include_expired:
                continue
            ms = [Matcher(m["name"], m["value"], m.get("isRegex", False), m.get("isEqual", True)) for m in s.get("matchers", [])]
            out.append({"id": s["id"], "state": state, "matchers": ", ".join(str(m) for m in ms),
                        "starts_at": _ts(s.get("startsAt")), "ends_at": _ts(s.get("endsAt")),
                        "created_by": s.get("createdBy", ""), "comment": s.get("comment", "")})
        order = {"active": 0, "pending": 1, "expired": 2}
        out.sort(key=lambda s: (order.get(s["state"], 3), -(s["starts_at"].timestamp() if s["starts_at"] else 0)))
        return out

    def create_silence(self, req: SilenceRequest) -> str:
        """Send a validated silence; return its id."""
        body = {"matchers": [m.api() for m in req.matchers],
                "startsAt": req.starts_at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
                "endsAt": req.ends_at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
                "createdBy": req.created_by, "comment": req.comment}
        data = self._request("POST", "/silences", json=body)
        return data["silenceID"]

    def expire_silence(self, silence_id: str) -> None:
        """Expire a silence now."""
        if not re.fullmatch(r"[0-9a-fA-F-]{8,64}", silence_id or ""):
            raise SilenceError(f"{silence_id!r} is not a silence id")
        self._request("DELETE", f"/silence/{silence_id}")

