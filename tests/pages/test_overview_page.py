"""The overview page through app.py (AppTest), and its KPI tile: an NPS over too few answers is never green."""

from __future__ import annotations

TILE = {"key": "nps", "label": "NPS", "unit": "", "target": 50, "value": 100.0, "previous": None, "state": "few",
        "reason": None, "note": "1 response · too few to trust (n<30)", "higher_is_better": True, "help": "h"}


def _tile(tile):
    from core.ui.widgets import kpi_tile

    kpi_tile(tile)


def test_an_nps_of_one_answer_shows_its_count_and_is_not_on_target():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_tile, args=(TILE,)).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.metric[0].value == "100"
    assert "1 response · too few to trust (n<30)" in [c.value for c in at.caption]
    state = at.markdown[0].value
    assert "too few to trust (n<30)" in state and "on target" not in state and "#1a7f37" not in state   # not green
    ok = AppTest.from_function(_tile, args=({**TILE, "state": "green", "value": 56.7, "note": "30 responses"},)).run()
    assert "on target" in ok.markdown[0].value and "30 responses" in [c.value for c in ok.caption]


def test_the_overview_shows_the_nps_count_and_which_months_churn_covers(app_as):
    at = app_as("admin")
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Overview"
    assert "Monthly churn" in [m.label for m in at.metric]
    captions = [c.value for c in at.caption]
    assert any(c.endswith(" responses") or "responses · too few to trust" in c or c == "1 response" for c in captions)
    assert any(c.startswith("month ") or c.startswith("average of ") for c in captions), captions


def test_a_tile_says_how_much_a_share_moved_in_points_and_shows_no_arrow_for_no_change():
    from streamlit.testing.v1 import AppTest

    churn = {**TILE, "key": "logo_churn", "label": "Monthly churn", "unit": "%", "target": 0.05, "state": "red",
             "value": 0.135, "previous": 0.057, "higher_is_better": False, "note": None}
    at = AppTest.from_function(_tile, args=(churn,)).run()
    assert at.metric[0].value == "13.5%" and at.metric[0].delta == "+7.8 pp vs previous"
    same = AppTest.from_function(_tile, args=({**churn, "key": "first_response_median_minutes", "unit": "min",
                                               "value": 61.2, "previous": 61.0},)).run()
    assert same.metric[0].value == "61 min" and not same.metric[0].delta
    csat = AppTest.from_function(_tile, args=({**churn, "unit": "/5", "value": 4.3, "previous": 4.1},)).run()
    assert csat.metric[0].delta == "+0.20 vs previous"

