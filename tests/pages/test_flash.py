"""A message after a write survives a run that a component starts right after the one that drew it, and is
gone on a later interaction."""

from streamlit.testing.v1 import AppTest


def _app():
    import streamlit as st

    from core.ui.context import flash, show_flash

    show_flash()
    if st.button("Save"):
        flash("Thanks! Your request AC-12 was received.")
        st.rerun()


def test_the_message_outlives_an_immediate_extra_run_and_then_goes(monkeypatch):
    from core.ui import context

    monkeypatch.setattr(context, "FLASH_SECONDS", 600.0)  # a stalled CI machine must not age it out early
    at = AppTest.from_function(_app)
    at.run()
    at.button[0].click().run()
    assert [s.value for s in at.success] == ["Thanks! Your request AC-12 was received."]
    at.run()  # e.g. the login cookie component's rerun, right after
    assert [s.value for s in at.success] == ["Thanks! Your request AC-12 was received."]
    monkeypatch.setattr(context, "FLASH_SECONDS", 0.0)
    at.run()  # the person's next interaction, later
    assert [s.value for s in at.success] == []
