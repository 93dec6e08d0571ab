"""Monitoring: request rate, error rate, latency percentiles, agent executions, LLM cost and uptime, from Prometheus."""

import plotly.express as px
import streamlit as st

from core.auth.roles import Permission
from core.monitoring.errors import MonitoringUnavailable, QueryError
from core.monitoring.queries import PANELS
from core.ui import monitoring as data
from core.ui.context import page_user
from core.ui.widgets import md_escape

page_user(Permission.VIEW_MONITORING)
st.title("Monitoring")
st.caption("Every chart is one PromQL range query (aggregated by Prometheus). Targets: uptime over 99.9%, "
           "error rate under 0.1%.")

start, end = data.range_picker("monitoring")

try:
    uptime = data.uptime_table(end)
except MonitoringUnavailable as exc:
    data.unavailable_banner(exc)
    st.stop()
except QueryError as exc:
    st.error(md_escape(str(exc)))
    uptime = None

st.subheader("Uptime per probe")
if uptime is None or uptime.empty:
    st.info("No uptime probe has reported yet (the worker probes PROBE_URLS every 15 s).")
else:
    st.dataframe(uptime, hide_index=True, width="stretch",
                 column_config={w: st.column_config.NumberColumn(w, format="percent") for w in ("24h", "7d", "30d")})

FORMATS = {"ratio": ".2%", "s": ".2f", "req/s": ".1f", "per min": ".1f", "$/h": "$.2f"}
cols = st.columns(2)
for n, panel in enumerate(PANELS):
    with cols[n % 2]:
        try:
            frame = data.panel_frame(panel.key, start, end)
        except MonitoringUnavailable as exc:
            data.unavailable_banner(exc)
            st.stop()
        except QueryError as exc:
            st.error(f"{panel.title}: {exc}")
            continue
        st.markdown(f"**{panel.title}** ({panel.unit})")
        if frame.empty:
            st.caption("No data in this range.")
            continue
        fig = px.line(frame, x="time", y="value", color="series", height=280)
        fig.update_layout(margin=dict(l=0, r=0, t=10, b=0), legend_title_text="", xaxis_title="", yaxis_title="")
        fig.update_yaxes(tickformat=FORMATS.get(panel.unit, ""), rangemode="tozero")
        st.plotly_chart(fig, width="stretch", key=f"chart_{panel.key}")
