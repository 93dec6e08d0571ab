"""The CLI contract: backup run/list/verify/prune, restore ID --into, restore drill; non-zero on failure."""

from __future__ import annotations

import json

import pytest

from core.cli import main
from tests.backups.conftest import scalar, url_of


@pytest.fixture
def cli_env(db_url, target_spec, monkeypatch):
    from core.config import get_settings

    monkeypatch.setenv("BACKUP_TARGETS", target_spec)
    get_settings.cache_clear()
    yield target_spec
    get_settings.cache_clear()


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_backup_commands(cli_env, seeded, db_url, capsys, scratch, targets):
    code, out, _ = _run(capsys, "backup", "run")
    assert code == 0, out
    lines = out.splitlines()
    backup_id = lines[0].split()[1].rstrip(":")
    assert lines[0].endswith("succeeded")
    assert lines[1].startswith("size ") and "bytes" in lines[1]
    assert lines[2].startswith("sha256  ") and len(lines[2].split()[1]) == 64
    assert [ln.split(": ")[-1] for ln in lines[3:6]] == ["ok", "ok", "ok"]
    # `backup run` verifies every new copy, as the daily job does.
    assert [ln.split(": ", 1)[-1] for ln in lines[6:]] == ["ok (checksum and archive)"] * 3
    assert all(ln.startswith("verify  ") for ln in lines[6:])

    code, out, _ = _run(capsys, "backup", "list", "--json")
    rows = json.loads(out)
    assert code == 0 and rows[0]["id"] == backup_id and len(rows[0]["copies"]) == 3
    assert rows[0]["verification"] == "verified" and rows[0]["restorable"] is True

    code, out, _ = _run(capsys, "backup", "verify", backup_id)
    assert code == 0 and out.count("ok (checksum and archive)") == 3

    code, out, _ = _run(capsys, "backup", "prune", "--dry-run")
    assert code == 0 and "would delete 0" in out and "30 days, 8 weeks and 12 months" in out

    into = scratch("cli")
    code, out, _ = _run(capsys, "restore", backup_id, "--into", into)
    assert code == 0, out
    assert "verification: all checks match the manifest" in out and "ok  rows: tickets: expected 12, found 12" in out
    assert scalar(url_of(db_url, into), "SELECT count(*) FROM tickets") == 12

    code, _, err = _run(capsys, "restore", backup_id, "--into", into)
    assert code == 2 and f"database {into} already exists" in err
    code, _, err = _run(capsys, "restore", "20991231T000000Z-000000", "--into", scratch("cli"))
    assert code == 2 and "no backup with id 20991231T000000Z-000000" in err
    code, _, err = _run(capsys, "backup", "verify", "20991231T000000Z-000000")
    assert code == 2 and "no backup with id" in err

    code, out, _ = _run(capsys, "restore", "drill")
    assert code == 0 and "drill passed" in out

    # A corrupted copy: verify fails (exit 1) naming the checksum mismatch.
    artifact = targets[0].root / f"{backup_id}.dump"
    artifact.write_bytes(artifact.read_bytes()[:-10] + b"0123456789")
    code, out, _ = _run(capsys, "backup", "verify", backup_id)
    assert code == 1 and "checksum mismatch" in out


def test_backup_run_exits_non_zero_when_a_target_fails(db_url, tmp_path, monkeypatch, capsys):
    from core.config import get_settings

    (tmp_path / "f").write_text("x")
    monkeypatch.setenv("BACKUP_TARGETS", f"file://{tmp_path / 'ok'},file://{tmp_path / 'f'}/sub")
    get_settings.cache_clear()
    code, out, _ = _run(capsys, "backup", "run")
    get_settings.cache_clear()
    assert code == 1
    lines = out.splitlines()
    assert "partial" in lines[0] and "FAILED" in lines[-2]
    assert lines[-1] == f"verify  file://{tmp_path / 'ok'}: ok (checksum and archive)"  # only the stored copy


def test_restore_live_from_the_cli(cli_env, seeded, db_url, capsys, scratch, tmp_path):
    from core.backups import recover

    code, out, _ = _run(capsys, "backup", "run")
    backup_id = out.split()[1].rstrip(":")
    new_db = scratch("live")
    code, _, err = _run(capsys, "restore", backup_id, "--live", "--confirm", "nope", "--into", new_db,
                        "--state-dir", str(tmp_path))
    assert code == 2 and "type the backup id" in err
    code, out, err = _run(capsys, "restore", backup_id, "--live", "--confirm", backup_id, "--into", new_db,
                          "--state-dir", str(tmp_path))
    assert code == 0, err
    assert "1/4 stopping writes" in out and "taking a safety backup" in out
    assert f"the console now uses {new_db}" in out and "now read-only" in out
    assert recover.active_database(tmp_path)["database"] == new_db
    assert scalar(url_of(db_url, new_db), "SELECT count(*) FROM audit_log WHERE action = 'backup.recover'") == 1
    # The refused attempt and the recovery, both in the old database.
    assert scalar(db_url, "SELECT string_agg(details->>'ok', ',' ORDER BY id) FROM audit_log "
                          "WHERE action = 'backup.recover'") == "false,true"
