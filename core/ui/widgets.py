"""Shared widgets: KPI tiles, dependency banners, safe text."""

from __future__ import annotations

import streamlit as st

STATE_COLOURS = {"green": "#1a7f37", "amber": "#b7791f", "red": "#c53030", "none": "#718096", "few": "#718096"}
STATE_LABELS = {"green": "on target", "amber": "close to target", "red": "off target", "none": "no data",
                "few": "too few to trust (n<30)"}


def kpi_tile(tile: dict) -> None:
    """One scorecard tile: value, target, trend against the previous period, and its state."""
    from core.overview.kpis import format_value

    value, prev, unit = tile["value"], tile["previous"], tile["unit"]
    delta = None
    if value is not None and prev is not None:
        diff = value - prev
        if unit == "%":  # a change of a share is in percentage points, not a percent of it
            delta = f"{abs(diff) * 100:.2f} pp" if abs(diff) < 0.001 else f"{abs(diff) * 100:.1f} pp"
        elif unit == "/5":
            delta = f"{abs(diff):.2f}"
        else:
            delta = format_value(unit, abs(diff)) if unit != "" else f"{abs(diff):.0f}"
        # no change worth a digit ("0 min", "0.0 pp") is no trend arrow at all
        delta = None if not any(ch in "123456789" for ch in delta) else \
            ("+" if diff >= 0 else "-") + delta + " vs previous"
    with st.container(border=True):
        st.metric(tile["label"], format_value(unit, value), delta=delta,
                  delta_color="off" if tile["state"] == "few" else "normal" if tile["higher_is_better"] else "inverse",
                  help=tile["help"])
        colour = STATE_COLOURS[tile["state"]]
        target = format_value(unit, tile["target"])
        sign = ">" if tile["higher_is_better"] else "<"
        st.markdown(f"<span style='color:{colour};font-weight:600'>● {STATE_LABELS[tile['state']]}</span>"
                    f" · target {sign} {target}", unsafe_allow_html=True)
        if tile.get("note"):
            st.caption(tile["note"])
        if value is None and tile.get("reason"):
            st.caption(tile["reason"])


def dependency_banner(name: str, error: Exception | str) -> None:
    """A clear banner for a dependency that is down (never a traceback)."""
    st.error(f"{name} is not available: {error}", icon=":material/cloud_off:")


def field_errors(errors: dict[str, str]) -> None:
    """One message per bad field."""
    for field, message in errors.items():
        st.error(message if message else field)


def md_escape(text: str) -> str:
    """User text made safe for a Markdown-rendering element (headers, captions): every markup character escaped."""
    import re

    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", str(text))


def rows_key(name: str, ids) -> str:
    """The key of a selectable table showing rows `ids`: other rows (after a filter, a page turn or a change
    that moved some away) make a new table, so a selection never carries over by position onto rows the
    person did not pick."""
    import zlib

    return f"{name}_{zlib.crc32(','.join(map(str, ids)).encode()):08x}"


def when(column_label: str):
    """A timestamp column as the console shows time everywhere: "2026-11-30 06:34" (UTC)."""
    return st.column_config.DatetimeColumn(column_label, format="YYYY-MM-DD HH:mm")
