"""Overview: the scorecard of every target, with trends over the chosen period."""

import pandas as pd
import plotly.express as px
import streamlit as st

from core.auth.roles import Permission
from core.ui import overview as data
from core.ui.context import page_user, show_flash
from core.ui.widgets import kpi_tile

user = page_user(Permission.VIEW_OVERVIEW)
st.title("Overview")
show_flash()  # e.g. "Follow-up #11 done." after the list below
days = st.segmented_control("Period", options=[7, 30, 90], default=30, format_func=lambda d: f"Last {d} days",
                            key="overview_period") or 30
tiles = data.scorecard(days)
cols = st.columns(4)
for i, tile in enumerate(tiles):
    with cols[i % 4]:
        kpi_tile(tile)

st.subheader("Tickets per day")
daily = pd.DataFrame(data.daily_tickets(days))
if daily.empty:
    st.info("No tickets yet.")
else:
    # (plotly ignores an empty column name as `color`: both series would be drawn as one line)
    fig = px.line(daily.melt(id_vars="day", value_vars=["created", "solved"], var_name="series", value_name="tickets"),
                  x="day", y="tickets", color="series", height=300)
    fig.update_layout(margin=dict(l=0, r=0, t=10, b=0), legend_title_text="")
    st.plotly_chart(fig, width="stretch")

from core.ui.feedback import render_my_followups  # noqa: E402  (the owner's open detractor follow-ups)

render_my_followups(user)
