"""Shared test helpers: binaries that must exist in CI, free ports, waiting for servers."""

from __future__ import annotations

import os
import shutil
import socket
import time

import pytest
import requests


def need_binary(name: str, *candidates: str) -> str:
    """Path of a binary; skip with the reason on a developer's machine, fail when CI=true."""
    for cand in (name, *candidates):
        path = shutil.which(cand) or (cand if os.path.isabs(cand) and os.path.exists(cand) else None)
        if path:
            return path
    msg = f"{name} is not installed (bash .ci/run installs it with apt-get)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg)
    pytest.skip(msg)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 20.0) -> None:
    """Poll url until it answers 200, or fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            r = requests.get(url, timeout=1)
            if r.status_code == 200:
                return
            last = r.status_code
        except requests.RequestException as exc:
            last = exc
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout}s: {last}")


def stop_group(proc, timeout: float = 30) -> None:
    """Stop a process started with start_new_session=True and everything it started, as Ctrl-C would
    (SIGINT to the group), killing the group if it has not stopped after timeout seconds."""
    import signal
    import subprocess

    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
