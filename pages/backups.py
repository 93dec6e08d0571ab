"""Backups: freshness per target, sizes, presence, verification, drills, Back up now, restore, recovery, retention."""

from datetime import datetime, timezone

import pandas as pd
import plotly.express as px
import streamlit as st

from core.auth.roles import Permission, has_permission
from core.backups import service
from core.backups.queries import STALE_HOURS
from core.backups.retention import Policy
from core.db import session_scope
from core.ui import backups as data
from core.ui.context import flash, page_user, show_flash
from core.ui.widgets import md_escape as esc, when  # every name, id and error below is shown as text, never markup

user = page_user(Permission.VIEW_BACKUPS)
may_run = has_permission(user.role, Permission.RUN_BACKUP)
may_restore = has_permission(user.role, Permission.RESTORE)

st.title("Backups")
st.caption(f"pg_dump archives with sha256 and a manifest, stored in every target of BACKUP_TARGETS and verified "
           f"after each run; a target is healthy when its newest copy that has not failed verification is younger "
           f"than {STALE_HOURS} hours.")
show_flash()


def _call(failed: str, action):
    """One service call in its own transaction; on an error, say so after `failed` and return None (the
    transaction rolled back, so nothing was changed)."""
    try:
        with session_scope() as s:
            return action(s)
    except Exception as exc:  # shown to the operator; a run's details are also in its history row
        st.error(f"{failed}: {esc(exc)}")
        return None


names, target_error = data.target_names()
if target_error:
    st.error(f"Backup targets are misconfigured: {esc(target_error)}")

# --- per target: last success and its age ------------------------------------------------------
st.subheader("Targets")
fresh = data.freshness(tuple(names))
for row in fresh:
    if row["problem"] == "verification":
        st.error(f"{esc(row['target'])}: the newest copy failed verification and does not count as a backup; take a "
                 f"new backup (Back up now). {esc(row['last_error'])}", icon=":material/gpp_bad:")
    elif row["last_error"]:
        st.error(f"{esc(row['target'])}: the last upload failed; it is retried on the next run. "
                 f"Error: {esc(row['last_error'])}", icon=":material/cloud_off:")
    elif row["last_success"] is None:
        st.warning(f"{esc(row['target'])}: no backup stored yet.")
    elif row["age_hours"] > STALE_HOURS:
        st.error(f"{esc(row['target'])}: the newest backup is {row['age_hours']:.1f} hours old "
                 f"(over the {STALE_HOURS}-hour threshold).")
if fresh:
    st.dataframe(pd.DataFrame([{
        "target": r["target"], "healthy": "yes" if r["ok"] else "no", "last success (UTC)": r["last_success"],
        "age (hours)": None if r["age_hours"] is None else round(r["age_hours"], 1),
    } for r in fresh]), hide_index=True, width="stretch", column_config={"last success (UTC)": when("last success (UTC)")})

if may_run:
    with st.form("backup_now"):
        st.write("Take a backup now, store it in every target, and verify each copy (checksum and archive).")
        if st.form_submit_button("Back up now", type="primary"):
            with st.spinner("Backing up and verifying..."):
                result = _call("The backup failed", lambda s: service.run_backup(session=s, actor=user))
                if result is not None:
                    data.clear()
                    failed = [o for o in result.outcomes if not o.ok]
                    unverified = [v for v in result.verifications if not v.ok]
                    if result.ok and result.verified_ok:
                        flash(f"Backup {esc(result.id)} stored in {len(result.outcomes)} target(s) and verified in "
                              f"{len(result.verifications)} ({result.size_bytes / 1e6:.2f} MB, sha256 {result.sha256[:12]}...).")
                        st.rerun()
                    elif failed and len(failed) < len(result.outcomes):
                        st.warning(f"Backup {esc(result.id)} is stored in {len(result.outcomes) - len(failed)} of "
                                   f"{len(result.outcomes)} targets; failed: " + "; ".join(esc(o.error) for o in failed))
                    elif failed or not result.outcomes:
                        st.error(f"Backup {esc(result.id)} failed: {esc(result.error)}")
                    if unverified:
                        st.error(f"Backup {esc(result.id)}: {len(unverified)} of {len(result.verifications)} stored "
                                 "copies failed verification and do not count as backups: "
                                 + "; ".join(f"{esc(v.target)}: {esc(v.error)}" for v in unverified))

