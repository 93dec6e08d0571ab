"""The Unleash client specification files in ../shared/unleash-spec pass, through the API and the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from core.flags.evaluator import check_spec, spec_counts

ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = ROOT.parent / "shared" / "unleash-spec"


def _spec_files() -> list[Path]:
    if not SPEC_DIR.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the Unleash specification folder {SPEC_DIR} is missing")
        pytest.skip(f"the Unleash specification folder {SPEC_DIR} is missing")
    return sorted(SPEC_DIR.glob("*.json"))


def test_every_specification_file_passes():
    files = _spec_files()
    assert files, f"no specification files in {SPEC_DIR}"
    failures = {}
    total = 0
    for path in files:
        spec = json.loads(path.read_text(encoding="utf-8"))
        total += spec_counts(spec)
        bad = check_spec(spec)
        if bad:
            failures[path.name] = bad
    assert not failures, failures
    assert total > 100


def test_cli_runs_spec_files_and_prints_the_summary(capsys):
    from core.cli import main

    files = _spec_files()
    rc = main(["flags", "spec", *map(str, files)])
    out = capsys.readouterr().out.strip().splitlines()
    assert rc == 0
    total = sum(spec_counts(json.loads(p.read_text(encoding="utf-8"))) for p in files)
    assert out[-1] == f"{total} passed, 0 failed"
    assert len(out) == len(files) + 1


def test_cli_reports_failures_and_exits_non_zero(tmp_path, capsys):
    from core.cli import main

    spec = {"name": "broken", "state": {"version": 1, "features": [{"name": "a", "enabled": True, "strategies": []}]},
            "tests": [{"description": "a is off (wrong on purpose)", "context": {}, "toggleName": "a", "expectedResult": False},
                      {"description": "a is on", "context": {}, "toggleName": "a", "expectedResult": True}]}
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(spec))
    rc = main(["flags", "spec", str(path)])
    out = capsys.readouterr().out
    assert rc != 0
    assert "a is off (wrong on purpose)" in out
    assert out.strip().splitlines()[-1] == "1 passed, 1 failed"
