"""Aftercare console entry point: page config, login, role-based navigation."""

import streamlit as st

st.set_page_config(page_title="Aftercare", page_icon=":material/support_agent:", layout="wide")

from core.monitoring_hooks import init_error_tracking  # noqa: E402
from core.ui.releases import start_heartbeat  # noqa: E402
from core.ui.shell import main  # noqa: E402

init_error_tracking("app")
start_heartbeat()  # once per process: this replica's version for releases and the Releases page
main()
