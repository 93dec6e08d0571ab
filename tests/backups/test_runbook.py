"""docs/disaster-recovery.md: the CLI-only recovery steps, run as written against a lost database."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, pool, text

from core.backups import dump
from core.backups.models import RunTrigger
from tests.backups.conftest import url_of

ROOT = Path(__file__).resolve().parents[2]


def _blocks() -> list[str]:
    doc = (ROOT / "docs" / "disaster-recovery.md").read_text()
    section = doc.split("## Recovering with the CLI only", 1)[1].split("\n## ", 1)[0]
    return [re.sub(r"^\s{3}", "", b, flags=re.M) for b in re.findall(r"```bash\n(.*?)```", section, flags=re.S)]


def _run(block: str, env: dict, scratch_name: str) -> str:
    # Lines marked "# edit" are the operator's own values; the test provides them in env.
    script = "\n".join(ln for ln in block.replace("aftercare_restored", scratch_name).splitlines()
                       if not ln.rstrip().endswith("# edit"))
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, f"{script}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    return proc.stdout


def test_cli_only_recovery_steps_work_when_the_database_is_gone(db_url, pg_server_url, seeded, targets, target_spec,
                                                                scratch):
    blocks = _blocks()
    assert len(blocks) == 3
    backup = dump.run_backup(url=db_url, targets=targets, trigger=RunTrigger.SCHEDULED, actor="worker")
    assert backup.ok

    # The disaster: the console's database is gone.
    from core.db import reset_engines

    reset_engines()
    live = db_url.split("/")[3].split("?")[0]
    admin = create_engine(pg_server_url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{live}" WITH (FORCE)'))
    admin.dispose()

    new_db = scratch("runbook")
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
           "DATABASE_URL": db_url, "BACKUP_TARGETS": target_spec}
    assert "# edit" in blocks[0] and all(ln.rstrip().endswith("# edit") for ln in blocks[0].strip().splitlines())

    out = _run(blocks[1], env, new_db)
    assert backup.id in out
    assert f"restored {backup.id} from {targets[0].name} into {new_db}" in out
    assert "verification: all checks match the manifest" in out

    out = _run(blocks[2], {**env, "DATABASE_URL": url_of(db_url, new_db)}, new_db)
    assert "pending: none" in out
    assert re.search(r"backup \S+: succeeded", out)
    assert out.count("succeeded") >= 1
