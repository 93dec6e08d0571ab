"""SLA: breached and at-risk tickets now, compliance by week/team/agent/priority/category, business-time percentiles."""

import pandas as pd
import plotly.express as px
import streamlit as st

from core.auth.roles import Permission
from core.config import get_settings
from core.ui import sla as data
from core.ui.context import page_user

user = page_user(Permission.VIEW_SLA)
st.title("SLA")
st.caption("Times are business minutes as each ticket's policy counts them (calendar hours, pauses while pending). "
           "Compliance = met / (met + breached).")

breached = data.live("breached")
at_risk = data.live("at_risk")
c1, c2 = st.columns(2)
c1.metric("Breached now", len(breached))
c2.metric("At risk now", len(at_risk))

tab_b, tab_r, tab_c = st.tabs(["Breached now", "At risk now", "Compliance"], key="sla_tab", on_change="rerun")
with tab_b:
    if breached:
        st.dataframe(pd.DataFrame(breached), hide_index=True, width="stretch")
    else:
        st.success("No open ticket has missed a target.")
with tab_r:
    if at_risk:
        st.dataframe(pd.DataFrame(at_risk), hide_index=True, width="stretch")
    else:
        st.info("No open ticket is inside its warn-before window.")

with tab_c:
    f1, f2 = st.columns(2)
    by = f1.selectbox("Group by", ["week", "team", "agent", "priority", "category"])
    days = f2.selectbox("Tickets created in the last", [7, 30, 90, 180, 365], index=2,
                        format_func=lambda d: f"{d} days")
    rep = data.report(by, days, get_settings().business_timezone)
    o = rep["overall"]

    def pct(v):
        return "n/a" if v is None else f"{v:.0%}"

    def mins(v):
        return "n/a" if v is None else (f"{v / 60:.1f} h" if v >= 90 else f"{v:.0f} min")

    k = st.columns(4)
    k[0].metric("First-response compliance", pct(o["fr_compliance"]), help=f"{o['fr_met']} met, {o['fr_breached']} breached")
    k[1].metric("Resolution compliance", pct(o["res_compliance"]), help=f"{o['res_met']} met, {o['res_breached']} breached")
    k[2].metric("First response median / p90", f"{mins(o['fr_median'])} / {mins(o['fr_p90'])}")
    k[3].metric("Resolution median / p90", f"{mins(o['res_median'])} / {mins(o['res_p90'])}")

    comp = pd.DataFrame(rep["compliance"])
    perc = pd.DataFrame(rep["percentiles"])
    if comp.empty:
        st.info("No tickets with SLA data in this period.")
    else:
        table = comp.merge(perc, on="key", how="left").rename(columns={
            "key": by, "fr_met": "first response met", "fr_breached": "first response breached",
            "fr_compliance": "first response compliance", "res_met": "resolution met",
            "res_breached": "resolution breached", "res_compliance": "resolution compliance",
            "fr_median": "first response median (min)", "fr_p90": "first response p90 (min)",
            "res_median": "resolution median (min)", "res_p90": "resolution p90 (min)"})
        chart = comp.melt(id_vars="key", value_vars=["fr_compliance", "res_compliance"], var_name="target",
                          value_name="compliance").replace({"fr_compliance": "first response",
                                                            "res_compliance": "resolution"})
        fig = px.bar(chart, x="key", y="compliance", color="target", barmode="group", labels={"key": by},
                     range_y=[0, 1])
        fig.update_yaxes(tickformat=".0%")
        st.plotly_chart(fig, width="stretch")
        st.dataframe(table, hide_index=True, width="stretch",
                     column_config={c: st.column_config.NumberColumn(format="percent")
                                    for c in ("first response compliance", "resolution compliance")})
        st.download_button("Download CSV", table.to_csv(index=False).encode(), file_name=f"sla_compliance_by_{by}.csv",
                           mime="text/csv")

    st.subheader("Distribution (business time, stopped clocks)")
    d1, d2 = st.columns(2)
    for col, key, title in ((d1, "fr_dist", "Time to first response"), (d2, "res_dist", "Time to resolution")):
        dist = pd.DataFrame(rep[key])
        col.plotly_chart(px.bar(dist, x="bucket", y="tickets", title=title), width="stretch")