# --- history ---------------------------------------------------------------------------------
rows = data.backups()
st.subheader("Backups")
if not rows:
    st.info("No backups yet. The worker backs up daily; use \"Back up now\" for one right away.")
else:
    st.dataframe(pd.DataFrame([{
        "id": r["id"], "status": r["status"], "verification": r["verification"], "started (UTC)": r["started_at"],
        "size (MB)": None if r["size_bytes"] is None else round(r["size_bytes"] / 1e6, 2),
        "trigger": r["trigger"], "by": r["actor"], "error": r["error"] or "",
    } for r in rows]), hide_index=True, width="stretch",
        column_config={"started (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")})

    sizes = data.sizes()
    if len(sizes) > 1:
        st.markdown("**Size over time**")
        fig = px.line(sizes, x="started_at", y="size_bytes", markers=True, height=240)
        fig.update_layout(margin=dict(l=0, r=0, t=10, b=0), xaxis_title="", yaxis_title="bytes")
        st.plotly_chart(fig, width="stretch", key="backup_sizes")

    pres = data.presence(tuple(names))
    if not pres.empty:
        st.markdown("**Presence per target** (uploaded, failed, pruned or missing)")
        st.dataframe(pres, hide_index=True, width="stretch")

# --- drills and restores ---------------------------------------------------------------------
st.subheader("Drills and restores")
rest = data.restores()
if rest.empty:
    st.info("No restore yet. The worker runs a restore drill weekly (`python -m core restore drill`).")
else:
    st.dataframe(rest.rename(columns={"duration_seconds": "recovery time (s)"}), hide_index=True, width="stretch",
                 column_config={"backup_id": "backup", "started_at": when("started (UTC)"),
                                "actor": "by"})

stored = [r["id"] for r in rows if r["restorable"]]  # a copy that failed verification is never offered
LAST_RESTORE = "backups_last_restore"  # this person's last restore or drill report, shown after the rerun


def _keep_report(report, message: str) -> None:
    """Keep a restore's or drill's report for the next run (which lists it with the others), and rerun."""
    data.clear()
    st.session_state[LAST_RESTORE] = {
        "ok": report.ok, "skipped": list(report.skipped_targets), "message": message,
        "checks": [{"check": c.name, "expected": str(c.expected), "found": str(c.actual), "ok": c.ok}
                   for c in report.checks]}
    st.rerun()


if may_restore and st.button("Run a restore drill now", help="Restore the newest verified backup into a scratch "
                             "database, check it against its manifest, and drop it: what the worker does weekly."):
    st.session_state.pop(LAST_RESTORE, None)
    with st.spinner("Restoring the newest backup into a scratch database and checking it..."):
        report = _call("The drill could not run", lambda s: service.run_drill(session=s, actor=user))
        if report is not None:
            _keep_report(report, f"Drill of {esc(report.backup_id)} from {esc(report.target or '-')} "
                         + (f"passed in {report.duration_seconds:.1f}s: every check matches the manifest; "
                            "the scratch database was dropped." if report.ok else
                            f"FAILED: {esc(report.error or 'a check does not match the manifest')}."))

if may_run and rows:
    with st.form("verify_backup"):
        st.markdown("**Verify a backup again**: download every stored copy, compare its sha256 with the manifest, "
                    "and read the archive with pg_restore --list.")
        vid = st.selectbox("Backup to verify", [r["id"] for r in rows if r["status"] != "failed"], index=None,
                           placeholder="Choose a backup")
        if st.form_submit_button("Verify now"):
            if vid is None:
                st.error("Choose the backup to verify.")
            else:
                with st.spinner(f"Verifying {esc(vid)}..."):
                    outcomes = _call("Verification could not run",
                                     lambda s: service.verify_backup(session=s, actor=user, backup_id=vid))
                    if outcomes is not None:
                        data.clear()
                        bad = [o for o in outcomes if not o.ok]
                        flash(f"{esc(vid)}: " + (f"every copy verified ({len(outcomes)} target(s))." if not bad else
                              f"{len(bad)} of {len(outcomes)} copies FAILED verification: "
                              + "; ".join(f"{esc(o.target)}: {esc(o.error)}" for o in bad)))
                        st.rerun()

