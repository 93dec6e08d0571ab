"""The Backups page (AppTest through app.py): Back up now, restore into a scratch database, failure messages."""

from __future__ import annotations

import re

import pytest

from tests.backups.conftest import scalar, url_of

APP = "../../app.py"


@pytest.fixture
def page_as(db_url, seeded, make_user, tmp_path, monkeypatch):
    """Factory: page_as(role, targets) -> AppTest on the Backups page, logged in as a new user of that role
    (page=None: on the role's default page, where AppTest also shows the sidebar the app renders)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from core.config import get_settings

    def _make(role: str, targets: str, page: str | None = "pages/backups.py"):
        monkeypatch.setenv("BACKUP_TARGETS", targets)
        monkeypatch.setenv("AUTH_LOGIN_SLEEP", "0")
        get_settings.cache_clear()
        st.cache_data.clear()
        user = make_user(role)
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["authentication_status"] = True
        at.session_state["username"] = user.username
        at.session_state["name"] = user.name
        at.session_state["roles"] = [role]
        at.run()
        if page:
            at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    yield _make
    get_settings.cache_clear()


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def _seen(element) -> str:
    """An element's text as a person reads it (markdown escapes removed)."""
    return re.sub(r"\\(.)", r"\1", element.value)


def test_ops_backs_up_from_the_page_and_restores_into_a_scratch_database(page_as, tmp_path, db_url, scratch):
    at = page_as("ops", f"file://{tmp_path / 'b'}")
    assert at.title[0].value == "Backups"
    assert any("no backup stored yet" in _seen(w) for w in at.warning)

    _button(at, "Back up now").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("stored in 1 target(s) and verified in 1" in _seen(s) for s in at.success)
    backup_id = at.dataframe[1].value["id"][0]
    assert at.dataframe[1].value["status"][0] == "succeeded"
    assert at.dataframe[1].value["verification"][0] == "verified"

    into = scratch("page")
    form_box = next(t for t in at.text_input if t.label == "New database name")
    form_box.set_value(into)
    _button(at, "Restore and verify").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"Restored {backup_id} into {into}" in _seen(s) and "every check matches" in s.value
               for s in at.success)
    assert scalar(url_of(db_url, into), "SELECT count(*) FROM tickets") == 12
    assert not any("No restore yet" in _seen(i) for i in at.info)  # the list above shows it at once

    # The same name again, or the live database: a clear refusal, nothing touched.
    _button(at, "Restore and verify").click().run()
    assert any(f"database {into} already exists" in _seen(e) for e in at.error)
    assert not [s.value for s in at.success if "Restored" in s.value]  # the earlier restore's report is not shown as if it were this attempt's
    live = db_url.split("/")[3].split("?")[0]
    next(t for t in at.text_input if t.label == "New database name").set_value(live)
    _button(at, "Restore and verify").click().run()
    assert any("live database" in _seen(e) for e in at.error)
    assert scalar(db_url, "SELECT count(*) FROM tickets") == 12

    # A drill on demand, and verifying a stored backup again, from the page.
    _button(at, "Run a restore drill now").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"Drill of {backup_id}" in _seen(s) and "passed" in s.value for s in at.success), \
        [_seen(e) for e in at.error]
    next(b for b in at.selectbox if b.label == "Backup to verify").set_value(backup_id)
    _button(at, "Verify now").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"{backup_id}: every copy verified (1 target(s))." in _seen(s) for s in at.success)


def test_a_failing_target_is_named_on_the_page(page_as, tmp_path):
    (tmp_path / "f").write_text("x")
    at = page_as("ops", f"file://{tmp_path / 'ok'},file://{tmp_path / 'f'}/sub")
    _button(at, "Back up now").click().run()
    assert any("stored in 1 of 2 targets" in _seen(w) for w in at.warning)
    at.run()
    assert any(f"file://{tmp_path / 'f'}/sub: the last upload failed" in _seen(e) for e in at.error)


