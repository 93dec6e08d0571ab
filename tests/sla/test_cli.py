"""`python -m core sla compute`: JSONL in, JSONL out, one answer per line even when some lines are bad."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_sla_compute_answers_every_line_in_order():
    good = {"id": "s1", "policy": {"first_response_minutes": 120, "resolution_minutes": 1440, "business_hours": True},
            "calendar": {"timezone": "Europe/Madrid",
                         "hours": {d: [["09:00", "14:00"], ["15:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
                         "holidays": ["2026-12-25"]},
            "events": [{"at": "2026-11-20T08:30:00Z", "type": "created"},
                       {"at": "2026-11-20T10:05:00Z", "type": "agent_reply"},
                       {"at": "2026-11-20T11:00:00Z", "type": "status", "status": "pending"},
                       {"at": "2026-11-23T09:00:00Z", "type": "customer_reply"}],
            "now": "2026-11-23T12:00:00Z"}
    bad_zone = {**good, "id": "s2", "calendar": {**good["calendar"], "timezone": "Nowhere/Land"}}
    before = {**good, "id": "s3", "events": [{"at": "2026-11-20T08:00:00Z", "type": "status", "status": "open"}]}
    lines = [json.dumps(good), json.dumps(bad_zone), "{not json", json.dumps(before), json.dumps({**good, "id": "s4"})]
    proc = subprocess.run([sys.executable, "-m", "core", "sla", "compute"], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["id"] for o in out] == ["s1", "s2", None, "s3", "s4"]
    # Fri 20 Nov: created 09:30 local, reply 11:05 local -> 95 min; resolution 09:30-12:00 (150, pending)
    # then Mon 23 10:00-13:00 local (180) = 330; 1110 left: Mon 240, Tue 480, Wed 09:00 + 390 -> 16:30 local.
    assert out[0] == {"id": "s1",
                      "first_response": {"elapsed_minutes": 95.0, "due_at": None, "stopped_at": "2026-11-20T10:05:00Z",
                                         "breached": False},
                      "resolution": {"elapsed_minutes": 330.0, "due_at": "2026-11-25T15:30:00Z", "paused": False,
                                     "remaining_minutes": 1110.0, "stopped_at": None, "breached": False}}
    assert "unknown time zone" in out[1]["error"]
    assert "not valid JSON" in out[2]["error"]
    assert "before the ticket was created" in out[3]["error"]
    assert out[4]["first_response"] == out[0]["first_response"]
