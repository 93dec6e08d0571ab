"""`python -m core bench flags` runs and both engines agree on its state (speed is not asserted here)."""

from __future__ import annotations


def test_bench_flags_runs_and_engines_agree(capsys):
    from core.cli import main

    assert main(["bench", "flags", "--evaluations", "500", "--no-unleash-client"]) == 0  # no venv to build here
    out = capsys.readouterr().out
    assert "core.flags.Client" in out
    if "yggdrasil-engine (UnleashClient's engine)" in out:
        line = next(l for l in out.splitlines() if l.startswith("agreement"))
        got, total = line.rsplit(" ", 1)[1].split("/")
        assert got == total