if may_restore:
    st.subheader("Restore into a scratch database")
    with st.form("restore"):
        backup_id = st.selectbox("Backup", stored, index=0 if stored else None, placeholder="no stored backup")
        into = st.text_input("New database name", value=f"restore_{datetime.now(timezone.utc):%Y%m%d_%H%M}",
                             key="restore_into",
                             help="lowercase letters, digits and _; it must not exist yet")
        if st.form_submit_button("Restore and verify"):
            st.session_state.pop(LAST_RESTORE, None)  # this attempt's outcome replaces the last one's
            if not backup_id:
                st.error("Pick a backup to restore.")
            else:
                with st.spinner(f"Restoring {esc(backup_id)} into {esc(into.strip())}..."):
                    report = _call("Restore refused or failed", lambda s: service.restore_into(
                        session=s, actor=user, backup_id=backup_id, into=into.strip()))
                    if report is not None:
                        _keep_report(report, f"Restored {esc(backup_id)} into {esc(report.into)} from "
                                     f"{esc(report.target)} in {report.duration_seconds:.1f}s: "
                                     + ("every check matches the manifest." if report.ok
                                        else "MISMATCH with the manifest."))
    last = st.session_state.get(LAST_RESTORE)
    if last:
        (st.success if last["ok"] else st.error)(last["message"])
        for note in last["skipped"]:
            st.warning(f"Skipped {esc(note)}")
        st.dataframe(pd.DataFrame(last["checks"]), hide_index=True, width="stretch")

    with st.expander("Recover the live database"):
        st.warning("This first makes the current database refuse writes and ends its other sessions (anyone saving "
                   "a form then gets an error), takes a safety backup, restores the chosen backup into a new "
                   "database, verifies it, and switches the console to it. If a step fails before the switch, the "
                   "current database takes writes again and stays in use. After the switch it is kept, read-only, "
                   "for inspection.")
        with st.form("recover"):
            rec_id = st.selectbox("Backup to recover from", stored, index=None, placeholder="choose a backup")
            confirm = st.text_input("Type the backup id to confirm")
            if st.form_submit_button("Recover", type="primary"):
                if not rec_id:
                    st.error("Pick a backup.")
                elif confirm.strip() != rec_id:
                    st.error("The typed id does not match the chosen backup; nothing was changed.")
                else:
                    with st.status("Recovering...", expanded=True) as status:
                        try:
                            with session_scope() as s:
                                result = service.recover_live(session=s, actor=user, backup_id=rec_id,
                                                              confirm=confirm,
                                                              progress=lambda msg: status.write(esc(msg)))
                        except Exception as exc:
                            status.update(label="Recovery stopped", state="error")
                            st.error(f"Recovery stopped, the console still uses the same database: {esc(exc)}")
                        else:
                            status.update(label=f"Recovered into {esc(result.new_database)}", state="complete")
                            data.clear()
                            st.success(f"The console now uses {esc(result.new_database)} (was "
                                       f"{esc(result.previous_database)}, now read-only). Pages and the worker follow by "
                                       "themselves: each new database session reads var/active-database.json, and "
                                       "the worker's connection to the old database was ended. Drop the old "
                                       "database once it is no longer needed.")
                            for warning in result.audit_warnings:
                                st.warning(esc(warning))

# --- retention -------------------------------------------------------------------------------
st.subheader("Retention")
st.write(Policy().describe() + ". The worker prunes after each daily backup.")
if may_run and st.button("Preview what a prune would delete"):
    plans = _call("Cannot preview the prune", lambda s: service.prune(session=s, actor=user, dry_run=True))
    if plans is not None:
        if not any(p.delete or p.errors for p in plans):
            st.info("Nothing to delete: every stored backup is kept by the policy.")
        st.dataframe(pd.DataFrame([{"target": p.target, "keep": len(p.keep), "would delete": ", ".join(p.delete),
                                    "errors": "; ".join(p.errors)} for p in plans]), hide_index=True, width="stretch")