def test_a_copy_that_failed_verification_is_unhealthy_and_not_offered_for_restore(page_as, tmp_path, session,
                                                                                   make_user):
    from core.backups import service, storage

    folder = tmp_path / "b"
    at = page_as("ops", f"file://{folder}")
    _button(at, "Back up now").click().run()
    good = at.dataframe[1].value["id"][0]
    _button(at, "Back up now").click().run()
    bad = at.dataframe[1].value["id"][0]
    assert bad != good
    # Someone's disk flips a byte in the newest artifact; the next verification finds it.
    artifact = folder / f"{bad}.dump"
    artifact.write_bytes(artifact.read_bytes()[:-10] + b"0123456789")
    service.verify_backup(session=session, actor=make_user("ops"), backup_id=bad,
                          targets=storage.parse_targets(f"file://{folder}"))
    session.commit()

    import streamlit as st

    st.cache_data.clear()  # the page's reads are cached for 30 s: as if someone looks a minute later
    at.run()
    assert any("the newest copy failed verification" in _seen(e) and "checksum mismatch" in _seen(e) for e in at.error)
    assert at.dataframe[0].value["healthy"][0] == "no"
    assert at.dataframe[1].value["verification"][0] == "failed"
    for label in ("Backup", "Backup to recover from"):
        box = next(b for b in at.selectbox if b.label == label)
        assert good in box.options and bad not in box.options


def test_a_typed_database_name_is_shown_as_text_not_markup(page_as, tmp_path, db_url):
    at = page_as("ops", f"file://{tmp_path / 'b'}")
    _button(at, "Back up now").click().run()
    typed = "**x** [click](http://evil.example) <b>y</b>"
    next(t for t in at.text_input if t.label == "New database name").set_value(typed)
    _button(at, "Restore and verify").click().run()
    assert not at.exception, [e.value for e in at.exception]
    [error] = [e for e in at.error if "not a valid database name" in _seen(e)]
    assert typed in _seen(error)  # the person reads exactly what they typed...
    assert "**x**" not in error.value and "[click](" not in error.value and "<b>" not in error.value  # ...as text
    assert scalar(db_url, "SELECT count(*) FROM pg_database WHERE datname LIKE '%click%'") == 0


def test_an_s3_target_whose_endpoint_stopped_is_named_the_others_still_store_and_the_sidebar_says_so(
        page_as, tmp_path, moto_private, aws_env, session):
    import uuid

    import boto3
    import streamlit as st
    from sqlalchemy import select

    from core.backups import storage
    from core.backups.models import BackupCopy, CopyStatus

    bucket = f"ac-down-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=moto_private.url, region_name="us-east-1").create_bucket(Bucket=bucket)
    local, s3 = f"file://{tmp_path / 'local'}", f"s3://{bucket}/aftercare"
    at = page_as("ops", f"{local},{s3}?region=us-east-1&endpoint={moto_private.url}")
    _button(at, "Back up now").click().run()
    assert any("stored in 2 target(s) and verified in 2" in _seen(s) for s in at.success)

    moto_private.stop()  # the S3 endpoint goes away
    _button(at, "Back up now").click().run()
    assert not at.exception, [e.value for e in at.exception]
    [warning] = [w for w in at.warning if "stored in 1 of 2 targets" in _seen(w)]
    assert f"{s3}: cannot upload" in _seen(warning)
    backup_id = at.dataframe[1].value["id"][0]
    assert at.dataframe[1].value["status"][0] == "partial"
    copies = {c.target: c.status for c in session.scalars(select(BackupCopy).where(BackupCopy.backup_id == backup_id))}
    assert copies == {local: CopyStatus.UPLOADED, s3: CopyStatus.FAILED}
    assert backup_id in storage.parse_target(local).backup_ids()

    st.cache_data.clear()  # the page's reads are cached for 30 s: as if someone looks a minute later
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(_seen(e).startswith(f"{s3}: the last upload failed; it is retried on the next run") for e in at.error)
    assert not any(_seen(e).startswith(local) for e in at.error)

    # The sidebar's health panel, on every staff page (AppTest keeps the sidebar only on the page a session
    # lands on, so a second session looks at it there).
    home = page_as("ops", f"{local},{s3}?region=us-east-1&endpoint={moto_private.url}", page=None)
    assert [_seen(e) for e in home.sidebar.error if _seen(e).startswith("Storage")] == ["Storage: down"]
    assert any(_seen(c).startswith(f"{s3} unreachable: Could not connect to the endpoint URL")
               for c in home.sidebar.caption)
